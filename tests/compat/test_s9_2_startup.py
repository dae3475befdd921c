"""Reference section 9.2: what an app publishes at start, in order, and what the platform's
clients then read of it through ksqlDB (section 9.4 statements), including the empty
``<method>_CMD`` placeholders a 0.5.3 client needs before it sends a command (section 10), and
section 11 item 10 (an app's own placeholders are no failed commands)."""

from __future__ import annotations

import logging

import pytest

from openfactory.apps import EventAttribute, OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets.attribute import command_record
from openfactory.testing import AppHarness
from openfactory.utils.assets import register_asset

UUID = "PRESS-01"
STANDARD = [
    ("avail", "UNAVAILABLE"),
    ("application_version", "latest"),
    ("application_manufacturer", "OpenFactoryIO"),
    ("application_license", "BSD-3-Clause license"),
    ("openfactory_manufacturer", "OpenFactoryIO"),
]


class BasePress(OpenFactoryApp):
    status = EventAttribute(value="idle", tag="Press.Status")

    @ofa_method(description="Clamp the part")
    def clamp(self) -> None:
        pass


class Press(BasePress):
    force = SampleAttribute(value=0.0, tag="Press.Force")

    @ofa_method(name="press", param_description={"force": "kN"})
    def do_press(self, force: float) -> None:
        self.force = force

    def main_loop(self) -> None:
        self.status = "pressing"


def test_start_up_records_in_order(ofa_app: AppHarness) -> None:
    press = ofa_app.build(Press, UUID)
    started = [(a.id, a.value, a.type, a.tag) for a in ofa_app.recorder.published(asset=UUID)]
    # 1. each method (base classes' first): its contract, then its empty placeholder
    assert [(i, t, g) for i, _v, t, g in started[:4]] == [
        ("clamp", "Method", "Method"),
        ("clamp_CMD", "OpenFactory", "Method.Command"),
        ("press", "Method", "Method"),
        ("press_CMD", "OpenFactory", "Method.Command"),
    ]
    assert started[1][1] == started[3][1] == ""
    # 2. the declared attributes: avail and the standard ones, then the classes' own
    assert [(i, v) for i, v, _t, _g in started[4:9]] == STANDARD
    assert [i for i, *_ in started[9:]] == [
        "openfactory_license",
        "openfactory_version",
        "status",
        "force",
    ]
    assert all(t == "Events" for _i, _v, t, _g in started[4:11])
    # 3. run(): AVAILABLE, then what the loop publishes
    press.run()
    after = [(a.id, a.value) for a in ofa_app.recorder.published(asset=UUID)][len(started) :]
    assert after[:2] == [("avail", "AVAILABLE"), ("status", "pressing")]


def test_the_platform_client_finds_each_command_attribute(ofa_app: AppHarness) -> None:
    # What a 0.5.3 Asset client queries before it sends a command (reference 4.6, 9.4).
    register_asset(UUID, None, "OpenFactoryApp", ofa_app.ksqldb, docker_service=UUID.lower())
    ofa_app.build(Press, UUID)
    ids = {
        row["ID"]
        for row in ofa_app.query(
            f"SELECT ID FROM assets WHERE asset_uuid='{UUID}' AND TYPE != 'Method';"
        )
    }
    assert {"clamp_CMD", "press_CMD", "AssetType", "DockerService", "avail"} <= ids
    assert {"clamp", "press"}.isdisjoint(ids)
    (placeholder,) = ofa_app.query(
        f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets WHERE key='{UUID}|press_CMD';"
    )
    assert (placeholder["VALUE"], placeholder["TYPE"], placeholder["TAG"]) == (
        "",
        "OpenFactory",
        "Method.Command",
    )
    methods = ofa_app.query(
        f"SELECT ID, VALUE, TYPE FROM assets WHERE asset_uuid='{UUID}' AND TYPE='Method';"
    )
    assert {m["ID"] for m in methods} == {"clamp", "press"}


def test_an_apps_own_placeholders_are_no_failed_commands(
    ofa_app: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # Reference 11 item 10: 0.5.3 apps log one ERROR per method at start.
    logger = logging.getLogger(UUID)
    logger.setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG):
        press = ofa_app.build(Press, UUID, loglevel="DEBUG")
        # someone else's empty VALUE is the same placeholder: ignored too
        ofa_app.broker.produce("ofa_assets", UUID, command_record("press", ""))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug.count("press_CMD placeholder (empty VALUE): no command") == 2
    assert ofa_app.recorder.outcomes == [] and ofa_app.recorder.errors == []
    assert ofa_app.call(press, "press", force="12").status == "executed"  # type: ignore[union-attr]


def test_a_restarted_app_resets_its_command_attributes(ofa_app: AppHarness) -> None:
    first = ofa_app.build(Press, UUID)
    ofa_app.call(first, "press", force="3")
    key = f"SELECT VALUE FROM assets WHERE key='{UUID}|press_CMD';"
    assert ofa_app.query(key)[0]["VALUE"].startswith('{"header"')
    first.shutdown()
    ofa_app.build(Press, UUID)  # the same app, started again
    assert ofa_app.query(key) == [{"VALUE": ""}]


def test_while_running_one_record_per_assignment_and_commands_on_the_apps_key(
    ofa_app: AppHarness,
) -> None:
    press = ofa_app.build(Press, UUID)
    before = len(ofa_app.recorder.published(asset=UUID))
    press.status = "ready"
    press.status = "ready"  # every assignment publishes, even an unchanged value
    ofa_app.call(press, "press", force="7.5")
    new = [(a.id, a.type) for a in ofa_app.recorder.published(asset=UUID)[before:]]
    assert new == [
        ("status", "Events"),
        ("status", "Events"),
        ("press_CMD", "OpenFactory"),
        ("force", "Samples"),
    ]
