"""What the Kafka producer and consumers share: configuration, logging, errors, topic metadata.

confluent_kafka is imported only under ``openfactory/kafka/`` (this package) and
``openfactory/testing/loopback/`` (the real-protocol rigs); CI holds every other package to that
(``[tool.importlinter]`` in pyproject.toml). What this module raises is an
``openfactory.errors`` exception: ``translate`` maps confluent_kafka's. The rigs use these
helpers through the public ``openfactory.kafka.clients``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from openfactory import _clock
from openfactory.errors import ConfigurationError, TransportError
from openfactory.transport import Record, new_record

logger = logging.getLogger("openfactory.kafka")
librdkafka_logger = logging.getLogger("openfactory.kafka.librdkafka")

ConfigKey = tuple[str, tuple[tuple[str, str], ...]]

PRODUCER_DEFAULTS: Mapping[str, Any] = {
    # Java-compatible partitioning so keys land on the partitions ksqlDB expects.
    "partitioner": "murmur2_random",
    # Idempotence keeps per-key order across retries (acks=all, bounded in-flight).
    "enable.idempotence": True,
    # Retries are bounded in time, not count: a record is reported failed after this.
    "message.timeout.ms": 30_000,
    "linger.ms": 5,
}

CONSUMER_DEFAULTS: Mapping[str, Any] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "enable.partition.eof": False,
    # How long a broker may hold a fetch that found nothing. Apache Kafka answers a held fetch
    # as soon as a record arrives (fetch.min.bytes 1), so there it only sets how often an idle
    # reader asks: 100 times a second at 10 ms. librdkafka's mock cluster and Tansu hold it
    # for the whole wait (measured: 100 ms of wait, 100 ms and 50 ms more per command round
    # trip), so the wait also bounds the latency of every record there. 10 ms keeps both low;
    # set FETCH_WAIT_ENV, or "fetch.wait.max.ms" in a transport's config, to trade one for the
    # other (1 ms: ~1.3 ms command round trips on those brokers).
    "fetch.wait.max.ms": 10,
    "fetch.min.bytes": 1,
    # Lets a metadata request create a missing topic on brokers that allow auto-creation.
    "allow.auto.create.topics": True,
}

# Producer-only properties: librdkafka warns when a consumer is given one of them.
_PRODUCER_ONLY_PREFIXES = (
    "partitioner",
    "enable.idempotence",
    "enable.gapless.guarantee",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "linger.ms",
    "queue.buffering.",
    "batch.",
    "compression.",
    "acks",
    "request.required.acks",
    "retries",
    "message.send.max.retries",
    "transactional.id",
    "transaction.timeout.ms",
    "sticky.partitioning.linger.ms",
    "max.in.flight",
)

TOPIC_TIMEOUT_S = 10.0
#: Environment variable overriding the consumers' ``fetch.wait.max.ms`` (an int >= 0); a
#: transport's ``config`` overrides it in turn.
FETCH_WAIT_ENV = "OPENFACTORY_KAFKA_FETCH_WAIT_MS"


def validate_config(bootstrap_servers: object, config: object) -> dict[str, Any]:
    """Check the constructor arguments; return the user config as a plain dict."""
    if not isinstance(bootstrap_servers, str) or not bootstrap_servers.strip():
        raise ConfigurationError(
            f"bootstrap_servers must be a non-empty 'host:port[,host:port]' string, "
            f"got {bootstrap_servers!r}"
        )
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"config must be a mapping of librdkafka properties, got {type(config).__name__}"
        )
    plain = dict(config)
    for key in plain:
        if not isinstance(key, str):
            raise ConfigurationError(f"config keys must be librdkafka property names, got {key!r}")
    for reserved in ("bootstrap.servers", "group.id", "on_delivery", "logger"):
        if reserved in plain:
            raise ConfigurationError(
                f"config must not set {reserved!r}: the transport manages it "
                "(pass the broker address as bootstrap_servers)"
            )
    return plain


def config_key(bootstrap_servers: str, config: Mapping[str, Any]) -> ConfigKey:
    """Hashable identity of a client configuration (transports with equal keys share clients)."""
    return bootstrap_servers, tuple(sorted((k, repr(v)) for k, v in config.items()))


def _log_error(error: KafkaError) -> None:
    level = logging.ERROR if error.fatal() else logging.WARNING
    librdkafka_logger.log(level, "kafka client error: %s", error)


def producer_config(bootstrap_servers: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Full librdkafka producer configuration."""
    return {
        **PRODUCER_DEFAULTS,
        **config,
        "bootstrap.servers": bootstrap_servers,
        "logger": librdkafka_logger,
        "error_cb": _log_error,
    }


