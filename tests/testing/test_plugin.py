"""The pytest plugin, tested the way pytest tests plugins: in a pytester sandbox."""

from __future__ import annotations

import pytest

APP_MODULE = """
import time
from openfactory.apps import OpenFactoryApp, EventAttribute, ofa_method

class Lamp(OpenFactoryApp):
    state = EventAttribute(value="off", tag="Lamp.State")

    @ofa_method()
    def switch(self, on: bool):
        \"\"\"Switch the lamp.\"\"\"
        self.state = "on" if on else "off"

    def main_loop(self):
        while True:
            time.sleep(5)
"""


@pytest.fixture
def lamp(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(lamp_app=APP_MODULE)
    pytester.syspathinsert()
    return pytester


def test_fixtures_drive_an_app(lamp: pytest.Pytester) -> None:
    lamp.makepyfile(
        test_lamp="""
        from lamp_app import Lamp

        def test_switch(ofa_app, ofa_recorder):
            app = ofa_app.build(Lamp, "LAMP-1")
            ofa_app.call(app, "switch", on="true")
            ofa_recorder.assert_last("state", "on")
            assert ofa_app.run(app, turns=2).virtual_seconds == 10

        def test_each_test_has_a_fresh_broker(ofa_broker, ofa_recorder):
            assert ofa_broker.topics() == sorted(ofa_broker.topics())
            assert ofa_recorder.published() == []

        def test_clock_and_signals(ofa_clock, ofa_signals):
            import time
            time.sleep(3600)
            assert ofa_clock.elapsed == 3600 and ofa_signals.delivered == []
        """
    )
    lamp.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


PRODUCTION_TEST = """
from lamp_app import Lamp
from openfactory.kafka import KSQLDBClient

def test_production_lamp(ofa_recorder):
    app = Lamp(KSQLDBClient("http://127.0.0.1:1", max_retries=0),
               bootstrap_servers="127.0.0.1:1", test_mode=False)
    app.switch(on=True)
    app.shutdown()
    ofa_recorder.assert_last("avail", "UNAVAILABLE")
    ofa_recorder.assert_last("state", "on")
"""


def test_fake_broker_option_routes_production_apps_in_memory(lamp: pytest.Pytester) -> None:
    lamp.makepyfile(test_prod=PRODUCTION_TEST)
    lamp.runpytest("-p", "no:cacheprovider", "--ofa-fake-broker").assert_outcomes(passed=1)


def test_without_the_option_an_unreachable_cluster_fails_fast_with_a_hint(
    lamp: pytest.Pytester,
) -> None:
    lamp.makepyfile(test_prod=PRODUCTION_TEST)
    result = lamp.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*run pytest with --ofa-fake-broker*"])


def test_help_lists_the_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--ofa-fake-broker*run every OpenFactory app*"])


def test_real_protocol_fixtures(lamp: pytest.Pytester) -> None:
    lamp.makepyfile(
        test_wire="""
        from lamp_app import Lamp
        from openfactory.assets import Asset
        from openfactory.kafka import KSQLDBClient

        def test_lamp_over_kafka(ofa_loopback_kafka, ofa_ksqldb_server):
            client = KSQLDBClient(ofa_ksqldb_server.url)
            assert client.get_kafka_topic("ASSETS_STREAM") == "ofa_assets"
            app = Lamp(client, bootstrap_servers=ofa_loopback_kafka.bootstrap_servers)
            app.switch(on=True)
            app.shutdown()
            states = [r.json()["VALUE"] for r in ofa_loopback_kafka.consume_all("ofa_assets")
                      if r.json()["ID"] == "state"]
            assert states == ["off", "on"]
        """
    )
    lamp.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_caplog_sees_what_an_app_logs(ofa_app, caplog) -> None:
    from demo_app import DemoApp

    app = ofa_app.build(DemoApp, "CAPLOG-APP")
    ofa_app.call(app, "move_axis", x="1", y="2")
    assert "Moving axis to x=1.0, y=2.0" in caplog.text
