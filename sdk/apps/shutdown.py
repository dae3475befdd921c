"""The one shutdown path of an app: signals, loop errors and explicit calls all end here.

``Shutdown`` takes only what its steps use (the transport, the app's UUID and logger, a way to
publish an attribute, the app's hook and its close, the topics deregistration writes to), so
this module knows nothing of the app.

One budget (``OPENFACTORY_SHUTDOWN_TIMEOUT``, default 8 s: within the 10 s a container runtime
waits after SIGTERM before SIGKILL) covers the whole shutdown, whatever is down: each step gets
what the earlier ones left. Nothing in it asks ksqlDB: the topics deregistration writes to are
resolved when the app is built (``deregistration_topics``) and kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from openfactory import _clock
from openfactory.assets.attribute import AssetAttribute
from openfactory.assets.references import REFERENCES_ABOVE, REFERENCES_BELOW, references_attribute
from openfactory.transport import Transport
from openfactory.transport.wire import (
    ASSETS_AVAIL_TABLE,
    ASSETS_TYPE_TABLE,
    DOCKER_SERVICES_TABLE,
    UNS_MAP_STREAM,
    encode_json,
)

AVAILABILITY_ID = "avail"
#: Exit status of a process whose app lost records (``ShutdownReport.lost``), stopped by a
#: signal or not; a clean stop by a signal exits 0, as the platform library does.
EXIT_RECORDS_LOST = 1
#: The tables and stream whose topics deregistration writes to, in the order it writes.
DEREGISTRATION_SOURCES = (
    ASSETS_TYPE_TABLE,
    ASSETS_AVAIL_TABLE,
    DOCKER_SERVICES_TABLE,
    UNS_MAP_STREAM,
)
#: Records the deregistration step publishes: two references, three tombstones, the UNS map.
_DEREGISTRATION_RECORDS = 2 + len(DEREGISTRATION_SOURCES)

Publish = Callable[[str, AssetAttribute], None]


def availability(value: str) -> AssetAttribute:
    """The app's availability attribute (id ``avail``): ``AVAILABLE`` while it runs,
    ``UNAVAILABLE`` once it shuts down (DESIGN.md section 3, Availability)."""
    return AssetAttribute(value, "Events", "Availability")


def deregistration_topics(transport: Transport, logger: logging.Logger) -> dict[str, str]:
    """The Kafka topic of each of ``DEREGISTRATION_SOURCES``, asked of ksqlDB now so that a
    shutdown never has to (ksqlDB may be down or hanging by then).

    A source ksqlDB cannot name is left out and logged as a warning; the shutdown then reports
    the record it could not send. Raises nothing.
    """
    topics: dict[str, str] = {}
    for source in DEREGISTRATION_SOURCES:
        try:
            topics[source] = transport.topic_for(source)
        except Exception as err:
            logger.warning(
                "no topic for %s (%s: %s): the shutdown will not deregister there",
                source,
                type(err).__name__,
                err,
            )
    return topics


@dataclass
class ShutdownReport:
    """What shutdown did: the ``steps`` taken in order, ``errors`` met, and what was lost.

    ``undelivered``: records still queued when the flush ended (its share of the budget ran
    out); ``failed_deliveries``: records the transport reported failed since it was opened
    (the broker refused them or they timed out); ``unsent``: records the shutdown could not
    publish at all; ``seconds``: how long it took, of ``budget``.
    """

    steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    undelivered: int = 0
    failed_deliveries: int = 0
    unsent: int = 0
    seconds: float = 0.0
    budget: float = 0.0

    @property
    def lost(self) -> int:
        """Records that never reached the broker: undelivered, failed and unsent ones."""
        return self.undelivered + self.failed_deliveries + self.unsent

    @property
    def clean(self) -> bool:
        """True when every step succeeded and no record was lost."""
        return not self.errors and self.lost == 0

    @property
    def exit_status(self) -> int:
        """The status a process ending with this shutdown exits with: 0, or
        ``EXIT_RECORDS_LOST`` (1) when records were lost."""
        return EXIT_RECORDS_LOST if self.lost else 0


class Shutdown:
    """The shutdown of asset ``asset_uuid``, in order: ``unavailable``, ``deregister``,
    ``app_event_loop_stopped`` (``stopped_hook``), ``flush``, ``close``.

    ``publish(attribute_id, attribute)`` publishes one of the app's attributes; ``topics`` maps
    each of ``DEREGISTRATION_SOURCES`` to its topic (``deregistration_topics``);
    ``read_back(timeout)`` waits until the app has read its own ``UNAVAILABLE`` back from the
    broker (True) or ``timeout`` s have passed (False); ``close(timeout)`` releases the app
    within ``timeout`` seconds. ``report`` is filled in as the steps run.
    """

    def __init__(
        self,
        transport: Transport,
        asset_uuid: str,
        logger: logging.Logger,
        publish: Publish,
        stopped_hook: Callable[[], None],
        close: Callable[[float], None],
        topics: Mapping[str, str],
        read_back: Callable[[float], bool],
    ) -> None:
        self._transport = transport
        self._asset_uuid = asset_uuid
        self._logger = logger
        self._publish = publish
        self._stopped_hook = stopped_hook
        self._close = close
        self._topics = topics
        self._read_back = read_back
        self._failures_at_start = 0
        self.report = ShutdownReport()

    def run(self, deadline: float) -> ShutdownReport:
        """Run every step, each even if an earlier one failed, until ``deadline`` (on
        ``openfactory._clock.monotonic``); return what happened."""
        report = self.report
        started = _clock.monotonic()
        self._failures_at_start = self._transport.failure_count
        report.budget = max(deadline - started, 0.0)

        def left() -> float:
            return max(deadline - _clock.monotonic(), 0.0)

        def step(name: str, action: Callable[[], object]) -> None:
            try:
                action()
            except Exception as err:
                report.errors.append(f"{name}: {type(err).__name__}: {err}")
                self._logger.exception("shutdown step %r failed", name)
            else:
                report.steps.append(name)

        step("unavailable", self._unavailable)
        step("deregister", lambda: self._deregister(left))
        step("app_event_loop_stopped", self._stopped_hook)
        step("flush", lambda: self._flush(left()))
        step("close", lambda: self._close(left()))
        report.seconds = _clock.monotonic() - started
        if report.lost:
            self._logger.error(
                "shutdown lost %d record(s): %d still queued at its end (budget %.1f s), "
                "%d failed to reach the broker, %d not published",
                report.lost,
                report.undelivered,
                report.budget,
                report.failed_deliveries,
                report.unsent,
            )
        self._logger.info("shut down in %.2f s (%s)", report.seconds, ", ".join(report.steps))
        return report

    def _unavailable(self) -> None:
        try:
            self._publish(AVAILABILITY_ID, availability("UNAVAILABLE"))
        except BaseException:
            self.report.unsent += 1
            raise

    def _deregister(self, left: Callable[[], float]) -> None:
        transport, uuid = self._transport, self._asset_uuid
        missing = [source for source in DEREGISTRATION_SOURCES if source not in self._topics]
        sent = 0
        try:
            for reference in (REFERENCES_BELOW, REFERENCES_ABOVE):
                self._publish(reference, references_attribute(()))
                sent += 1
            # The tombstones go to other topics, which readers (ksqlDB) fetch apart from the
            # asset's: one read before UNAVAILABLE would be undone by it (the assets_avail row
            # would come back). So they wait until UNAVAILABLE is on the broker and has been
            # read back (the platform library's topic lookups made that wait): a quarter of
            # the budget at most; not when the broker fails or does not take records.
            result = transport.flush(left() / 4)
            if result.undelivered == 0 and result.failure_count == self._failures_at_start:
                self._read_back(left() / 4)
            for table in (ASSETS_TYPE_TABLE, ASSETS_AVAIL_TABLE, DOCKER_SERVICES_TABLE):
                if table in self._topics:
                    transport.publish(self._topics[table], uuid, None)
                    sent += 1
            if UNS_MAP_STREAM in self._topics:
                uns_record = {
                    "asset_uuid": uuid,
                    "uns_id": None,
                    "uns_levels": None,
                    "updated_at": _clock.time_ns() // 1_000_000,
                }
                transport.publish(self._topics[UNS_MAP_STREAM], uuid, encode_json(uns_record))
                sent += 1
        finally:
            self.report.unsent += _DEREGISTRATION_RECORDS - sent
        if missing:
            raise LookupError(
                f"no topic for {', '.join(missing)}: ksqlDB did not name it when the app was "
                "built, so nothing was sent there"
            )

    def _flush(self, timeout: float) -> None:
        report = self.report
        result = self._transport.flush(timeout)
        report.undelivered = result.undelivered
        report.failed_deliveries = result.failure_count
