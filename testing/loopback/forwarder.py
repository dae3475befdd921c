"""The platform's asset forwarder, from Kafka to NATS, on loopback.

``AssetForwarder`` consumes the assets topic from the end it has when started and publishes each
record as the platform's forwarders do (reference sections 4.7 and 9.5): on subject
``<key>.<ID>``, the value without ``ID`` and with the forwarder's and Kafka's timestamps
(``openfactory.fanout.forwarded_message``). ``sync()`` waits until everything on the topic at
that moment has been forwarded, for tests that need the fan-out layer to have caught up.

``python -m openfactory.testing.loopback.forwarder BOOTSTRAP NATS_URL [--topic T]`` runs one as a
process of its own (prints ``ready`` once forwarding) until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaException,
    Message,
    TopicPartition,
)

from openfactory.errors import ConfigurationError, TransportError
from openfactory.fanout import AsyncLoopThread, forwarded_message
from openfactory.fanout.nats_client import NatsBus
from openfactory.kafka.clients import admin_config, to_record, topic_partitions
from openfactory.testing.loopback._consumer_loop import ConsumerLoop
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.loopback._running import run_until_signalled
from openfactory.testing.memory import CATALOG_TOPICS
from openfactory.transport.wire import ASSETS_STREAM

_TIMESTAMP_TYPES = {TIMESTAMP_CREATE_TIME: "producer", TIMESTAMP_LOG_APPEND_TIME: "broker"}


class AssetForwarder(Rig):
    """Forwards the records of ``topic`` (the assets topic by default) on Kafka at
    ``bootstrap_servers`` to the NATS server at ``nats_url``. Use as a context manager or
    ``start()``/``stop()``; ``forwarded`` counts the messages published."""

    __test__ = False

    def __init__(self, bootstrap_servers: str, nats_url: str, topic: str | None = None) -> None:
        """Raises ``ConfigurationError`` on an empty address or topic."""
        if not isinstance(bootstrap_servers, str) or not bootstrap_servers.strip():
            raise ConfigurationError(
                f"bootstrap_servers must be 'host:port', got {bootstrap_servers!r}"
            )
        topic = CATALOG_TOPICS[ASSETS_STREAM] if topic is None else topic
        if not isinstance(topic, str) or not topic:
            raise ConfigurationError(f"topic must be a non-empty string, got {topic!r}")
        self.bootstrap_servers = bootstrap_servers.strip()
        self.nats_url = nats_url
        self.topic = topic
        self._reader = ConsumerLoop(self.bootstrap_servers, "ofa-asset-forwarder")
        self._loop: AsyncLoopThread | None = None
        self._bus: NatsBus | None = None

    @property
    def forwarded(self) -> int:
        """Messages published on NATS so far."""
        return self._reader.handled

    def start(self, timeout: float = 10.0) -> AssetForwarder:
        """Connect to NATS, assign every partition of the topic at its end, start forwarding.

        Raises ``TransportError`` if Kafka or NATS cannot be reached.
        """
        if self._reader.running:
            return self
        self._loop = AsyncLoopThread("ofa-forwarder-loop")
        try:
            bus = self._bus = NatsBus(
                self.nats_url, self._loop, timeout, name="ofa-asset-forwarder"
            )
            self._reader.start(
                lambda consumer: self._at_end(consumer, timeout),
                lambda messages: self._forward(bus, messages),
            )
        except KafkaException as exc:
            self.stop()
            raise TransportError(
                f"cannot forward {self.topic!r} from {self.bootstrap_servers}: {exc}"
            ) from exc
        except BaseException:
            self.stop()
            raise
        return self

    def _at_end(self, consumer: Consumer, timeout: float) -> list[TopicPartition]:
        partitions = topic_partitions(
            consumer, self.topic, admin_config(self.bootstrap_servers, {}), timeout
        )
        assignment = []
        for partition in partitions:
            _, end = consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=timeout, cached=False
            )
            assignment.append(TopicPartition(self.topic, partition, end))
        return assignment

    def _forward(self, bus: NatsBus, messages: list[Message]) -> int:
        batch: list[tuple[str, bytes]] = []
        for message in messages:
            kind = _TIMESTAMP_TYPES.get(message.timestamp()[0], "unknown")
            forwarded = forwarded_message(to_record(message), timestamp_type=kind)
            if forwarded is not None:
                batch.append(forwarded)
        if batch:
            bus.publish_many(batch)
        return len(batch)

    def sync(self, timeout: float = 10.0) -> bool:
        """Wait until every record on the topic now has been forwarded (and written to NATS);
        False after ``timeout`` seconds. Raises ``TransportError`` if Kafka cannot say."""
        return self._reader.sync(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop forwarding, close the consumer and the NATS connection (idempotent)."""
        self._reader.stop(timeout)
        if self._bus is not None:
            self._bus.close()
            self._bus = None
        if self._loop is not None:
            self._loop.stop()
            self._loop = None

    def __repr__(self) -> str:
        return f"AssetForwarder({self.topic!r} -> {self.nats_url}, forwarded={self.forwarded})"


def main(argv: Sequence[str] | None = None) -> int:
    """Forward until SIGINT/SIGTERM; prints ``ready`` once forwarding."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("bootstrap_servers")
    parser.add_argument("nats_url")
    parser.add_argument("--topic", default=None)
    args = parser.parse_args(argv)
    return run_until_signalled(
        AssetForwarder(args.bootstrap_servers, args.nats_url, args.topic), lambda _: "ready"
    )


if __name__ == "__main__":
    sys.exit(main())
