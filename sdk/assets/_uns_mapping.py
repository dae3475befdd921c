"""``UNSMapping``: which asset a UNS id names, from ksqlDB's ``asset_to_uns_map`` table, kept
current by following the records of the mapping's topic."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from openfactory.transport import Record, Subscription, Transport
from openfactory.transport.wire import UNS_MAP_RAW_TABLE, UNS_MAP_TABLE, ksql_string

logger = logging.getLogger("openfactory.assets")


class UNSMapping:
    """The asset UUID that UNS id ``uns_id`` maps to (``current``, ``None`` when unmapped).

    ``refresh()`` asks ksqlDB; ``watch()`` also follows the mapping topic (the records the
    deployer and the deregistration publish, keyed by asset UUID) and calls
    ``on_change(asset_uuid or None)`` when the mapping moves, until ``stop()``.
    """

    def __init__(
        self, uns_id: str, transport: Transport, on_change: Callable[[str | None], None]
    ) -> None:
        self._uns_id = uns_id
        self._transport = transport
        self._on_change = on_change
        self._lock = threading.Lock()
        self._subscription: Subscription | None = None
        self.current: str | None = None

    @property
    def watching(self) -> bool:
        """True between ``watch()`` and ``stop()``."""
        return self._subscription is not None

    def query(self) -> str | None:
        """The mapped asset UUID as ksqlDB holds it now; raises ``KSQLDBError``."""
        sql = f"SELECT asset_uuid FROM {UNS_MAP_TABLE} WHERE uns_id={ksql_string(self._uns_id)};"
        rows = self._transport.query(sql)
        found = rows[0].get("ASSET_UUID") if rows else None
        return found if isinstance(found, str) and found else None

    def refresh(self) -> str | None:
        """Set ``current`` from ksqlDB and return it; raises ``KSQLDBError``."""
        found = self.query()
        with self._lock:
            self.current = found
        return found

    def watch(self) -> None:
        """Follow the mapping topic, then read the mapping from ksqlDB (in that order, so no
        change falls between the two). Raises ``KSQLDBError``, ``TransportError``."""
        topic = self._transport.topic_for(UNS_MAP_RAW_TABLE)
        self._subscription = self._transport.subscribe(topic, None, self._on_record)
        found = self.query()
        with self._lock:
            if self.current is None:  # else a record already brought a newer mapping
                self.current = found

    def stop(self) -> None:
        """Stop following the mapping topic (idempotent)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.stop()

    def _on_record(self, record: Record) -> None:
        uns_id = self._uns_id_of(record)
        with self._lock:
            previous = self.current
            if uns_id == self._uns_id and record.key != previous:
                self.current = record.key
            elif uns_id != self._uns_id and record.key == previous:
                self.current = None  # the asset was unmapped (deregistered, or renamed)
            changed = self.current != previous
            current = self.current
        if changed:
            logger.info("UNS asset %s now maps to asset %s", self._uns_id, current)
            self._on_change(current)

    @staticmethod
    def _uns_id_of(record: Record) -> str | None:
        try:
            value = record.json()
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None  # a tombstone: the mapping of that asset is gone
        # Written as UNS_ID by the deployer and as uns_id by the deregistration.
        found = next((v for k, v in value.items() if str(k).upper() == "UNS_ID"), None)
        return found if isinstance(found, str) else None
