"""The platform library's module path of the ksqlDB client (``openfactory.kafka.ksql``).

``KSQLDBClient`` is ``openfactory.kafka.ksqldb.KSQLDBClient``; ``KSQLDBClientException`` is
``openfactory.errors.KSQLDBError``, the one class every failure of the client (and of the fake
ksqlDB) raises.
"""

from openfactory.errors import KSQLDBClientException
from openfactory.kafka.ksqldb import KSQLDBClient

__all__ = ["KSQLDBClient", "KSQLDBClientException"]
