"""The transport interface that app and asset code depend on, and the wire contract."""

from openfactory.transport.base import (
    DeliveryCallback,
    DeliveryReport,
    FlushResult,
    Record,
    RecordCallback,
    Subscription,
    Transport,
)
from openfactory.transport.resolve import (
    open_transport,
    set_transport_override,
    transport_override,
)
from openfactory.transport.wire import format_timestamp, ksql_string, parse_timestamp

__all__ = [
    "DeliveryCallback",
    "DeliveryReport",
    "FlushResult",
    "Record",
    "RecordCallback",
    "Subscription",
    "Transport",
    "format_timestamp",
    "ksql_string",
    "open_transport",
    "parse_timestamp",
    "set_transport_override",
    "transport_override",
]
