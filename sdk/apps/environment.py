"""What an app reads from its environment: UUID, broker addresses, logger set-up."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from openfactory._logtext import shown
from openfactory.errors import ConfigurationError
from openfactory.logging import OpenFactoryLogger, configure_logger

DEFAULT_APP_UUID = "DEV-UUID"
#: The variable holding the shutdown budget, in seconds.
SHUTDOWN_TIMEOUT_VARIABLE = "OPENFACTORY_SHUTDOWN_TIMEOUT"
#: Docker, Kubernetes and swarm wait 10 s after SIGTERM before SIGKILL: 8 s leaves room for
#: the interpreter to exit.
DEFAULT_SHUTDOWN_TIMEOUT = 8.0


def app_uuid_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``APP_UUID`` (default ``DEV-UUID``), suffixed ``-<SWARM_TASK_SLOT>`` when replicated.

    Raises ``ConfigurationError`` when ``SWARM_REPLICAS`` is not a positive integer,
    ``SWARM_TASK_SLOT`` is missing for a replicated app, or ``APP_UUID``/``SWARM_TASK_SLOT``
    is not UTF-8 text (invalid bytes, lone surrogates).
    """
    env = os.environ if environ is None else environ
    uuid = _utf8("APP_UUID", env.get("APP_UUID") or DEFAULT_APP_UUID)
    replicas_text = env.get("SWARM_REPLICAS", "1").strip() or "1"
    try:
        replicas = int(replicas_text)
    except ValueError:
        raise ConfigurationError(
            f"SWARM_REPLICAS must be a positive integer, got {replicas_text!r}"
        ) from None
    if replicas < 1:
        raise ConfigurationError(f"SWARM_REPLICAS must be a positive integer, got {replicas}")
    if replicas > 1:
        slot = _utf8("SWARM_TASK_SLOT", env.get("SWARM_TASK_SLOT", "").strip())
        if not slot:
            raise ConfigurationError(
                f"SWARM_REPLICAS is {replicas} but SWARM_TASK_SLOT is not set; "
                "set it to the replica's slot number"
            )
        uuid = f"{uuid}-{slot}"
    return uuid


def shutdown_timeout_from_env(environ: Mapping[str, str] | None = None) -> float:
    """The app's shutdown budget in seconds: ``OPENFACTORY_SHUTDOWN_TIMEOUT``, default 8.

    A shutdown (signal, end of the main loop, ``shutdown()``) takes at most this long in all,
    whatever is down. Raises ``ConfigurationError`` when the value is not a positive number.
    """
    env = os.environ if environ is None else environ
    text = env.get(SHUTDOWN_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_SHUTDOWN_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigurationError(
            f"{SHUTDOWN_TIMEOUT_VARIABLE} must be a positive number of seconds, got "
            f"{shown(text)}; unset it for the default {DEFAULT_SHUTDOWN_TIMEOUT:g} s"
        )
    return seconds


def _utf8(name: str, value: str) -> str:
    """``value`` of variable ``name`` if it encodes as UTF-8 (it becomes part of the key of
    every record the app publishes), else ``ConfigurationError`` naming ``name``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        # Bytes that are not UTF-8 reach os.environ as lone surrogates (PEP 383).
        raise ConfigurationError(
            f"{name} must be valid UTF-8 text (the app's UUID keys every record it publishes), "
            f"got {shown(value)}: {err.reason} at character {err.start}; set {name} to "
            "UTF-8 text"
        ) from None
    return value


def app_logger(uuid: str, loglevel: int | str = "INFO") -> OpenFactoryLogger:
    """The app's logger: named ``uuid``, lines prefixed ``[<UUID upper-cased>]``, level
    ``loglevel`` (name or number), backend from ``OPENFACTORY_LOG_BACKEND``; it is what
    ``logging.getLogger(uuid)`` returns and has ``with_context``.

    Raises ``ConfigurationError`` for an unknown ``loglevel`` or logging backend.
    """
    return configure_logger(uuid, loglevel, prefix=uuid.upper())
