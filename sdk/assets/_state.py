"""``AssetState``: the attributes of one asset as this process knows them, the lock that guards
them, and how they are loaded from and queried in ksqlDB."""

from __future__ import annotations

import logging
import operator
import threading
from collections.abc import Callable
from typing import Any

from openfactory import _clock
from openfactory.assets.attribute import AssetAttribute
from openfactory.errors import ConfigurationError, KSQLDBError
from openfactory.transport import Transport
from openfactory.transport.wire import ASSETS_TABLE, ksql_string

logger = logging.getLogger("openfactory.assets")

# How often wait_until(use_ksqlDB=True) asks ksqlDB again: its table changes without notice.
_POLL_INTERVAL = 0.05


class AssetState:
    """Attribute id -> current ``AssetAttribute`` of asset ``asset_uuid``; ksqlDB via ``transport``.

    Who writes, and under which lock: ``store`` (the asset's own publishes and their echoes) is
    one dict store and takes no lock, a single dict operation being atomic; ``store_received``
    (records decoded from the broker) and ``load`` (ksqlDB rows) take the lock, because ``load``
    checks then sets and must not overwrite a newer value the feed brought in between. The lock
    is also the condition ``wait_until`` sleeps on.
    """

    def __init__(self, asset_uuid: str, transport: Transport) -> None:
        self._asset_uuid = asset_uuid
        self._transport = transport
        self._values: dict[str, AssetAttribute] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._waiting = 0  # threads in wait_until: nobody to notify most of the time
        # get(attribute_id): the current value, None if the asset has no such attribute. The
        # dict's own method: every attribute read by name comes here, one call frame saved.
        self.get: Callable[[str], AssetAttribute | None] = self._values.get

    # reading ----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, AssetAttribute]:
        """A copy of every attribute, taken at one instant."""
        with self._lock:
            return dict(self._values)

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ...}]`` for every attribute of TYPE ``type_``."""
        return [
            {"ID": name, "VALUE": attr.value}
            for name, attr in self.snapshot().items()
            if attr.type == type_
        ]

    # writing ----------------------------------------------------------------------------
    def store(self, attribute_id: str, attribute: AssetAttribute) -> None:
        """Make ``attribute`` the current value of ``attribute_id``: no lock, see the class docs."""
        self._values[attribute_id] = attribute
        if self._waiting:
            with self._changed:
                self._changed.notify_all()

    def store_received(self, attribute: AssetAttribute) -> None:
        """Store an attribute decoded from the broker, under the lock ``load`` checks under."""
        with self._lock:
            self.store(attribute.id or "", attribute)

    # ksqlDB -----------------------------------------------------------------------------
    def load(self) -> None:
        """Fill the state from ksqlDB's ``assets`` table, keeping any value the feed already
        brought. A ksqlDB error is logged and leaves the state as it is: the feed fills it."""
        sql = (
            f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM {ASSETS_TABLE} "
            f"WHERE ASSET_UUID={ksql_string(self._asset_uuid)};"
        )
        try:
            rows = self._transport.query(sql)
        except KSQLDBError as err:
            logger.warning("asset %s: could not load state from ksqlDB: %s", self._asset_uuid, err)
            return
        with self._lock:
            for row in rows:
                if row.get("ID") in self._values:
                    continue  # the live feed already brought a newer value
                try:
                    self._values[row["ID"]] = _row_attribute(row)
                except (ConfigurationError, KeyError) as err:
                    logger.warning(
                        "asset %s: ignoring ksqlDB row %r (%s)", self._asset_uuid, row, err
                    )

    def query_attribute(self, attribute_id: str) -> AssetAttribute:
        """``attribute_id`` as ksqlDB holds it now (``UNAVAILABLE`` if it has no such row).

        Raises ``KSQLDBError`` when ksqlDB cannot answer.
        """
        sql = (
            f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM {ASSETS_TABLE} "
            f"WHERE ASSET_UUID={ksql_string(self._asset_uuid)} "
            f"AND ID={ksql_string(attribute_id)};"
        )
        rows = self._transport.query(sql)
        return _row_attribute(rows[0]) if rows else AssetAttribute.unavailable(attribute_id)

    # waiting ----------------------------------------------------------------------------
    def wait_until(
        self,
        attribute_id: str,
        value: Any,
        comparison: Callable[[Any, Any], bool] = operator.eq,
        timeout: float = 30,
        use_ksqlDB: bool = False,
    ) -> bool:
        """Wait until ``comparison(attribute value, value)`` holds; False after ``timeout`` s.

        ``use_ksqlDB`` reads the value from ksqlDB (polled) instead of this state.
        """
        deadline = _clock.monotonic() + timeout

        def current() -> Any:
            if use_ksqlDB:
                return self.query_attribute(attribute_id).value
            return self._values.get(attribute_id, AssetAttribute.unavailable()).value

        with self._changed:
            self._waiting += 1
            try:
                while not comparison(current(), value):
                    remaining = deadline - _clock.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(min(remaining, _POLL_INTERVAL) if use_ksqlDB else remaining)
            finally:
                self._waiting -= 1
        return True


def _ksql_value(value: Any, type_: str) -> Any:
    """ksqlDB holds VALUE as a string; give samples back as numbers where they are numbers."""
    if type_ == "Samples" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _row_attribute(row: dict[str, Any]) -> AssetAttribute:
    type_ = row.get("TYPE") or "UNAVAILABLE"
    return AssetAttribute(
        _ksql_value(row.get("VALUE"), type_),
        type_,
        row.get("TAG") or "UNAVAILABLE",
        row.get("TIMESTAMP") or "",
        row["ID"],
    )
