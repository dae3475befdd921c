"""Reference section 3.4: the web-app variants ``OpenFactoryFastAPIApp`` and
``OpenFactoryFlaskApp`` (0.6.6), behind the ``[fastapi]`` and ``[flask]`` extras."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import openfactory.apps
from openfactory.assets import Asset, AssetAttribute
from openfactory.errors import ConfigurationError
from openfactory.testing import FakeKSQLDB

fastapi = pytest.importorskip("fastapi", reason="CI installs the [fastapi] extra")
flask = pytest.importorskip("flask", reason="CI installs the [flask] extra")
prometheus_client = pytest.importorskip("prometheus_client", reason="the [metrics] extra")
httpx = pytest.importorskip("httpx")

from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: E402

from openfactory.apps import OpenFactoryFastAPIApp, OpenFactoryFlaskApp  # noqa: E402

REFUSED = "{} does NOT support 'main_loop'. Use 'async_main_loop' instead."


@pytest.fixture
def ksqldb() -> FakeKSQLDB:
    return FakeKSQLDB()


def asgi_get(app: OpenFactoryFastAPIApp, path: str) -> httpx.Response:
    """GET ``path`` from ``app.api`` in memory (no socket), under the app's root path."""

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app.api, root_path=app.root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://press") as client:
            return await client.get(path)

    return asyncio.run(get())


def avail_values(ksqldb: FakeKSQLDB, uuid: str) -> list[Any]:
    records = ksqldb.broker.records("ofa_assets", uuid)
    return [r.json()["VALUE"] for r in records if r.json()["ID"] == "avail"]


def deploy_prometheus_registry(ksqldb: FakeKSQLDB, uuid: str = "PROMETHEUS-REGISTRY") -> None:
    """What the platform's deployer publishes for a Prometheus registry asset."""
    registry = Asset(uuid, ksqldb)
    registry.add_attribute(
        "AssetType", AssetAttribute("Prometheus.Registry", "OpenFactory", "AssetType")
    )
    registry.close()


