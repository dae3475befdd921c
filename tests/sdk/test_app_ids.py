"""The app's UUID keys every record it publishes: one that cannot be encoded is a clear
configuration error at construction, naming the variable to fix."""

from __future__ import annotations

import pytest

from openfactory.apps import OpenFactoryApp
from openfactory.apps.environment import app_uuid_from_env
from openfactory.errors import ConfigurationError


def test_an_app_uuid_that_is_not_utf8_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, ofa_ksqldb
) -> None:
    monkeypatch.setenv("APP_UUID", "PRESS-\udcff")  # the byte 0xff, as os.environ holds it
    with pytest.raises(ConfigurationError, match=r"^APP_UUID must be valid UTF-8 text") as error:
        OpenFactoryApp(ofa_ksqldb)
    assert "'PRESS-\\udcff'" in str(error.value) and "at character 6" in str(error.value)


def test_a_lone_surrogate_is_refused_too() -> None:
    with pytest.raises(ConfigurationError, match=r"^APP_UUID must be valid UTF-8 text"):
        app_uuid_from_env({"APP_UUID": "PRESS-\ud800"})


def test_a_swarm_task_slot_that_is_not_utf8_names_swarm_task_slot(
    monkeypatch: pytest.MonkeyPatch, ofa_ksqldb
) -> None:
    monkeypatch.setenv("SWARM_REPLICAS", "2")
    monkeypatch.setenv("SWARM_TASK_SLOT", "\udcfe")
    with pytest.raises(ConfigurationError, match=r"^SWARM_TASK_SLOT must be valid UTF-8"):
        OpenFactoryApp(ofa_ksqldb)
