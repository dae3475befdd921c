"""Moved to ``openfactory.testing.loopback.ksqldb_server``; this path keeps working (also with
``python -m``)."""

import sys

from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer, main

__all__ = ["FakeKSQLDBServer", "main"]

if __name__ == "__main__":
    sys.exit(main())
