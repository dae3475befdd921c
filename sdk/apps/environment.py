"""What an app reads from its environment: UUID, broker addresses, logger set-up."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from openfactory.errors import ConfigurationError

DEFAULT_APP_UUID = "DEV-UUID"
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")


def app_uuid_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``APP_UUID`` (default ``DEV-UUID``), suffixed ``-<SWARM_TASK_SLOT>`` when replicated.

    Raises ``ConfigurationError`` when ``SWARM_REPLICAS`` is not a positive integer or
    ``SWARM_TASK_SLOT`` is missing for a replicated app.
    """
    env = os.environ if environ is None else environ
    uuid = env.get("APP_UUID") or DEFAULT_APP_UUID
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
        slot = env.get("SWARM_TASK_SLOT", "").strip()
        if not slot:
            raise ConfigurationError(
                f"SWARM_REPLICAS is {replicas} but SWARM_TASK_SLOT is not set; "
                "set it to the replica's slot number"
            )
        uuid = f"{uuid}-{slot}"
    return uuid


class _UUIDPrefix(logging.Filter):
    def __init__(self, uuid: str) -> None:
        super().__init__()
        self.uuid = uuid

    def filter(self, record: logging.LogRecord) -> bool:
        # Prefix the message itself so every handler (console, caplog, files) shows it.
        if not getattr(record, "app_uuid", None):
            record.app_uuid = self.uuid
            record.msg = f"[{self.uuid}] {record.msg}"
        return True


def app_logger(uuid: str, loglevel: str) -> logging.Logger:
    """The app's logger, ``openfactory.app.<uuid>``, printing ``[<uuid>]`` before each message.

    Raises ``ConfigurationError`` for an unknown ``loglevel``.
    """
    level = str(loglevel).upper()
    if level not in _LEVELS:
        raise ConfigurationError(f"loglevel {loglevel!r} is not valid; use one of {_LEVELS}")
    logger = logging.getLogger(f"openfactory.app.{uuid}")
    logger.setLevel(level)
    if not any(isinstance(f, _UUIDPrefix) for f in logger.filters):
        logger.addFilter(_UUIDPrefix(uuid))
    if not logger.handlers and not logging.getLogger().handlers:
        # A bare script has no logging set up: give the app a console of its own.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger
