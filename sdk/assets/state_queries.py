"""The ksqlDB half of ``Asset``'s state: loading it at start, querying one attribute."""

from __future__ import annotations

import logging
import threading
from typing import Any

from openfactory.assets.attribute import AssetAttribute
from openfactory.errors import ConfigurationError, KSQLDBError
from openfactory.transport import Transport
from openfactory.transport.wire import ASSETS_TABLE, ksql_string

logger = logging.getLogger("openfactory.assets")


def _ksql_value(value: Any, type_: str) -> Any:
    """ksqlDB holds VALUE as a string; give samples back as numbers where they are numbers."""
    if type_ == "Samples" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


class AssetStateQueries:
    """Reads an asset's attributes from the ``assets`` table through the transport."""

    asset_uuid: str
    _transport: Transport
    _state: dict[str, AssetAttribute]
    _lock: threading.RLock

    def _load_state(self) -> None:
        sql = (
            f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM {ASSETS_TABLE} "
            f"WHERE ASSET_UUID={ksql_string(self.asset_uuid)};"
        )
        try:
            rows = self._transport.query(sql)
        except KSQLDBError as err:
            logger.warning("asset %s: could not load state from ksqlDB: %s", self.asset_uuid, err)
            return
        with self._lock:
            for row in rows:
                if row.get("ID") in self._state:
                    continue  # the live feed already brought a newer value
                try:
                    self._state[row["ID"]] = self._row_attribute(row)
                except (ConfigurationError, KeyError) as err:
                    logger.warning(
                        "asset %s: ignoring ksqlDB row %r (%s)", self.asset_uuid, row, err
                    )

    @staticmethod
    def _row_attribute(row: dict[str, Any]) -> AssetAttribute:
        type_ = row.get("TYPE") or "UNAVAILABLE"
        return AssetAttribute(
            _ksql_value(row.get("VALUE"), type_),
            type_,
            row.get("TAG") or "UNAVAILABLE",
            row.get("TIMESTAMP") or "",
            row["ID"],
        )

    def _query_attribute(self, attribute_id: str) -> AssetAttribute:
        sql = (
            f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM {ASSETS_TABLE} "
            f"WHERE ASSET_UUID={ksql_string(self.asset_uuid)} AND ID={ksql_string(attribute_id)};"
        )
        rows = self._transport.query(sql)
        return self._row_attribute(rows[0]) if rows else AssetAttribute.unavailable(attribute_id)
