"""The one shutdown path of an app: signals, loop errors and explicit calls all end here.

``Shutdown`` takes only what its steps use (the transport, the app's UUID and logger, a way to
publish an attribute, the app's hook and its close), so this module knows nothing of the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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

FLUSH_TIMEOUT = 10.0
ORDER_TIMEOUT = 1.0
AVAILABILITY_ID = "avail"

Publish = Callable[[str, AssetAttribute], None]


def availability(value: str) -> AssetAttribute:
    """The app's availability attribute (id ``avail``): ``AVAILABLE`` while it runs,
    ``UNAVAILABLE`` once it shuts down (DESIGN.md section 3, Availability)."""
    return AssetAttribute(value, "Events", "Availability")


@dataclass
class ShutdownReport:
    """What shutdown did: the ``steps`` taken in order, ``errors`` met, records ``undelivered``."""

    steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    undelivered: int = 0
    failed_deliveries: int = 0

    @property
    def clean(self) -> bool:
        """True when every step succeeded and every record was delivered."""
        return not self.errors and self.undelivered == 0 and self.failed_deliveries == 0


class Shutdown:
    """The shutdown of asset ``asset_uuid``, in order: ``unavailable``, ``deregister``,
    ``app_event_loop_stopped`` (``stopped_hook``), ``flush``, ``close``.

    ``publish(attribute_id, attribute)`` publishes one of the app's attributes.
    """

    def __init__(
        self,
        transport: Transport,
        asset_uuid: str,
        logger: logging.Logger,
        publish: Publish,
        stopped_hook: Callable[[], None],
        close: Callable[[], None],
    ) -> None:
        self._transport = transport
        self._asset_uuid = asset_uuid
        self._logger = logger
        self._publish = publish
        self._stopped_hook = stopped_hook
        self._close = close

    def run(self) -> ShutdownReport:
        """Run every step, each even if an earlier one failed; return what happened."""
        report = ShutdownReport()

        def step(name: str, action: Callable[[], object]) -> None:
            try:
                action()
            except Exception as err:
                report.errors.append(f"{name}: {type(err).__name__}: {err}")
                self._logger.exception("shutdown step %r failed", name)
            else:
                report.steps.append(name)

        step("unavailable", lambda: self._publish(AVAILABILITY_ID, availability("UNAVAILABLE")))
        step("deregister", self._deregister)
        step("app_event_loop_stopped", self._stopped_hook)
        step("flush", lambda: self._flush(report))
        step("close", self._close)
        self._logger.info("shut down (%s)", ", ".join(report.steps))
        return report

    def _deregister(self) -> None:
        transport, uuid = self._transport, self._asset_uuid
        for reference in (REFERENCES_BELOW, REFERENCES_ABOVE):
            self._publish(reference, references_attribute(()))
        # The tombstones go to other topics than the records they undo (avail UNAVAILABLE
        # feeds the assets_avail row they delete): topics keep no order between them, so the
        # records are delivered first. Bounded: a broker that is down gets the flush step's wait.
        transport.flush(ORDER_TIMEOUT)
        for table in (ASSETS_TYPE_TABLE, ASSETS_AVAIL_TABLE, DOCKER_SERVICES_TABLE):
            transport.publish(transport.topic_for(table), uuid, None)
        uns_record = {
            "asset_uuid": uuid,
            "uns_id": None,
            "uns_levels": None,
            "updated_at": _clock.time_ns() // 1_000_000,
        }
        transport.publish(transport.topic_for(UNS_MAP_STREAM), uuid, encode_json(uns_record))

    def _flush(self, report: ShutdownReport) -> None:
        result = self._transport.flush(FLUSH_TIMEOUT)
        report.undelivered = result.undelivered
        report.failed_deliveries = len(result.failures)
        if not result.ok:
            self._logger.error(
                "shutdown: %d record(s) still undelivered after %.0f s, %d delivery failure(s)",
                result.undelivered,
                FLUSH_TIMEOUT,
                len(result.failures),
            )
