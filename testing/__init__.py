"""The OpenFactory test harness: in-memory broker and ksqlDB fakes, recorder, simulators.

The in-memory backend (``FakeBroker``, ``FakeKSQLDB``, ``InMemoryTransport``, the embedded world)
needs nothing beyond the SDK. The harness (``AppHarness``, ``Recorder``, ``VirtualClock``,
``SignalSimulator``) needs the ``testing`` extra (``pip install 'openfactory-app-sdk[testing]'``)
and is loaded on first use, so ``test_mode=True`` apps run on a production install.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from openfactory.testing.memory import (
    FakeBroker,
    FakeKSQLDB,
    InMemoryTransport,
    broker,
    embedded,
    embedded_broker,
    embedded_ksqldb,
    ksqldb,
    reset_embedded,
    transport,
)

# The modules of the in-memory backend lived here before it got its own folder: the old import
# paths (``openfactory.testing.broker`` ...) name the same modules.
for _moved in (broker, embedded, ksqldb, transport):
    sys.modules.setdefault(f"{__name__}.{_moved.__name__.rsplit('.', 1)[1]}", _moved)

if TYPE_CHECKING:
    from openfactory.testing.clock import VirtualClock
    from openfactory.testing.harness import AppHarness, RunResult
    from openfactory.testing.recorder import PublishedAttribute, Recorder, RecorderAssertionError
    from openfactory.testing.signals import Delivery, SignalSimulator

__all__ = [
    "AppHarness",
    "Delivery",
    "FakeBroker",
    "FakeKSQLDB",
    "InMemoryTransport",
    "PublishedAttribute",
    "Recorder",
    "RecorderAssertionError",
    "RunResult",
    "SignalSimulator",
    "VirtualClock",
    "embedded_broker",
    "embedded_ksqldb",
    "reset_embedded",
]

_HARNESS = {
    "AppHarness": "harness",
    "RunResult": "harness",
    "Delivery": "signals",
    "SignalSimulator": "signals",
    "PublishedAttribute": "recorder",
    "Recorder": "recorder",
    "RecorderAssertionError": "recorder",
    "VirtualClock": "clock",
}


def __getattr__(name: str) -> Any:
    module = _HARNESS.get(name)
    if module is None:
        raise AttributeError(f"module 'openfactory.testing' has no attribute {name!r}")
    value = getattr(require_harness(f"openfactory.testing.{module}"), name)
    globals()[name] = value
    return value


def require_harness(module: str) -> Any:
    """Import harness module ``module``; raises ``ImportError`` naming the ``testing`` extra
    when one of its dependencies is not installed."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is None or err.name.startswith("openfactory"):
            raise
        raise ImportError(
            f"{module} needs {err.name!r}, which is not installed: "
            "install the harness with `pip install 'openfactory-app-sdk[testing]'`"
        ) from err