# importing ------------------------------------------------------------------------------------
def test_openfactory_apps_imports_without_the_web_frameworks() -> None:
    code = textwrap.dedent(
        """
        import sys
        for name in ("fastapi", "uvicorn", "flask", "werkzeug", "prometheus_client"):
            sys.modules[name] = None  # as if the extras were not installed
        import openfactory.apps
        from openfactory.apps import OpenFactoryApp, ofa_method
        assert "OpenFactoryFastAPIApp" in openfactory.apps.__all__
        assert "OpenFactoryFlaskApp" in openfactory.apps.__all__
        try:
            openfactory.apps.OpenFactoryFlaskApp
        except ImportError as err:
            print(err)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'openfactory-app-sdk[flask]'" in result.stdout


@pytest.mark.parametrize(
    ("name", "blocked", "extra"),
    [("OpenFactoryFastAPIApp", "fastapi", "fastapi"), ("OpenFactoryFlaskApp", "flask", "flask")],
)
def test_missing_extra_raises_an_import_error_naming_class_and_extra(
    monkeypatch: pytest.MonkeyPatch, name: str, blocked: str, extra: str
) -> None:
    module = "openfactory.apps." + ("ofa_fastapi_app" if extra == "fastapi" else "ofa_flask_app")
    monkeypatch.setitem(sys.modules, blocked, None)  # `import <blocked>` now fails
    monkeypatch.delitem(sys.modules, module)
    monkeypatch.delattr(openfactory.apps, name, raising=False)  # the lazily cached name
    message = rf"{name} needs .*\[{extra}\] extra .*pip install 'openfactory-app-sdk\[{extra}\]'"
    with pytest.raises(ImportError, match=message):
        getattr(openfactory.apps, name)
    with pytest.raises(ImportError, match=message):
        exec(f"from openfactory.apps import {name}", {})


def test_web_app_names_resolve_lazily_and_are_cached() -> None:
    assert openfactory.apps.OpenFactoryFastAPIApp is OpenFactoryFastAPIApp
    assert openfactory.apps.OpenFactoryFlaskApp is OpenFactoryFlaskApp
    assert vars(openfactory.apps)["OpenFactoryFastAPIApp"] is OpenFactoryFastAPIApp
    assert {"OpenFactoryFastAPIApp", "OpenFactoryFlaskApp"} <= set(dir(openfactory.apps))
    with pytest.raises(AttributeError, match="OpenFactoryDjangoApp"):
        openfactory.apps.OpenFactoryDjangoApp  # noqa: B018


# FastAPI ----------------------------------------------------------------------------------------
class Press(OpenFactoryFastAPIApp):
    def configure_routes(self) -> None:
        @self.api.get("/status")
        def status() -> dict[str, Any]:
            return {"uuid": self.asset_uuid, "avail": self.avail.value}


def test_fastapi_route_in_memory(monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB) -> None:
    monkeypatch.setenv("APP_UUID", "PRESS-1")
    monkeypatch.setenv("APPLICATION_VERSION", "2.1")
    monkeypatch.setenv("APPLICATION_LICENSE", "MIT")
    monkeypatch.setenv("OPENFACTORY_ROOT_PATH", "/apps/press-1")
    app = Press(ksqldb, loglevel="DEBUG", log_http_requests=False, test_mode=True)
    assert app.log_http_requests is False
    assert app.root_path == "/apps/press-1"
    response = asgi_get(app, "/status")
    assert response.status_code == 200
    assert response.json() == {"uuid": "PRESS-1", "avail": "UNAVAILABLE"}
    openapi = asgi_get(app, "/openapi.json").json()
    assert openapi["info"] == {"title": "PRESS-1", "version": "2.1", "license": {"name": "MIT"}}
    assert openapi["servers"] == [{"url": "/apps/press-1"}]


def test_constructor_takes_the_reference_parameters_in_order(ksqldb: FakeKSQLDB) -> None:
    for cls in (OpenFactoryFastAPIApp, OpenFactoryFlaskApp):
        app = cls(ksqldb, None, None, "WARNING", False, True)
        assert (app.log_http_requests, app.test_mode, app.logger.level) == (False, True, 30)
        app.shutdown()


# Flask ------------------------------------------------------------------------------------------
class Mixer(OpenFactoryFlaskApp):
    def configure_routes(self) -> None:
        @self.app.get("/status")
        def status() -> dict[str, Any]:
            app = flask.current_app.ofa_app  # the documented way for a view to reach the app
            return {"uuid": app.asset_uuid, "script_root": flask.request.script_root}


def test_flask_route_in_memory(monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB) -> None:
    monkeypatch.setenv("APP_UUID", "MIXER-1")
    monkeypatch.setenv("OPENFACTORY_ROOT_PATH", "/apps/mixer-1")
    app = Mixer(ksqldb, test_mode=True)
    assert app.app.ofa_app is app
    assert app.app.name == "openfactory.apps.ofa_flask_app"
    assert app.app.config["APPLICATION_ROOT"] == "/apps/mixer-1"
    assert isinstance(app.app.wsgi_app, ProxyFix)
    client = app.app.test_client()
    assert client.get("/status").get_json() == {"uuid": "MIXER-1", "script_root": "/apps/mixer-1"}
    proxied = client.get("/status", headers={"X-Forwarded-Prefix": "/via-proxy"})
    assert proxied.get_json()["script_root"] == "/via-proxy"  # ProxyFix(x_prefix=1)


def test_create_flask_app_hook_and_an_application_root_of_its_own(
    monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB
) -> None:
    class Custom(OpenFactoryFlaskApp):
        def create_flask_app(self) -> flask.Flask:
            custom = flask.Flask("custom")
            custom.config["APPLICATION_ROOT"] = "/mine"
            return custom

    monkeypatch.setenv("OPENFACTORY_ROOT_PATH", "/apps/custom")
    app = Custom(ksqldb, test_mode=True)
    assert (app.app.name, app.app.config["APPLICATION_ROOT"]) == ("custom", "/mine")


# main_loop is refused ---------------------------------------------------------------------------
@pytest.mark.parametrize("base", [OpenFactoryFastAPIApp, OpenFactoryFlaskApp])
def test_main_loop_is_refused_at_run_time(
    base: type, ksqldb: FakeKSQLDB, capsys: pytest.CaptureFixture[str]
) -> None:
    class Legacy(base):  # type: ignore[misc, valid-type]
        def main_loop(self) -> None:
            raise AssertionError("never called")

    app = Legacy(ksqldb, test_mode=True)
    app.run()  # asyncio.run(async_run()): the error is logged, then the app shuts down
    # The app's logger (its own handler, not propagated) writes to stderr.
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and errors[0].endswith(REFUSED.format(base.__name__))
    assert avail_values(ksqldb, "DEV-UUID")[-1] == "UNAVAILABLE"
    assert app.shutdown().clean and app.server_port is None


# expose_metrics -------------------------------------------------------------------------------
def test_expose_metrics_serves_a_registry_and_registers_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB
) -> None:
    deploy_prometheus_registry(ksqldb)
    registry = prometheus_client.CollectorRegistry()
    made = prometheus_client.Counter("parts_made", "Parts made by the press", registry=registry)
    monkeypatch.setenv("APP_UUID", "PRESS-7")
    monkeypatch.setenv("PORT", "8123")
    app = Press(ksqldb, test_mode=True)
    app.expose_metrics("/metrics", registry)
    app.expose_metrics("/metrics", registry)  # the same path again: nothing more
    made.inc(3)
    response = asgi_get(app, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == prometheus_client.CONTENT_TYPE_LATEST
    assert "parts_made_total 3.0" in response.text
    targets = ksqldb.broker.records("metrics_targets_topic")
    assert [(r.key, r.json()) for r in targets] == [
        ("PRESS-7", {"HOST": "press-7", "PORT": "8123", "PATH": "/metrics"})
    ]


def test_expose_metrics_defaults_and_refusals(ksqldb: FakeKSQLDB) -> None:
    app = Press(ksqldb, test_mode=True)
    with pytest.raises(ConfigurationError, match="No Prometheus Registry deployed"):
        app.expose_metrics()
    assert asgi_get(app, "/metrics").status_code == 404  # no half-done route left
    deploy_prometheus_registry(ksqldb)
    with pytest.raises(ValueError, match=r"'/status'.*already has a route"):
        app.expose_metrics("/status")
    app.expose_metrics()  # prometheus_client's global registry, port 4000
    assert "python_info" in asgi_get(app, "/metrics").text
    target = ksqldb.broker.records("metrics_targets_topic")[-1].json()
    assert target == {"HOST": "dev-uuid", "PORT": "4000", "PATH": "/metrics"}


def test_expose_metrics_without_the_metrics_extra(
    monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB
) -> None:
    app = Press(ksqldb, test_mode=True)
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImportError, match=r"pip install 'openfactory-app-sdk\[metrics\]'"):
        app.expose_metrics()


# the real server, on loopback --------------------------------------------------------------
class ServedPress(Press):
    listen_host = "127.0.0.1"  # loopback only in tests; the default is the reference's 0.0.0.0


class ServedMixer(Mixer):
    listen_host = "127.0.0.1"


def refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def logged_request_lines(caplog: pytest.LogCaptureFixture, stdout: str) -> list[str]:
    """Access-log lines for GET /status: werkzeug logs through logging, uvicorn's access
    logger writes to stdout."""
    lines = [r.getMessage() for r in caplog.records] + stdout.splitlines()
    return [line for line in lines if re.search(r'"GET (/apps/dev)?/status HTTP/1\.1"', line)]


@pytest.mark.parametrize("app_class", [ServedPress, ServedMixer])
def test_server_lifecycle_on_loopback(
    monkeypatch: pytest.MonkeyPatch,
    ksqldb: FakeKSQLDB,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    app_class: type,
) -> None:
    monkeypatch.setenv("PORT", "0")  # a free port, told by wait_until_serving()
    monkeypatch.setenv("OPENFACTORY_ROOT_PATH", "/apps/dev")
    app = app_class(ksqldb, test_mode=True)

    async def scenario() -> tuple[int, Any, Any]:
        running = asyncio.create_task(app.async_run())
        port = await app.wait_until_serving(timeout=10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            response = await client.get("/status")
            if app_class is ServedPress:  # the root path reaches FastAPI through uvicorn
                servers = (await client.get("/openapi.json")).json()["servers"]
                assert servers == [{"url": "/apps/dev"}]
        avail = app.avail.value
        signal.raise_signal(signal.SIGTERM)  # to this process, as a container stop does
        await asyncio.wait_for(running, timeout=20)
        return port, response, avail

    with caplog.at_level(logging.INFO):
        port, response, avail_while_serving = asyncio.run(scenario())
    assert response.status_code == 200 and response.json()["uuid"] == "DEV-UUID"
    assert len(logged_request_lines(caplog, capsys.readouterr().out)) == 1  # logged: the default
    assert avail_while_serving == "AVAILABLE"
    assert refused(port), "the server still accepts connections after the shutdown"
    assert app.server_port is None
    assert avail_values(ksqldb, "DEV-UUID")[-2:] == ["AVAILABLE", "UNAVAILABLE"]
    assert app.shutdown().clean


@pytest.mark.parametrize(("app_class", "ends"), [(ServedPress, "raises"), (ServedMixer, "returns")])
def test_loop_that_ends_stops_the_server(
    monkeypatch: pytest.MonkeyPatch,
    ksqldb: FakeKSQLDB,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    app_class: type,
    ends: str,
) -> None:
    class Ending(app_class):  # type: ignore[misc, valid-type]
        async def async_main_loop(self) -> None:
            await self.go.wait()
            if ends == "raises":
                raise RuntimeError("conveyor jammed")

    monkeypatch.setenv("PORT", "0")
    app = Ending(ksqldb, test_mode=True, log_http_requests=False)
    object.__setattr__(app, "go", asyncio.Event())

    async def scenario() -> int:
        running = asyncio.create_task(app.async_run())
        port = await app.wait_until_serving(timeout=10)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/status")).status_code == 200
        app.go.set()
        await asyncio.wait_for(running, timeout=20)
        return port

    with caplog.at_level(logging.INFO):
        port = asyncio.run(scenario())
    assert refused(port)
    assert avail_values(ksqldb, "DEV-UUID")[-1] == "UNAVAILABLE"
    captured = capsys.readouterr()
    assert ("conveyor jammed" in captured.err) == (ends == "raises")
    # log_http_requests=False: uvicorn's access log is off, werkzeug has QuietWSGIRequestHandler.
    assert logged_request_lines(caplog, captured.out) == []


def test_fastapi_server_keeps_serving_after_the_loop_returns(
    monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB
) -> None:
    class SetUpThenServe(ServedPress):
        async def async_main_loop(self) -> None:
            self.finished.set()  # set-up done: the server alone carries on

    monkeypatch.setenv("PORT", "0")
    app = SetUpThenServe(ksqldb, test_mode=True)
    object.__setattr__(app, "finished", asyncio.Event())

    async def scenario() -> tuple[int, int]:
        running = asyncio.create_task(app.async_run())
        port = await app.wait_until_serving(timeout=10)
        await asyncio.wait_for(app.finished.wait(), timeout=10)
        async with httpx.AsyncClient() as client:
            status = (await client.get(f"http://127.0.0.1:{port}/status")).status_code
        assert not running.done()
        signal.raise_signal(signal.SIGINT)
        await asyncio.wait_for(running, timeout=20)
        return port, status

    port, status = asyncio.run(scenario())
    assert status == 200 and refused(port)
    assert avail_values(ksqldb, "DEV-UUID")[-1] == "UNAVAILABLE"


def test_a_busy_port_is_logged_and_the_app_shuts_down(
    monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        monkeypatch.setenv("PORT", str(port))
        for app_class in (ServedPress, ServedMixer):
            app = app_class(ksqldb, test_mode=True)
            app.run()
            logged = capsys.readouterr().err
            assert f"cannot listen on 127.0.0.1:{port}" in logged
            assert "set PORT to a free port" in logged
            assert avail_values(ksqldb, "DEV-UUID")[-1] == "UNAVAILABLE"


def test_port_must_be_a_number(monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB) -> None:
    monkeypatch.setenv("PORT", "http")
    app = ServedPress(ksqldb, test_mode=True)
    with pytest.raises(
        ConfigurationError, match=r"PORT must be a TCP port number \(0-65535\), got 'http'"
    ):
        app.expose_metrics()
    assert asgi_get(app, "/metrics").status_code == 404
    app.run()  # the same error, logged: the app shuts down
    assert avail_values(ksqldb, "DEV-UUID")[-1] == "UNAVAILABLE"


def test_a_shutdown_that_lost_records_ends_with_status_1(
    monkeypatch: pytest.MonkeyPatch, ksqldb: FakeKSQLDB, capsys: pytest.CaptureFixture[str]
) -> None:
    # As OpenFactoryApp.run(): the process must say that records were lost.
    monkeypatch.setenv("PORT", "http")  # the run ends at once, with the shutdown
    for app_class in (ServedPress, ServedMixer):
        app = app_class(ksqldb, test_mode=True)
        ksqldb.broker.fail_next(2)  # avail=AVAILABLE at start, UNAVAILABLE at the shutdown
        with pytest.raises(SystemExit) as exit_:
            app.run()
        assert exit_.value.code == 1
        assert app.shutdown_report is not None and app.shutdown_report.lost > 0
        assert "PORT must be a TCP port number" in capsys.readouterr().err
