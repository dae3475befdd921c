"""The transport interface that app and asset code depend on, and the wire contract.

``base`` holds the ``Transport`` seam, ``records`` what it carries (``Record``,
``DeliveryReport``, ``FlushResult``, ``Subscription``), ``checks`` the argument checks every
implementation shares, ``ksqldb`` the ``KSQLDB`` client contract and ``wire`` the record layout.

This package is a leaf: of the SDK it imports only ``openfactory.errors`` and the leaf
``openfactory._clock`` (CI holds it to that: ``[tool.importlinter]`` in pyproject.toml).
Which implementation an app runs on is chosen above it, by ``openfactory.backends``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from openfactory.transport.base import Transport
from openfactory.transport.checks import check_publish, check_subscribe
from openfactory.transport.delegating import DelegatingTransport
from openfactory.transport.ksqldb import KSQLDB
from openfactory.transport.records import (
    DeliveryCallback,
    DeliveryReport,
    FlushResult,
    Record,
    RecordCallback,
    Subscription,
    new_record,
)
from openfactory.transport.wire import format_timestamp, ksql_string, parse_timestamp

__all__ = [
    "KSQLDB",
    "DelegatingTransport",
    "DeliveryCallback",
    "DeliveryReport",
    "FlushResult",
    "Record",
    "RecordCallback",
    "Subscription",
    "Transport",
    "check_publish",
    "check_subscribe",
    "format_timestamp",
    "ksql_string",
    "new_record",
    "parse_timestamp",
]

# Names that moved to openfactory.backends; kept importable from here, with a warning.
_MOVED = ("open_transport", "set_transport_override", "transport_override")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"openfactory.transport.{name} moved to openfactory.backends.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        # Looked up by name at call time: the interface must not import the switch above it.
        return getattr(importlib.import_module("openfactory.backends"), name)
    raise AttributeError(f"module 'openfactory.transport' has no attribute {name!r}")
