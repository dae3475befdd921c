"""The one shutdown path of an app: signals, loop errors and explicit calls all end here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openfactory.assets.attribute import AssetAttribute
from openfactory.transport.wire import (
    ASSETS_AVAIL_TABLE,
    ASSETS_TYPE_TABLE,
    DOCKER_SERVICES_TABLE,
    UNS_MAP_STREAM,
    encode_json,
)

if TYPE_CHECKING:
    from openfactory.apps.app import OpenFactoryApp

FLUSH_TIMEOUT = 10.0


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


def shutdown_steps(app: OpenFactoryApp) -> ShutdownReport:
    """Run every shutdown step, each even if an earlier one failed; return what happened."""
    report = ShutdownReport()

    def step(name: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as err:
            report.errors.append(f"{name}: {type(err).__name__}: {err}")
            app.logger.exception("shutdown step %r failed", name)
        else:
            report.steps.append(name)

    step(
        "unavailable",
        lambda: app.add_attribute("avail", AssetAttribute("UNAVAILABLE", "Events", "Availability")),
    )
    step("deregister", lambda: _deregister(app))
    step("app_event_loop_stopped", app.app_event_loop_stopped)
    step("flush", lambda: _flush(app, report))
    step("close", app.close)
    app.logger.info("shut down (%s)", ", ".join(report.steps))
    return report


def _deregister(app: OpenFactoryApp) -> None:
    transport, uuid = app.transport, app.asset_uuid
    for reference in ("references_below", "references_above"):
        app.add_attribute(reference, AssetAttribute("", "OpenFactory", "AssetsReferences"))
    for table in (ASSETS_TYPE_TABLE, ASSETS_AVAIL_TABLE, DOCKER_SERVICES_TABLE):
        transport.publish(transport.topic_for(table), uuid, None)
    uns_record = {
        "asset_uuid": uuid,
        "uns_id": None,
        "uns_levels": None,
        "updated_at": int(time.time() * 1000),
    }
    transport.publish(transport.topic_for(UNS_MAP_STREAM), uuid, encode_json(uns_record))


def _flush(app: OpenFactoryApp, report: ShutdownReport) -> None:
    result = app.transport.flush(FLUSH_TIMEOUT)
    report.undelivered = result.undelivered
    report.failed_deliveries = len(result.failures)
    if not result.ok:
        app.logger.error(
            "shutdown: %d record(s) still undelivered after %.0f s, %d delivery failure(s)",
            result.undelivered,
            FLUSH_TIMEOUT,
            len(result.failures),
        )
