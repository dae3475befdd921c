"""Reference section 2: every documented module path of this part imports, with the documented
names, and they are this SDK's own objects (thin re-exports)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import openfactory
from openfactory import errors
from openfactory.apps.app import OpenFactoryApp
from openfactory.apps.methods import ofa_method
from openfactory.commands import envelope
from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.utils.case_insensitive_dict import CaseInsensitiveDict

DOCUMENTED = {
    "openfactory.apps": ["OpenFactoryApp", "ofa_method", "EventAttribute", "SampleAttribute"],
    "openfactory.apps.ofaapp": ["OpenFactoryApp"],
    "openfactory.apps.decorators": ["ofa_method"],
    "openfactory.kafka": ["KSQLDBClient", "AssetProducer", "CaseInsensitiveDict"],
    "openfactory.kafka.ksql": ["KSQLDBClient", "KSQLDBClientException"],
    "openfactory.kafka.asset_producer": ["AssetProducer"],
    "openfactory.exceptions": ["OFAException", "OFAConfigurationException",
                               "DockerComposeException"],
    "openfactory.schemas.command_header": ["CommandHeader", "CommandEnvelope"],
    "openfactory.utils.assets": ["register_asset", "deregister_asset"],
    "openfactory.config": ["KAFKA_BROKER", "KSQLDB_URL", "ASSET_ROUTER_URL", "KSQLDB_LOG_LEVEL"],
}  # fmt: skip

SAME_OBJECT = {
    ("openfactory.apps.ofaapp", "OpenFactoryApp"): OpenFactoryApp,
    ("openfactory.apps.decorators", "ofa_method"): ofa_method,
    ("openfactory.kafka.ksql", "KSQLDBClient"): KSQLDBClient,
    ("openfactory.kafka.ksql", "KSQLDBClientException"): errors.KSQLDBError,
    ("openfactory.kafka", "CaseInsensitiveDict"): CaseInsensitiveDict,
    ("openfactory.exceptions", "OFAException"): errors.OpenFactoryError,
    ("openfactory.exceptions", "OFAConfigurationException"): errors.OFAConfigurationException,
    ("openfactory.schemas.command_header", "CommandHeader"): envelope.CommandHeader,
    ("openfactory.schemas.command_header", "CommandEnvelope"): envelope.CommandEnvelope,
}


@pytest.mark.parametrize("module", sorted(DOCUMENTED))
def test_documented_names_import(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in DOCUMENTED[module]:
        assert hasattr(loaded, name), f"{module} lacks {name}"
    exported = getattr(loaded, "__all__", None)
    if exported is not None:
        assert set(DOCUMENTED[module]) <= set(exported)


@pytest.mark.parametrize(("module", "name"), sorted(SAME_OBJECT))
def test_paths_re_export_the_sdk_objects(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is SAME_OBJECT[(module, name)]


def test_the_asset_producer_is_one_class_at_both_paths() -> None:
    from openfactory.kafka import AssetProducer
    from openfactory.kafka.asset_producer import AssetProducer as AtItsPath

    assert AssetProducer is AtItsPath


def test_version_is_the_installed_distribution_version() -> None:
    from importlib.metadata import version

    assert openfactory.__version__ == version("openfactory-app-sdk")


def _python(code: str, cwd: Path, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_config_reads_the_environment_at_import(tmp_path: Path) -> None:
    env = os.environ | {
        "KAFKA_BROKER": "broker:9092",
        "KSQLDB_URL": "http://ksqldb:8088",
        "ASSET_ROUTER_URL": "http://router:8080",
        "KSQLDB_LOG_LEVEL": "DEBUG",
    }
    code = (
        "import json; from openfactory import config; print(json.dumps([config.KAFKA_BROKER, "
        "config.KSQLDB_URL, config.ASSET_ROUTER_URL, config.KSQLDB_LOG_LEVEL]))"
    )
    assert _python(code, tmp_path, env) == [
        "broker:9092", "http://ksqldb:8088", "http://router:8080", "WARNING",
    ]  # fmt: skip
    unset = {k: v for k, v in env.items() if k not in ("KAFKA_BROKER", "ASSET_ROUTER_URL")}
    assert _python(code, tmp_path, unset | {"KSQLDB_URL": ""}) == [None, None, None, "WARNING"]


def test_importing_openfactory_has_no_side_effects(tmp_path: Path) -> None:
    # Upstream loads ./.ofaenv and writes OPENFACTORY_VERSION; this SDK leaves the env alone.
    (tmp_path / ".ofaenv").write_text("FROM_OFAENV=1\nKAFKA_BROKER=from-ofaenv:9092\n")
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BROKER", "OPENFACTORY_VERSION")}
    code = (
        "import json, os, sys; before = dict(os.environ); import openfactory, openfactory.config;"
        "print(json.dumps({'changed': sorted(set(os.environ.items()) ^ set(before.items())),"
        "'broker': openfactory.config.KAFKA_BROKER, 'version': openfactory.__version__,"
        "'admin': [n for n in ('OpenFactory', 'OpenFactoryManager') if hasattr(openfactory, n)]}))"
    )
    for variant in ({"OPENFACTORY_ENV": "dev"}, {}):
        result = _python(code, tmp_path, env | variant)
        assert result == {"changed": [], "broker": None, "version": openfactory.__version__,
                          "admin": []}  # fmt: skip