def consumer_config(bootstrap_servers: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Full librdkafka consumer configuration (producer-only properties left out): the
    defaults, then ``FETCH_WAIT_ENV``, then ``config``. Raises ``ConfigurationError`` for a
    ``FETCH_WAIT_ENV`` that is not an int >= 0."""
    common = {k: v for k, v in config.items() if not k.startswith(_PRODUCER_ONLY_PREFIXES)}
    return {
        **CONSUMER_DEFAULTS,
        **fetch_wait_from_env(),
        **common,
        "bootstrap.servers": bootstrap_servers,
        "logger": librdkafka_logger,
        "error_cb": _log_error,
    }


def fetch_wait_from_env() -> dict[str, int]:
    """``{"fetch.wait.max.ms": n}`` from ``FETCH_WAIT_ENV`` if it is set, else ``{}``.

    Raises ``ConfigurationError`` naming the variable when it is not an int >= 0.
    """
    text = os.environ.get(FETCH_WAIT_ENV, "").strip()
    if not text:
        return {}
    if not text.isdigit():
        raise ConfigurationError(
            f"{FETCH_WAIT_ENV} must be a whole number of milliseconds >= 0, got {text!r}"
        )
    return {"fetch.wait.max.ms": int(text)}


def admin_config(bootstrap_servers: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka configuration for a short-lived admin client."""
    common = {k: v for k, v in config.items() if not k.startswith(_PRODUCER_ONLY_PREFIXES)}
    return {**common, "bootstrap.servers": bootstrap_servers, "logger": librdkafka_logger}


def translate(exc: BaseException, doing: str) -> TransportError:
    """A confluent_kafka exception as a ``TransportError`` saying what was being done."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return TransportError(f"{doing}: {exc.args[0].str()} ({exc.args[0].name()})")
    return TransportError(f"{doing}: {exc}")


def decode_key(key: bytes | str | None) -> str | None:
    """A Kafka record key as text (undecodable bytes replaced)."""
    return key.decode("utf-8", errors="replace") if isinstance(key, bytes) else key


def to_record(message: Any) -> Record:
    """A confluent_kafka ``Message`` as an openfactory ``Record``."""
    return new_record(
        message.topic(),
        decode_key(message.key()),
        message.value(),
        message.partition(),
        message.offset(),
        message.timestamp()[1],
    )


def topic_partitions(
    client: Any, topic: str, admin: Mapping[str, Any], timeout: float = TOPIC_TIMEOUT_S
) -> list[int]:
    """Partition ids of ``topic``, creating it if needed; raises ``TransportError``.

    A metadata request first (it auto-creates the topic where the broker allows it, as
    librdkafka's mock cluster does), then an admin CreateTopics, then metadata polling until
    ``timeout``.
    """
    deadline = _clock.monotonic() + timeout
    created = False
    while True:
        remaining = max(deadline - _clock.monotonic(), 0.1)
        try:
            metadata = client.list_topics(topic, timeout=min(remaining, 5.0))
        except KafkaException as exc:
            raise translate(exc, f"cannot read metadata of topic {topic!r}") from exc
        held = metadata.topics.get(topic)
        if held is not None and held.error is None and held.partitions:
            return sorted(held.partitions)
        if not created:
            created = True
            _create_topic(topic, admin, remaining)
        if _clock.monotonic() >= deadline:
            reason = held.error if held is not None else "no metadata"
            raise TransportError(
                f"topic {topic!r} does not exist and could not be created within {timeout}s "
                f"({reason}); create it on the cluster or enable auto.create.topics.enable"
            )
        _clock.sleep(0.05)  # metadata propagation after CreateTopics has no event to wait on


def _create_topic(topic: str, admin: Mapping[str, Any], timeout: float) -> None:
    client = AdminClient(dict(admin))
    futures = client.create_topics(
        [NewTopic(topic, num_partitions=-1, replication_factor=-1)],
        request_timeout=min(timeout, 5.0),
    )
    try:
        futures[topic].result()
        client.poll(0)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return
        logger.warning("could not create topic %r: %s", topic, exc)
