"""``AssetState``: the attributes of one asset as this process knows them, the lock that guards
them, and how they are loaded from and queried in ksqlDB."""

from __future__ import annotations

import logging
import operator
import re
import threading
from collections.abc import Callable
from typing import Any

from openfactory import _clock
from openfactory.assets.attribute import UNAVAILABLE, AssetAttribute, read_attribute, sample_value
from openfactory.errors import ConfigurationError, KSQLDBError
from openfactory.transport import Transport
from openfactory.transport.wire import ASSETS_TABLE, ASSETS_TYPE_TABLE, ksql_string

logger = logging.getLogger("openfactory.assets")

# How often wait_until(use_ksqlDB=True) asks ksqlDB again: its table changes without notice.
_POLL_INTERVAL = 0.05
# What samples()/events()/conditions() strip from a TAG: XML namespaces such as
# {urn:mtconnect.org:MTConnectStreams:2.0}.
_NAMESPACE = re.compile(r"\{.*?\}")


class AssetState:
    """Attribute id -> current ``AssetAttribute`` of the asset whose ksqlDB rows are those of
    ``table`` where column ``id_column`` is ``asset_id`` (keys ``<asset_id>|<attribute id>``);
    ksqlDB via ``transport``.

    Who writes, and under which lock: ``store`` (the asset's own publishes and their echoes) is
    one dict store and takes no lock, a single dict operation being atomic; ``store_received``
    (records decoded from the broker) and ``load`` (ksqlDB rows) take the lock, because ``load``
    checks then sets and must not overwrite a newer value the feed brought in between. The lock
    is also the condition ``wait_until`` sleeps on.
    """

    def __init__(
        self,
        asset_id: str,
        transport: Transport,
        table: str = ASSETS_TABLE,
        id_column: str = "asset_uuid",
    ) -> None:
        self._asset_uuid = asset_id
        self._transport = transport
        self._table = table
        self._id_column = id_column
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
        """``[{"ID": ..., "VALUE": ..., "TAG": ...}]`` for every attribute of TYPE ``type_``:
        TAG without its ``{namespace}`` groups, samples as read by name (numeric text: float)."""
        return [
            {
                "ID": name,
                "VALUE": sample_value(attr.value) if type_ == "Samples" else attr.value,
                "TAG": _NAMESPACE.sub("", attr.tag).strip(),
            }
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
    def load(self, overwrite: bool = False) -> None:
        """Fill the state from the asset's ksqlDB rows, keeping any value the feed already
        brought (``overwrite``: replacing it; attributes are never removed). A ksqlDB error is
        logged and leaves the state as it is: the feed fills it."""
        sql = (
            f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM {self._table} "
            f"WHERE {self._id_column}={ksql_string(self._asset_uuid)};"
        )
        try:
            rows = self._transport.query(sql)
        except KSQLDBError as err:
            logger.warning("asset %s: could not load state from ksqlDB: %s", self._asset_uuid, err)
            return
        with self._lock:
            for row in rows:
                if not overwrite and row.get("ID") in self._values:
                    continue  # the live feed already brought a newer value
                try:
                    self._values[row["ID"]] = _row_attribute(row)
                except (ConfigurationError, KeyError) as err:
                    logger.warning(
                        "asset %s: ignoring ksqlDB row %r (%s)", self._asset_uuid, row, err
                    )
            if overwrite and self._waiting:
                self._changed.notify_all()

    def query_attribute(self, attribute_id: str) -> AssetAttribute:
        """``attribute_id`` as ksqlDB holds it now (``UNAVAILABLE`` if it has no such row).

        Raises ``KSQLDBError`` when ksqlDB cannot answer.
        """
        found = self.query_row(attribute_id)
        return AssetAttribute.unavailable(attribute_id) if found is None else found

    def query_row(self, attribute_id: str) -> AssetAttribute | None:
        """``attribute_id`` as ksqlDB holds it now, ``None`` if it has no such row.

        Raises ``KSQLDBError`` when ksqlDB cannot answer.
        """
        key = ksql_string(f"{self._asset_uuid}|{attribute_id}")
        sql = f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM {self._table} WHERE key={key};"
        rows = self._transport.query(sql)
        return _row_attribute({**rows[0], "ID": attribute_id}) if rows else None

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
            attribute = self._values.get(attribute_id)
            return UNAVAILABLE if attribute is None else read_attribute(attribute).value

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


def query_asset_type(transport: Transport, asset_uuid: str) -> str:
    """The type of asset ``asset_uuid`` in ksqlDB's ``assets_type`` table (``OpenFactoryApp``,
    ``Device``, ...), ``UNAVAILABLE`` when it has none. Raises ``KSQLDBError``."""
    sql = f"SELECT TYPE FROM {ASSETS_TYPE_TABLE} WHERE ASSET_UUID={ksql_string(asset_uuid)};"
    rows = transport.query(sql)
    type_ = rows[0].get("TYPE") if rows else None
    return type_ if isinstance(type_, str) else UNAVAILABLE


def _row_attribute(row: dict[str, Any]) -> AssetAttribute:
    type_ = row.get("TYPE") or "UNAVAILABLE"
    # ksqlDB holds VALUE as text: samples are numbers where they are numbers.
    value = row.get("VALUE")
    return AssetAttribute(
        value=sample_value(value) if type_ == "Samples" else value,
        type=type_,
        tag=row.get("TAG") or "UNAVAILABLE",
        timestamp=row.get("TIMESTAMP") or "",
        id=row["ID"],
    )
