"""The fake ksqlDB's state tables (reference §9.5), kept up to date from the records of their
topics, and the row look-ups pull queries make.

Asset records are the bulk of what a broker carries (every attribute update of every app), and
most are never queried before a newer value replaces them. A record in exactly the layout the
SDK writes (``openfactory.transport.wire.asset_record``) is therefore only noted as the latest of
its ``(asset, attribute)`` and read into the ``assets`` table when a query needs it, in the order
the records came: the tables a query sees are the ones reading every record at once would give.
The attributes that also feed another table (``avail``, ``AssetType``, ...) update that table at
once. Anything else on the topic (another layout, a tombstone, garbage) is read at once, after
what is noted.

Look-ups by a table's key, and of the ``assets`` rows of one asset, go through an index: they
cost the same with ten assets or ten thousand.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from openfactory.testing.memory._catalog import (
    ASSETS,
    ASSETS_TOPIC,
    ASSETS_TYPE,
    ASSETS_UNS,
    ASSETS_UNS_TOPIC,
    DELETE,
    DERIVED,
    SOURCES,
    TABLE_FEEDS,
    Source,
)
from openfactory.testing.memory._columns import READERS, Row, as_string, json_fields, read_state
from openfactory.transport import Record

logger = logging.getLogger("openfactory.testing.memory.ksqldb")

# The SDK's asset-record layout (json.dumps of ID, VALUE, TAG, TYPE, attributes.timestamp, ASCII
# only), matched whole: a record that matches is valid JSON whose fields are the groups ID,
# VALUE, TAG, TYPE and timestamp, as written (VALUE a string, a number or a literal; an object or
# array VALUE is read the long way). Read from the groups, a row costs a third of json.loads.
_STRING = rb'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+"'
_NUMBER = rb"-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?(?:[eE][-+]?[0-9]++)?"
_SCALAR = rb"(?:" + _STRING + rb"|" + _NUMBER + rb"|true|false|null|NaN|-?Infinity)"
_SDK_LAYOUT = re.compile(
    rb'\{"ID": "([\x20\x21\x23-\x5b\x5d-\x7e]*+)", "VALUE": (' + _SCALAR + rb'), "TAG": ('
    + _STRING + rb'), "TYPE": (' + _STRING + rb'), "attributes": \{"timestamp": (' + _STRING
    + rb")\}\}"
).fullmatch  # fmt: skip
# Attributes that feed a table besides ``assets``: that table is updated at once (they are few).
_FEEDING = frozenset(attr.encode() for attr in (*DERIVED, "AssetType"))


class StateTables:
    """Every queryable table's rows, fed by ``feeds()``; ``lock`` guards them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rows: dict[str, dict[str, Row]] = {s.name: {} for s in SOURCES if s.queryable}
        # Asset records update the assets table and its single-value companions: bound once,
        # as they are looked up on every record an app publishes.
        self._assets_rows = self.rows[ASSETS.name]
        self._types_rows = self.rows[ASSETS_TYPE.name]
        self._derived_rows = {attr: self.rows[table] for attr, (table, *_) in DERIVED.items()}
        self._by_asset: dict[str, dict[str, Row]] = {}  # ASSET_UUID -> its assets rows by KEY
        # (asset, attribute id) -> the latest record not yet read into the assets table.
        self._noted: dict[tuple[str, bytes], re.Match[bytes]] = {}
        self._assets_read: dict[int, int] = {}  # partition -> last offset taken
        self._applied: dict[tuple[str, int], int] = {}  # the same for the other topics

    def feeds(self) -> dict[str, Callable[[Record], None]]:
        """Topic -> the callback that takes its records into the tables."""
        feeds: dict[str, Callable[[Record], None]] = {
            ASSETS_TOPIC: self._on_asset_record,
            ASSETS_UNS_TOPIC: self._on_uns_record,
        }
        for topic, table in TABLE_FEEDS.items():
            feeds[topic] = partial(self._on_table_record, table)
        return feeds

    # queries ----------------------------------------------------------------------------
    def select(self, source: Source, tests: list[tuple[str, bool, Any]]) -> list[Row]:
        """The rows of ``source`` for which every ``(column, equal, value)`` test holds (a NULL
        column never does), in the order they were first inserted."""
        with self.lock:
            self._read_noted()
            candidates = self._candidates(source, tests)
        return [
            row
            for row in candidates
            if all(row[c] is not None and (row[c] == v) is equal for c, equal, v in tests)
        ]

    def sizes(self) -> dict[str, int]:
        """Table name -> number of rows."""
        with self.lock:
            self._read_noted()
            return {name: len(rows) for name, rows in self.rows.items()}

    def _candidates(self, source: Source, tests: list[tuple[str, bool, Any]]) -> list[Row]:
        rows = self.rows[source.name]
        narrowed: list[Row] | None = None
        for column, equal, value in tests:
            if not equal:
                continue
            if column == source.key:
                row = rows.get(value)
                return [] if row is None else [row]
            if source is ASSETS and column == "ASSET_UUID":
                narrowed = list(self._by_asset.get(value, {}).values())
        return list(rows.values()) if narrowed is None else narrowed

    # feeds ------------------------------------------------------------------------------
    def _on_asset_record(self, record: Record) -> None:
        # Every record an app publishes comes through here: kept short.
        value, key = record.value, record.key
        match = _SDK_LAYOUT(value) if value is not None and key is not None else None
        with self.lock:
            taken, partition, offset = self._assets_read, record.partition, record.offset
            if offset <= taken.get(partition, -1):
                return  # seen already (the replay at start overlaps the live feed)
            taken[partition] = offset
            if match is not None:
                self._noted[(key, match[1])] = match  # type: ignore[index]
                if match[1] in _FEEDING:
                    # Its companion table (assets_avail, assets_type, ...) at once; its row of
                    # the assets table, like any other, when a query needs it.
                    self._store_companion(key, _layout_row(key, match))  # type: ignore[arg-type]
                return
            self._read_noted()
            self._read_asset_record(record)

    def _read_noted(self) -> None:
        """Read the noted asset records into the assets table (call with the lock held)."""
        if not self._noted:
            return
        noted, self._noted = self._noted, {}
        for (asset, _), match in noted.items():
            self._store_assets_row(asset, _layout_row(asset, match))

    def _read_asset_record(self, record: Record) -> None:
        if record.value is None:
            return  # a stream has no use for tombstones
        fields = json_fields(record) or {}
        asset, attr = record.key, fields.get("ID")
        if asset is None or not isinstance(attr, str):
            logger.warning("ignoring %r: not an asset record (a keyed JSON object with an ID)",
                           record)  # fmt: skip
            return
        row: Row = {"KEY": f"{asset}|{attr}", "ASSET_UUID": asset, "ID": attr}
        read_state(fields, row)
        self._store_asset_row(asset, row)

    def _store_asset_row(self, asset: str, row: Row) -> None:
        self._store_assets_row(asset, row)
        self._store_companion(asset, row)

    def _store_assets_row(self, asset: str, row: Row) -> None:
        key = row["KEY"]
        self._assets_rows[key] = row
        by_asset = self._by_asset.get(asset)
        if by_asset is None:
            by_asset = self._by_asset[asset] = {}
        by_asset[key] = row

    def _store_companion(self, asset: str, row: Row) -> None:
        """The row of the table an asset row's attribute feeds besides ``assets``, if any."""
        attr, value = row["ID"], row["VALUE"]
        if attr == "AssetType" and row["TYPE"] == "OpenFactory":
            if value == DELETE:
                self._types_rows.pop(asset, None)
            else:
                self._types_rows[asset] = {"ASSET_UUID": asset, "TYPE": value}
        elif attr in DERIVED:
            _, column, deletes = DERIVED[attr]
            if deletes and value == DELETE:
                self._derived_rows[attr].pop(asset, None)
            else:
                self._derived_rows[attr][asset] = {"ASSET_UUID": asset, column: value}

    def _fresh(self, record: Record) -> bool:
        """True the first time a record (topic, partition, offset) is seen."""
        position = (record.topic, record.partition)
        if record.offset <= self._applied.get(position, -1):
            return False
        self._applied[position] = record.offset
        return True

    def _on_uns_record(self, record: Record) -> None:
        with self.lock:
            if not self._fresh(record) or record.value is None:
                return  # a stream has no use for tombstones
            fields = json_fields(record) or {}
            uns_id, attr = record.key, fields.get("ID")
            if uns_id is None or not isinstance(attr, str):
                logger.warning("ignoring %r: not a UNS asset record (a JSON object with an ID, "
                               "keyed by UNS id)", record)  # fmt: skip
                return
            row: Row = {
                "KEY": f"{uns_id}|{attr}",
                "ASSET_UUID_KEY": as_string(fields.get("ASSET_UUID_KEY")),
                "UNS_ID": uns_id,
                "ASSET_UUID": as_string(fields.get("ASSET_UUID")),
                "ID": attr,
            }
            read_state(fields, row)
            self.rows[ASSETS_UNS.name][row["KEY"]] = row

    def _on_table_record(self, source: Source, record: Record) -> None:
        with self.lock:
            if not self._fresh(record):
                return
            rows = self.rows[source.name]
            fields = json_fields(record) if record.value is not None else None
            if record.key is None or (record.value is not None and fields is None):
                logger.warning("ignoring %r on the topic of table %s: not a keyed JSON object",
                               record, source.name)  # fmt: skip
                return
            if fields is None:
                rows.pop(record.key, None)
                return
            try:
                row = {
                    name: record.key if name == source.key else READERS[type_](fields.get(name))
                    for name, type_ in source.columns
                }
            except ValueError as err:
                # ksqlDB skips a record it cannot deserialize (and logs a processing error).
                logger.warning("ignoring %r on the topic of table %s: %s",
                               record, source.name, err)  # fmt: skip
                return
            rows[record.key] = row


def _layout_row(asset: str, match: re.Match[bytes]) -> Row:
    """The ``assets`` row of a record ``_SDK_LAYOUT`` matched: what json.loads and the ksqlDB
    column readers would make of it, read from the groups."""
    attribute_id = match[1].decode()  # plain ASCII: no escapes in the group
    value = match[2]
    return {
        "KEY": f"{asset}|{attribute_id}",
        "ASSET_UUID": asset,
        "ID": attribute_id,
        "VALUE": _json_text(value) if value[0] == 34 else as_string(json.loads(value)),
        "TYPE": _json_text(match[4]),
        "TAG": _json_text(match[3]),
        "TIMESTAMP": _json_text(match[5]),
    }


def _json_text(string: bytes) -> str:
    """A JSON string literal (quotes included, ASCII) as text."""
    if b"\\" in string:
        return json.loads(string)  # type: ignore[no-any-return]
    return string[1:-1].decode("ascii")
