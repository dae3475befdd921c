"""Suite for curing_oven.py (an app in the platform library's 0.6.6 style)."""

import json
import logging

import pytest
from curing_oven import CuringOven

from openfactory.assets import AssetAttribute


@pytest.fixture
def oven(ofa_app):
    return ofa_app.view("OVEN-7")


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def app(ofa_app, oven, data):
    storage = {"data": {"type": "local", "local_path": str(data), "mount_point": str(data)}}
    env = {"OVEN_UUID": "OVEN-7", "STORAGE": json.dumps(storage), "HEAT_UP_TIMEOUT": "0.05"}
    return ofa_app.build(CuringOven, "CURING-1", env=env)


def heat(oven, celsius):
    oven.add_attribute(
        "temperature", AssetAttribute(value=celsius, type="Samples", tag="Oven.Temperature")
    )


def report(data, batch_id):
    return json.loads((data / "batches" / f"{batch_id}.json").read_text())


def test_a_batch_is_cured_and_reported(app, oven, ofa_app, ofa_recorder, data):
    heat(oven, 185.0)
    ofa_app.call(app, "start_batch", batch_id="B-1", setpoint="180")
    ofa_app.call(app, "retire")
    result = ofa_app.run(app)  # the loop cures B-1, then the app shuts itself down
    assert result.clean
    assert ofa_recorder.values("batch_state") == ["idle", "heating", "curing", "cured"]
    cured = report(data, "B-1")
    assert (cured["setpoint"], cured["result"]) == (180.0, "cured")
    assert cured["ended"] - cured["started"] == 600  # virtual seconds
    assert ofa_recorder.values("avail") == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


def test_a_cold_oven_fails_the_batch_and_the_next_one_runs(app, oven, ofa_app, ofa_recorder, data):
    heat(oven, 20.0)
    ofa_app.call(app, "start_batch", batch_id="B-2", setpoint="180")
    ofa_app.call(app, "start_batch", batch_id="B-3", setpoint="15")
    ofa_app.call(app, "retire")
    ofa_app.run(app)
    assert report(data, "B-2")["result"] == "not cured: the oven stayed too cold"
    assert report(data, "B-3")["result"] == "cured"
    assert any("did not reach 180.0 °C" in error for error in ofa_recorder.errors)


def test_an_offline_oven_is_too_cold(app, ofa_app, data):
    ofa_app.call(app, "start_batch", batch_id="B-4", setpoint="180")
    ofa_app.call(app, "retire")
    ofa_app.run(app)
    assert report(data, "B-4")["result"].startswith("not cured")


def test_log_lines_name_the_batch_and_the_oven(app, oven, ofa_app, caplog):
    heat(oven, 200.0)
    with caplog.at_level(logging.INFO):
        ofa_app.call(app, "start_batch", batch_id="B-5", setpoint="180")
        ofa_app.call(app, "retire")
        ofa_app.run(app)
    (waiting,) = [r for r in caplog.records if r.getMessage() == "waiting for 180.0 °C"]
    assert (waiting.batch, waiting.oven) == ("B-5", "OVEN-7")


def test_the_mes_sees_the_batch_methods(app, ofa_app):
    methods = ofa_app.view("CURING-1").methods()
    assert methods["start_batch"]["arguments"] == [
        {"name": "batch_id", "description": "Id of the batch"},
        {"name": "setpoint", "description": "Curing temperature in °C"},
    ]
    assert ofa_app.call(app, "start_batch", batch_id="B-6", setpoint="hot").status == "rejected"
