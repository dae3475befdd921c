"""Reference section 9.3: what an app publishes when it stops (a signal, a failed loop, or
0.6.6's ``shutdown()``), in order across topics, with 0.6.6's ``assets_avail`` tombstone and
the hook last (section 10 and section 11 item 12)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable

import pytest

from openfactory.apps import EventAttribute, OpenFactoryApp
from openfactory.testing import AppHarness
from openfactory.transport import Record
from openfactory.utils.assets import register_asset

UUID = "LINE-07"
EXPECTED = [
    ("ofa_assets", "avail", "UNAVAILABLE", "Events", "Availability"),
    ("ofa_assets", "references_below", "", "OpenFactory", "AssetsReferences"),
    ("ofa_assets", "references_above", "", "OpenFactory", "AssetsReferences"),
    ("assets_types_topic", None),
    ("assets_avail_topic", None),
    ("docker_services_topic", None),
    ("asset_to_uns_map_topic", {"asset_uuid": UUID, "uns_id": None, "uns_levels": None}),
]


class Line(OpenFactoryApp):
    state = EventAttribute(value="idle", tag="Line.State")
    hooked: list[int]
    records_so_far: Callable[[], int]

    def main_loop(self) -> None:
        while True:
            time.sleep(1)

    def app_event_loop_stopped(self) -> None:
        # How many records were out when the hook ran: deregistration must come first.
        self.hooked.append(self.records_so_far())


class Failing(Line):
    def main_loop(self) -> None:
        raise RuntimeError("conveyor jammed")


def described(record: Record) -> tuple[object, ...]:
    if record.value is None:
        return (record.topic, None)
    value = record.json()
    if record.topic == "ofa_assets":
        return (record.topic, value["ID"], value["VALUE"], value["TYPE"], value["TAG"])
    assert isinstance(value.pop("updated_at"), int)  # epoch milliseconds
    return (record.topic, value)


def build(ofa_app: AppHarness, cls: type[Line]) -> Line:
    register_asset(UUID, None, "OpenFactoryApp", ofa_app.ksqldb, docker_service=UUID.lower())
    app = ofa_app.build(cls, UUID)
    app.records_so_far = lambda: len(ofa_app.recorder.records)
    app.hooked = []
    return app


STOPS: dict[str, Callable[[AppHarness, Line], None]] = {
    "shutdown()": lambda harness, app: app.shutdown(),
    "SIGTERM in run()": lambda harness, app: harness.run(app, turns=2),
    "SIGINT outside run()": lambda harness, app: harness.stop(app, signal.SIGINT),
}


@pytest.mark.parametrize("how", sorted(STOPS))
def test_the_stop_sequence_in_order_then_the_hook(ofa_app: AppHarness, how: str) -> None:
    app = build(ofa_app, Line)
    before = len(ofa_app.recorder.records)
    STOPS[how](ofa_app, app)
    records = [r for r in ofa_app.recorder.records[before:] if r.key == UUID]
    stop = [described(r) for r in records]
    if how == "SIGTERM in run()":
        assert stop[0][1:3] == ("avail", "AVAILABLE")
        stop = stop[1:]
    assert stop == EXPECTED
    assert app.hooked == [len(ofa_app.recorder.records)]  # after every record above
    app.shutdown()
    assert app.hooked == [len(ofa_app.recorder.records)]  # once


def test_a_failed_loop_deregisters_before_the_hook(ofa_app: AppHarness) -> None:
    # Reference 11 item 12: 0.5.3 calls the hook first on this path.
    app = build(ofa_app, Failing)
    before = len(ofa_app.recorder.records)
    app.run()
    stop = [described(r) for r in ofa_app.recorder.records[before:] if r.key == UUID]
    assert stop[0][1:3] == ("avail", "AVAILABLE")
    assert stop[1:] == EXPECTED
    assert app.hooked == [len(ofa_app.recorder.records)]


def test_the_platforms_tables_forget_the_app(ofa_app: AppHarness) -> None:
    app = build(ofa_app, Line)
    app.avail = "AVAILABLE"
    where = f" WHERE ASSET_UUID='{UUID}';"
    for table in ("assets_type", "assets_avail", "docker_services"):
        assert len(ofa_app.query(f"SELECT * FROM {table}{where}")) == 1, table
    app.shutdown()
    for table in ("assets_type", "assets_avail", "docker_services"):
        assert ofa_app.query(f"SELECT * FROM {table}{where}") == [], table
    (row,) = ofa_app.query(f"SELECT VALUE FROM assets WHERE key='{UUID}|avail';")
    assert row == {"VALUE": "UNAVAILABLE"}
    (uns,) = [r for r in ofa_app.recorder.on_topic("asset_to_uns_map_topic", UUID)]
    assert list(json.loads(uns.value or b"")) == [
        "asset_uuid",
        "uns_id",
        "uns_levels",
        "updated_at",
    ]
