"""``SubjectBus``: what the fan-out layer needs of a NATS server, and ``BusConnector``, which
hands out buses by server URL.

Two implementations: ``openfactory.fanout.nats_client`` (a real NATS server, through nats-py)
and the in-memory one of ``openfactory.testing.memory.fanout``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from openfactory.transport import Subscription

#: How long connecting to a server, subscribing or stopping may take before it fails (s).
DEFAULT_TIMEOUT = 5.0

MessageHandler = Callable[[str, bytes], None]
"""``on_message(subject, data)``: one message received on a subscription."""


class SubjectBus(ABC):
    """Publish on NATS subjects and subscribe to subject patterns (``*``, ``>`` wildcards).

    ``subscribe`` delivers every message published after it returns, in order per
    subscription; a callback that raises is logged and the others still get the message.
    """

    #: The server's URL, as the asset router named it.
    url: str
    #: True: callbacks run inside ``publish`` (in memory). False: on the bus's own thread.
    inline_delivery: bool = False

    @abstractmethod
    def publish(self, subject: str, data: bytes) -> None:
        """Send ``data`` on ``subject``; raises ``TransportError`` if the bus is closed."""

    @abstractmethod
    def subscribe(self, subject: str, on_message: MessageHandler) -> Subscription:
        """Call ``on_message(subject, data)`` for each message matching ``subject`` from now on.

        Raises ``TransportError`` if the bus is closed or the server refuses the subject.
        """

    @abstractmethod
    def close(self) -> None:
        """Stop every subscription and disconnect (idempotent)."""


class BusConnector(ABC):
    """Hands out a connected ``SubjectBus`` per server URL, shared while it is acquired."""

    #: Whether the buses it hands out deliver inline (see ``SubjectBus.inline_delivery``).
    inline_delivery: bool = False

    @abstractmethod
    def acquire(self, url: str) -> SubjectBus:
        """The bus of the server at ``url``, connected. Raises ``ConfigurationError`` for a URL
        of a kind it cannot reach and ``TransportError`` when the server does not answer within
        a bounded wait."""

    @abstractmethod
    def release(self, bus: SubjectBus) -> None:
        """Give back a bus from ``acquire`` (the last holder's release disconnects it)."""
