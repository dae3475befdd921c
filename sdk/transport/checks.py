"""The argument checks every ``Transport`` implementation runs first, so that all of them
reject the same mistakes with the same ``TransportError``."""

from __future__ import annotations

from openfactory.errors import TransportError
from openfactory.transport.records import DeliveryCallback, RecordCallback


def check_publish(
    topic: str, key: str, value: bytes | None, on_delivery: DeliveryCallback | None, closed: bool
) -> bytes | None:
    """The ``value`` to publish (a ``bytearray`` copied to ``bytes``) if ``publish(topic, key,
    value, on_delivery)`` is valid on a transport that is ``closed`` or not.

    Raises ``TransportError`` naming the bad argument, or saying that the transport is closed.
    """
    if (
        type(value) is bytes
        and type(key) is str
        and type(topic) is str
        and topic
        and on_delivery is None
        and not closed
    ):
        return value  # what every attribute update passes, checked in one go
    if closed:
        raise TransportError(f"cannot publish to {topic!r}: the transport is closed")
    if not isinstance(topic, str) or not topic:
        raise TransportError(f"topic must be a non-empty string, got {topic!r}")
    if not isinstance(key, str):
        raise TransportError(f"record key must be a str (the asset UUID), got {key!r}")
    if value is not None and not isinstance(value, bytes | bytearray):
        raise TransportError(
            f"record value must be bytes (encoded JSON) or None for a tombstone, "
            f"got {type(value).__name__}"
        )
    if on_delivery is not None and not callable(on_delivery):
        raise TransportError(f"on_delivery must be callable or None, got {on_delivery!r}")
    return bytes(value) if isinstance(value, bytearray) else value


def check_subscribe(topic: str, key: str | None, callback: RecordCallback, closed: bool) -> None:
    """Check ``subscribe(topic, key, callback)`` on a transport that is ``closed`` or not.

    Raises ``TransportError`` naming the bad argument, or saying that the transport is closed.
    """
    if closed:
        raise TransportError(f"cannot subscribe to {topic!r}: the transport is closed")
    if not isinstance(topic, str) or not topic:
        raise TransportError(f"topic must be a non-empty string, got {topic!r}")
    if key is not None and not isinstance(key, str):
        raise TransportError(f"subscription key must be a str or None, got {key!r}")
    if not callable(callback):
        raise TransportError(f"callback must be callable, got {callback!r}")
