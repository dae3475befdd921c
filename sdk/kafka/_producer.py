"""The process-wide Kafka producers: one per broker address and configuration, shared by
every ``KafkaTransport`` that uses it, reference-counted, with a thread serving delivery
reports so they arrive even when the app never calls ``flush``."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from openfactory import _clock
from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError
from openfactory.kafka._clients import ConfigKey, config_key, logger, producer_config
from openfactory.kafka._commands import NUDGE_S, CommandLane

_POLL_INTERVAL_S = 0.02
_DRAIN_ATTEMPTS = 5


def is_fatal(exc: KafkaException) -> bool:
    """True for an error after which a producer can never deliver again (librdkafka "fatal")."""
    error = exc.args[0] if exc.args else None
    return isinstance(error, KafkaError) and (error.fatal() or error.code() == KafkaError._FATAL)


class SharedProducer:
    """One confluent_kafka ``Producer`` plus the thread that serves its delivery callbacks."""

    def __init__(self, key: ConfigKey, bootstrap_servers: str, config: Mapping[str, Any]) -> None:
        self.key = key
        self.bootstrap_servers = bootstrap_servers
        self.config = dict(config)
        self.producer = self._new_producer()
        self.users = 0
        self.renewals = 0
        # A producer the broker will never accept again, noticed in a delivery callback (where
        # it cannot be replaced: that would re-enter it); the poller replaces it.
        self._broken: tuple[Producer, str] | None = None
        self._renew_lock = threading.Lock()
        self._draining = False
        self._flush_lock = threading.Lock()
        self._flushing = 0
        self._stopping = threading.Event()
        # Commands are sent at once (see _commands.py): the lane, and the keys this producer
        # was given since it was last seen holding nothing, with the count of those sightings
        # (a transport notes a key again when the count moved).
        self.commands = CommandLane(bootstrap_servers, self.config)
        self.lingering: dict[str, None] = {}
        self.generation = 0
        self._wake = threading.Event()
        self._nudged = False
        self._poller = start_background_thread(
            self._serve, name=f"openfactory-kafka-producer[{bootstrap_servers}]"
        )

    def _new_producer(self) -> Producer:
        try:
            return Producer(producer_config(self.bootstrap_servers, self.config))
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"invalid Kafka producer configuration for {self.bootstrap_servers!r}: {exc}"
            ) from exc

    def mark_broken(self, producer: Producer, reason: str) -> None:
        """Have the poller replace ``producer`` (safe to call from its delivery callbacks)."""
        # Not while a replaced producer's records are being failed: their reports name it.
        if self._broken is None and producer is self.producer and not self._draining:
            self._broken = (producer, reason)

    def renew(self, broken: Producer, reason: str) -> Producer:
        """Replace ``broken``, a producer the broker will never accept again (a fatal error, or
        fenced), with a new one, once; return the current producer. What ``broken`` still holds
        fails through its delivery callbacks: counted and logged as any undelivered record."""
        with self._renew_lock:
            if self.producer is not broken:
                return self.producer
            self.producer = self._new_producer()
            self.renewals += 1
            self._broken = None
        logger.error(
            "Kafka producer for %s replaced by a new one (%s); records it still held are "
            "reported undelivered",
            self.bootstrap_servers,
            reason,
        )
        self._draining = True
        try:
            _fail_everything(broken)
        finally:
            self._draining = False
        return self.producer

    def nudge(self) -> None:
        """Have the poller send what is queued now, not after ``linger.ms``."""
        self._nudged = True
        self._wake.set()

    def _serve(self) -> None:
        # poll(0) then sleep, rather than a blocking poll(): a thread blocked in poll() takes
        # the delivery reports a concurrent flush() waits for, and flush() then only notices
        # at its next internal wake-up (~10 ms per call instead of ~0.1 ms).
        while True:
            self._wake.wait(_POLL_INTERVAL_S)
            self._wake.clear()
            if self._stopping.is_set():
                return
            nudged, self._nudged = self._nudged, False
            broken = self._broken
            if broken is not None:
                self.renew(*broken)
            if self._flushing:
                continue
            producer = self.producer
            try:
                if nudged:
                    producer.flush(NUDGE_S)  # linger.ms is ignored while a flush runs
                else:
                    producer.poll(0)
                if not len(producer):
                    # Nothing held: no record of any key can be overtaken by a command.
                    self.generation += 1
                    self.lingering.clear()
                self.commands.poll()
            except KafkaException as exc:
                if is_fatal(exc):
                    self.renew(producer, f"fatal error: {exc.args[0].str()}")
                else:
                    logger.exception("error while serving Kafka delivery reports")
            except Exception:
                # Delivery handlers catch their own errors; anything else must not end polling.
                logger.exception("error while serving Kafka delivery reports")

    def flush(self, timeout: float) -> int:
        """Send and wait for everything queued (up to ``timeout`` s); returns what is left."""
        with self._flush_lock:
            self._flushing += 1
        producer = self.producer
        deadline = _clock.monotonic() + timeout
        try:
            left = int(producer.flush(timeout))
            return left + self.commands.flush(max(deadline - _clock.monotonic(), 0.0))
        except KafkaException as exc:
            if not is_fatal(exc):
                raise
            return len(self.renew(producer, f"fatal error: {exc.args[0].str()}"))
        finally:
            with self._flush_lock:
                self._flushing -= 1

    def close(self, timeout: float) -> int:
        """Deliver what is queued (up to ``timeout`` s), stop polling; returns what is left."""
        left = self.flush(timeout)
        if left:
            # Fail what is left now, through the delivery callbacks, rather than have the
            # close wait out message.timeout.ms or drop the records without a report.
            self.producer.purge()
            self.producer.flush(0)
        left += self.commands.close(0)
        self._stopping.set()
        self._wake.set()
        if self._poller is not threading.current_thread():
            self._poller.join(timeout=5.0)
        closer = getattr(self.producer, "close", None)  # Producer.close() is new in 2.x
        if callable(closer) and self._poller is not threading.current_thread():
            try:
                closer()
            except Exception:
                logger.exception("error while closing the Kafka producer")
        if left:
            logger.error(
                "Kafka producer for %s closed with %d record(s) undelivered",
                self.bootstrap_servers,
                left,
            )
        return left


def _fail_everything(producer: Producer) -> None:
    """Fail every record ``producer`` holds through its delivery callbacks, at once."""
    try:
        producer.purge()
    except KafkaException:
        logger.exception("could not purge the records of a replaced Kafka producer")
    # A producer in a fatal state raises that error from the first calls that serve its
    # reports, before it serves them: try a few times.
    for _ in range(_DRAIN_ATTEMPTS):
        try:
            producer.flush(0)
            return
        except KafkaException:
            continue
    logger.error("a replaced Kafka producer still held %d record(s)", len(producer))


_lock = threading.Lock()
_producers: dict[ConfigKey, SharedProducer] = {}


def acquire_producer(bootstrap_servers: str, config: Mapping[str, Any]) -> SharedProducer:
    """The shared producer for this address and configuration (created on first use)."""
    key = config_key(bootstrap_servers, config)
    with _lock:
        shared = _producers.get(key)
        if shared is None:
            shared = _producers[key] = SharedProducer(key, bootstrap_servers, config)
        shared.users += 1
        return shared


def release_producer(shared: SharedProducer, timeout: float) -> None:
    """Drop one user of ``shared``; the last one flushes and closes it."""
    with _lock:
        shared.users -= 1
        if shared.users > 0:
            return
        if _producers.get(shared.key) is shared:
            del _producers[shared.key]
    shared.close(timeout)


def reset_producers(timeout: float = 5.0) -> None:
    """Close every shared producer (tests use this to start from a clean process)."""
    with _lock:
        producers = list(_producers.values())
        _producers.clear()
    deadline = _clock.monotonic() + timeout
    for shared in producers:
        shared.users = 0
        shared.close(max(deadline - _clock.monotonic(), 0.0))


def producer_count() -> int:
    """Number of live shared producers (for tests and diagnostics)."""
    with _lock:
        return len(_producers)
