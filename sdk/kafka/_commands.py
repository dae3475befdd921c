"""Command records are sent at once, while attribute streams keep their batching.

The shared producer lingers (``linger.ms``, 5 ms by default) to batch attribute updates: at
high rates that is 2-3x the throughput of sending each record alone. A command waiting out the
linger would add it to every round trip, so command records (``<method>_CMD``, TAG
``Method.Command``) go through a second producer of the same configuration with ``linger.ms``
0. It is made at the first command, for processes that send commands only (a second producer
is a second producer id on the broker: Tansu, restarted without its state, then refuses the
first one's batches), and used once it had time to get its producer id: an idempotent
producer asked to send as it is made waits 500 ms for it on the loopback cluster, one made 50
ms earlier sends in about a millisecond. Until then a command goes with the attribute records,
nudged (below).

Measured on the loopback cluster against the alternatives, with an attribute stream running
beside the commands: the second producer sends a command in 1.3 ms p50 and leaves the stream at
full rate; a ``flush`` nudge on the shared producer took 2.2 ms p50 and cost the stream a fifth
of its rate while it ran (librdkafka ignores the linger of every queued record while a flush
runs).

Two producers do not keep each other's order, and records of one key must arrive in order. So a
command goes through the second producer only when the shared one holds no record of its key:
the shared producer remembers the keys it was given since it was last seen empty. Otherwise
(a process writing attributes of the asset it is commanding) the command follows them on the
shared producer, nudged by a flush on the poller thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaException, Producer

from openfactory import _clock
from openfactory.errors import ConfigurationError
from openfactory.kafka._clients import logger, producer_config
from openfactory.transport.wire import COMMAND_TAG

# How long the lane's producer gets to obtain its producer id before it carries commands.
WARM_S = 0.2
# How long the poller's flush nudge may run: long enough for librdkafka's broker threads to
# wake up and send what is queued (a flush that ends first sends nothing early).
NUDGE_S = 0.002
#: What a command record holds (the bytes of ``"TAG": "Method.Command"``).
COMMAND_MARK = b'"TAG": "' + COMMAND_TAG.encode() + b'"'


#: What the empty placeholder of a command attribute an app publishes at start holds.
PLACEHOLDER_MARK = b'"VALUE": ' + COMMAND_MARK.replace(b'"TAG"', b'"", "TAG"')


def is_command(value: bytes | None) -> bool:
    """True for a record tagged as a command (``"TAG": "Method.Command"``), as the SDK and the
    platform's clients lay asset records out, but for the empty placeholders apps publish at
    start (no one waits for those); byte searches, no decoding."""
    return value is not None and COMMAND_MARK in value and PLACEHOLDER_MARK not in value


class CommandLane:
    """The producer commands go through: the shared producer's configuration, no linger."""

    def __init__(self, bootstrap_servers: str, config: Mapping[str, Any]) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._settings = producer_config(bootstrap_servers, {**config, "linger.ms": 0})
        self._lock = threading.Lock()
        self._producer: Producer | None = None
        self._made = 0.0

    def _new_producer(self) -> Producer:
        try:
            return Producer(self._settings)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"invalid Kafka producer configuration for {self._bootstrap_servers!r}: {exc}"
            ) from exc

    def ready(self) -> Producer | None:
        """The lane's producer once it had ``WARM_S`` to get its producer id; ``None`` before
        (the first call makes it). Raises ``ConfigurationError`` for a bad configuration."""
        producer = self._producer
        if producer is None:
            with self._lock:
                if self._producer is None:
                    self._producer, self._made = self._new_producer(), _clock.monotonic()
            return None
        return producer if _clock.monotonic() - self._made >= WARM_S else None

    def poll(self) -> None:
        """Serve the lane's delivery reports."""
        self.flush(0)

    def __len__(self) -> int:
        return 0 if self._producer is None else len(self._producer)

    def flush(self, timeout: float) -> int:
        """Wait for the lane's records (up to ``timeout`` s); returns what is left.

        A producer the broker will never accept again (a librdkafka fatal error) is replaced,
        what it held failed through its delivery callbacks, as the shared producer does.
        """
        producer = self._producer
        if producer is None:
            return 0
        try:
            if timeout > 0:
                return int(producer.flush(timeout))
            producer.poll(0)
            return len(producer)
        except KafkaException as exc:
            logger.error("Kafka command producer replaced after an error: %s", exc)
            self._producer = None  # made anew by the next command
            producer.purge()
            for _ in range(5):  # a fatal producer raises before it serves its reports
                try:
                    producer.flush(0)
                    break
                except KafkaException:
                    continue
            return 0

    def close(self, timeout: float) -> int:
        """Deliver what the lane holds (up to ``timeout`` s), fail the rest; returns it."""
        producer, self._producer = self._producer, None
        if producer is None:
            return 0
        left = int(producer.flush(timeout))
        if left:
            producer.purge()
            producer.flush(0)
        closer = getattr(producer, "close", None)  # Producer.close() is new in 2.x
        if callable(closer):
            try:
                closer()
            except Exception:
                logger.exception("error while closing the Kafka command producer")
        return left
