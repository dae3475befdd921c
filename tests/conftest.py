"""Fixtures shared by the project's own tests."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from openfactory import backends

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test: default app environment, its own embedded broker, signal handlers restored."""
    for name in (
        "APP_UUID",
        "SWARM_REPLICAS",
        "SWARM_TASK_SLOT",
        "STORAGE",
        "KAFKA_BROKER",
        "ASSET_ROUTER_URL",
        "KSQLDB_URL",
        "APPLICATION_VERSION",
        "APPLICATION_MANUFACTURER",
        "APPLICATION_LICENSE",
    ):
        monkeypatch.delenv(name, raising=False)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    backends.reset()
    yield
    backends.reset()
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
