"""Reference section 3.6 (logging): ``self.logger``, ``configure_logger``, ``with_context``,
the ``text`` and ``loki`` backends, and the 0.5.3 ``openfactory.setup_logging`` helpers."""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from openfactory.apps import OpenFactoryApp
from openfactory.errors import ConfigurationError
from openfactory.kafka import KSQLDBClient
from openfactory.logging import configure_logger
from openfactory.logging.backends.loki import LokiLoggerBackend
from openfactory.logging.backends.text import TextLoggerBackend
from openfactory.logging.configure import PROPAGATE_ENV
from openfactory.logging.formatters import JsonFormatter, PrefixFormatter
from openfactory.logging.loggers import OpenFactoryLogger, OpenFactoryLoggerAdapter
from openfactory.setup_logging import PrefixFormatter as LegacyPrefixFormatter
from openfactory.setup_logging import configure_prefixed_logger, setup_third_party_loggers


@pytest.fixture(autouse=True)
def _platform_propagation(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests pin the platform's loggers (no propagation): undo the plugin's caplog switch."""
    monkeypatch.delenv(PROPAGATE_ENV, raising=False)


def test_propagation_is_switched_on_only_by_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PROPAGATE_ENV, "1")
    assert configure_logger("propagating-logger").propagate is True
    monkeypatch.setenv(PROPAGATE_ENV, "0")
    assert configure_logger("propagating-logger").propagate is False


TEXT_LINE = re.compile(r"\[(?P<prefix>[^\]]+)\] \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\) (?P<rest>.*)")
UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
_names = itertools.count()


class Quiet(OpenFactoryApp):
    def main_loop(self) -> None:
        self.logger.info("looping")


class Records(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _log_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENFACTORY_LOG_BACKEND", raising=False)
    monkeypatch.delenv("OPENFACTORY_TEXT_LOG_DIRECTORY", raising=False)


@pytest.fixture
def name() -> Iterator[str]:
    """A logger name no other test uses; its handlers are closed afterwards."""
    fresh = f"log-test-{next(_names)}"
    yield fresh
    logger = logging.getLogger(fresh)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def build_app(monkeypatch: pytest.MonkeyPatch, uuid: str, loglevel: str | int = "INFO") -> Quiet:
    monkeypatch.setenv("APP_UUID", uuid)
    return Quiet(KSQLDBClient("http://localhost:1"), loglevel=loglevel, test_mode=True)


# --- the app's logger (both versions) ----------------------------------------------------


def test_app_logger_is_named_after_the_uuid_and_prefixed_upper_case(
    monkeypatch: pytest.MonkeyPatch, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(monkeypatch, name)
    assert isinstance(app.logger, OpenFactoryLogger) and isinstance(app.logger, logging.Logger)
    assert app.logger.name == name
    assert logging.getLogger(name) is app.logger
    assert app.logger.level == logging.INFO and app.logger.propagate is False
    app.logger.info("hello %s", "world")
    app.logger.debug("not shown at INFO")
    line = TEXT_LINE.fullmatch(capsys.readouterr().err.rstrip("\n"))
    assert line is not None
    assert line["prefix"] == name.upper() and line["rest"] == "INFO hello world"


@pytest.mark.parametrize(("loglevel", "level"), [("DEBUG", 10), ("warning", 30), (40, 40)])
def test_app_loglevel_is_a_name_or_a_number(
    monkeypatch: pytest.MonkeyPatch, name: str, loglevel: str | int, level: int
) -> None:
    assert build_app(monkeypatch, name, loglevel).logger.level == level


def test_app_logger_reaches_code_that_asks_logging_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(monkeypatch, name)
    logging.getLogger(name).warning("from a helper module")
    assert capsys.readouterr().err.rstrip().endswith("WARNING from a helper module")
    assert app.logger.handlers == logging.getLogger(name).handlers


def test_a_plain_logger_created_before_the_app_gains_with_context(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    early = logging.getLogger(name)
    assert type(early) is logging.Logger
    app = build_app(monkeypatch, name)
    assert app.logger is early and isinstance(early, OpenFactoryLogger)
    assert isinstance(app.logger.with_context(step=1), OpenFactoryLoggerAdapter)
    # the process-wide logger class is left alone (reference section 11, item 26)
    assert logging.getLoggerClass() is logging.Logger
    assert type(logging.getLogger(f"{name}-other")) is logging.Logger


def test_handlers_are_added_only_if_the_logger_has_none(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    own = Records()
    logging.getLogger(name).addHandler(own)
    app = build_app(monkeypatch, name)
    assert app.logger.handlers == [own]
    build_app(monkeypatch, name)
    assert app.logger.handlers == [own]


def test_a_second_app_of_the_same_uuid_does_not_duplicate_handlers(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    first = build_app(monkeypatch, name).logger.handlers
    assert len(first) == 1
    assert build_app(monkeypatch, name).logger.handlers == first


# --- with_context [0.6.6] ----------------------------------------------------------------


def test_with_context_sets_attributes_and_merges_extra(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    app = build_app(monkeypatch, name)
    records = Records()
    app.logger.addHandler(records)
    worker = app.logger.with_context(worker="w1", batch=7)
    worker.info("start")
    worker.info("clash", extra={"worker": "from-call", "item": 3})
    nested = worker.with_context(batch=8, step="dry")
    nested.warning("nested")
    worker.info("outer unchanged")
    start, clash, inner, outer = records.records
    assert fields(start, "worker", "batch") == ("w1", 7) and start.getMessage() == "start"
    assert fields(clash, "worker", "item") == ("w1", 3)
    assert fields(inner, "worker", "batch", "step") == ("w1", 8, "dry")
    assert inner.levelno == logging.WARNING
    assert fields(outer, "batch") == (7,) and not hasattr(outer, "step")


def fields(rec: logging.LogRecord, *names: str) -> tuple[object, ...]:
    return tuple(getattr(rec, name) for name in names)


def test_with_context_refuses_keys_every_record_already_has(name: str) -> None:
    logger = configure_logger(name)
    with pytest.raises(ValueError, match=r"\['name'\].*rename"):
        logger.with_context(name="job-1")
    with pytest.raises(ValueError, match="message"):
        logger.with_context(worker=1).with_context(message="x")


# --- configure_logger [0.6.6] and the text backend ----------------------------------------


def test_configure_logger_text_backend(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    logger = configure_logger(name, level=logging.DEBUG, prefix="PUMP")
    assert isinstance(logger, OpenFactoryLogger) and logger.propagate is False
    logger.debug("primed")
    line = TEXT_LINE.fullmatch(capsys.readouterr().err.rstrip("\n"))
    assert line is not None and (line["prefix"], line["rest"]) == ("PUMP", "DEBUG primed")
    assert configure_logger(name, prefix="PUMP").handlers == logger.handlers  # not duplicated
    assert logger.level == logging.INFO  # the default level


def test_configure_logger_defaults(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logger(name).info("x")
    line = TEXT_LINE.fullmatch(capsys.readouterr().err.rstrip("\n"))
    assert line is not None and line["prefix"] == "APP"


def test_text_backend_ignores_the_log_directory(
    monkeypatch: pytest.MonkeyPatch, name: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENFACTORY_LOG_BACKEND", "text")
    monkeypatch.setenv("OPENFACTORY_TEXT_LOG_DIRECTORY", str(tmp_path))
    build_app(monkeypatch, name).logger.error("boom")
    assert list(tmp_path.iterdir()) == []


def test_unknown_backend_fails_the_app_construction(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("OPENFACTORY_LOG_BACKEND", "syslog")
    with pytest.raises(ConfigurationError) as error:
        build_app(monkeypatch, name)
    assert isinstance(error.value, ValueError)
    message = str(error.value)
    assert "Unknown logging backend 'syslog'" in message
    assert "OPENFACTORY_LOG_BACKEND" in message and "'text'" in message and "'loki'" in message


# --- the loki backend [0.6.6] ------------------------------------------------------------


def json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_loki_backend_writes_json_lines_to_stdout_and_text_to_a_file(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENFACTORY_LOG_BACKEND", " Loki ")
    monkeypatch.setenv("OPENFACTORY_TEXT_LOG_DIRECTORY", str(tmp_path / "logs"))
    app = build_app(monkeypatch, name)
    app.logger.with_context(worker="w1").info("hello %d", 5, extra={"job": {"id": 3}})
    try:
        raise RuntimeError("sensor unplugged")
    except RuntimeError:
        app.logger.exception("failed")
    captured = capsys.readouterr()
    assert captured.err == ""
    hello, failed = json_lines(captured.out)
    assert list(hello)[:4] == ["timestamp", "level", "logger", "message"]
    assert UTC_MS.fullmatch(str(hello["timestamp"]))
    assert hello == {
        "timestamp": hello["timestamp"],
        "level": "INFO",
        "logger": name,
        "message": "hello 5",
        "job": {"id": 3},
        "worker": "w1",
    }
    assert failed["level"] == "ERROR" and failed["message"] == "failed"
    assert "Traceback" in str(failed["exception"])
    assert "RuntimeError: sensor unplugged" in str(failed["exception"])
    text = (tmp_path / "logs" / f"{name}.log").read_text(encoding="utf-8").splitlines()
    first = TEXT_LINE.fullmatch(text[0])
    assert first is not None and (first["prefix"], first["rest"]) == (name.upper(), "INFO hello 5")
    assert any("RuntimeError: sensor unplugged" in line for line in text)


def test_loki_log_file_defaults_to_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, name: str, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENFACTORY_LOG_BACKEND", "loki")
    configure_logger(name, prefix="P").warning("w")
    assert (tmp_path / f"{name}.log").read_text(encoding="utf-8").startswith("[P] (")


def test_switching_backend_replaces_the_handlers_the_sdk_installed(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_app(monkeypatch, name)
    monkeypatch.setenv("OPENFACTORY_LOG_BACKEND", "loki")
    monkeypatch.setenv("OPENFACTORY_TEXT_LOG_DIRECTORY", str(tmp_path))
    app = build_app(monkeypatch, name)
    assert len(app.logger.handlers) == 2
    app.logger.info("now json")
    captured = capsys.readouterr()
    assert captured.err == "" and json_lines(captured.out)[0]["message"] == "now json"


def test_unwritable_log_directory_is_a_configuration_error(name: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="OPENFACTORY_TEXT_LOG_DIRECTORY"):
        configure_logger(name, backend=LokiLoggerBackend(blocker / "logs"))


def test_backends_are_importable_and_injectable(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = configure_logger(name, prefix="INJ", backend=TextLoggerBackend())
    logger.info("x")
    assert capsys.readouterr().err.startswith("[INJ] (")


# --- formatters --------------------------------------------------------------------------


def record(msg: str = "m %s", args: tuple[object, ...] = ("a",)) -> logging.LogRecord:
    return logging.LogRecord("rec", logging.WARNING, __file__, 1, msg, args, None)


def test_prefix_formatter_of_both_paths() -> None:
    assert LegacyPrefixFormatter is PrefixFormatter
    assert TEXT_LINE.fullmatch(PrefixFormatter("X").format(record())) is not None
    custom = PrefixFormatter("X", "%(levelname)s:%(name)s: %(message)s")
    assert custom.format(record()) == "[X] WARNING:rec: m a"


def test_json_formatter_standalone() -> None:
    rec = record()
    rec.unit = "mm"
    rec.odd = object()
    payload = json.loads(JsonFormatter().format(rec))
    assert payload["message"] == "m a" and payload["unit"] == "mm"
    assert payload["odd"].startswith("<object object")
    assert "exception" not in payload and "args" not in payload and "msg" not in payload


# --- openfactory.setup_logging [0.5.3] ---------------------------------------------------


def test_configure_prefixed_logger(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    logger = configure_prefixed_logger(name, level=logging.DEBUG, prefix="LEGACY")
    assert logger.propagate is False and logger.level == logging.DEBUG
    logger.debug("ready")
    assert capsys.readouterr().err == f"[LEGACY] DEBUG:{name}: ready\n"
    assert configure_prefixed_logger(name).handlers == logger.handlers
    assert logger.level == logging.INFO


def test_configure_prefixed_logger_defaults_and_context(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_prefixed_logger(name).with_context(k=1).info("hi")
    assert capsys.readouterr().err == f"[APP] INFO:{name}: hi\n"


def test_setup_third_party_loggers_quiets_libraries() -> None:
    httpx_logger = logging.getLogger("httpx")
    before = httpx_logger.level
    try:
        httpx_logger.setLevel(logging.DEBUG)
        setup_third_party_loggers()
        assert httpx_logger.level == logging.WARNING
    finally:
        httpx_logger.setLevel(before)


# --- the package does not shadow the standard library ------------------------------------


def test_openfactory_logging_does_not_shadow_the_stdlib() -> None:
    import openfactory
    import openfactory.logging.loggers as loggers_module

    stdlib = sys.modules["logging"]
    assert stdlib.__file__ is not None
    assert not Path(stdlib.__file__).is_relative_to(Path(openfactory.__file__).parent)
    assert loggers_module.logging is stdlib and logging is stdlib
    assert sys.modules["openfactory.logging"] is not stdlib
