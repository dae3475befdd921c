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
import threading
import uuid
from collections.abc import Sequence

from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaException,
    TopicPartition,
)

from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError, TransportError
from openfactory.fanout import AsyncLoopThread, forwarded_message
from openfactory.fanout.nats_client import NatsBus
from openfactory.kafka.clients import admin_config, consumer_config, to_record, topic_partitions
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.loopback._running import run_until_signalled
from openfactory.testing.memory import CATALOG_TOPICS
from openfactory.transport.wire import ASSETS_STREAM

_POLL_S = 0.02
_BATCH = 500
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
        self.forwarded = 0
        self._next: dict[int, int] = {}
        self._progress = threading.Condition()
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._loop: AsyncLoopThread | None = None
        self._bus: NatsBus | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> AssetForwarder:
        """Connect to NATS, assign every partition of the topic at its end, start forwarding.

        Raises ``TransportError`` if Kafka or NATS cannot be reached.
        """
        if self._thread is not None:
            return self
        self._stop.clear()
        self._loop = AsyncLoopThread("ofa-forwarder-loop")
        try:
            self._bus = NatsBus(self.nats_url, self._loop, timeout, name="ofa-asset-forwarder")
            config = consumer_config(self.bootstrap_servers, {})
            config.update(
                {"group.id": f"ofa-forwarder-{uuid.uuid4()}", "enable.auto.commit": False}
            )
            consumer = self._consumer = Consumer(config)
            partitions = topic_partitions(
                consumer, self.topic, admin_config(self.bootstrap_servers, {}), timeout
            )
            assignment = []
            for partition in partitions:
                _, end = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=timeout, cached=False
                )
                self._next[partition] = end
                assignment.append(TopicPartition(self.topic, partition, end))
            consumer.assign(assignment)
        except KafkaException as exc:
            self.stop()
            raise TransportError(
                f"cannot forward {self.topic!r} from {self.bootstrap_servers}: {exc}"
            ) from exc
        except BaseException:
            self.stop()
            raise
        self._thread = start_background_thread(self._forward, name="ofa-asset-forwarder")
        return self

    def _forward(self) -> None:
        assert self._consumer is not None and self._bus is not None
        while not self._stop.is_set():
            first = self._consumer.poll(_POLL_S)
            if first is None:
                continue
            batch: list[tuple[str, bytes]] = []
            progress: dict[int, int] = {}
            for message in [first, *self._consumer.consume(_BATCH, 0)]:
                if message.error() is not None:
                    continue
                record = to_record(message)
                kind = _TIMESTAMP_TYPES.get(message.timestamp()[0], "unknown")
                forwarded = forwarded_message(record, timestamp_type=kind)
                if forwarded is not None:
                    batch.append(forwarded)
                progress[record.partition] = record.offset + 1
            if batch:
                self._bus.publish_many(batch)
            with self._progress:
                self.forwarded += len(batch)
                self._next.update(progress)
                self._progress.notify_all()

    def sync(self, timeout: float = 10.0) -> bool:
        """Wait until every record on the topic now has been forwarded (and written to NATS);
        False after ``timeout`` seconds. Raises ``TransportError`` if Kafka cannot say."""
        # A consumer of its own: watermarks asked on the forwarding one would wait behind it.
        probe = Consumer(consumer_config(self.bootstrap_servers, {"group.id": "ofa-fwd-probe"}))
        try:
            with self._progress:
                partitions = list(self._next)
            ends = {
                p: probe.get_watermark_offsets(TopicPartition(self.topic, p), timeout=timeout)[1]
                for p in partitions
            }
        except KafkaException as exc:
            raise TransportError(f"cannot read the end of {self.topic!r}: {exc}") from exc
        finally:
            probe.close()
        with self._progress:
            return self._progress.wait_for(
                lambda: all(self._next.get(p, 0) >= end for p, end in ends.items()), timeout
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop forwarding, close the consumer and the NATS connection (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
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
