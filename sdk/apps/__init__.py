"""OpenFactory apps: ``OpenFactoryApp``, declared attributes and ``@ofa_method``.

The web-app variants ``OpenFactoryFastAPIApp`` and ``OpenFactoryFlaskApp`` are loaded on first
use, so that importing this package needs neither FastAPI nor Flask; without its optional
extra, getting one raises an ``ImportError`` that says what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from openfactory.apps.app import OpenFactoryApp
from openfactory.apps.declared import (
    AttributeField,
    ConditionAttribute,
    EventAttribute,
    SampleAttribute,
)
from openfactory.apps.dispatch import CommandOutcome
from openfactory.apps.methods import ofa_method
from openfactory.apps.shutdown import ShutdownReport

if TYPE_CHECKING:
    from openfactory.apps.ofa_fastapi_app import OpenFactoryFastAPIApp
    from openfactory.apps.ofa_flask_app import OpenFactoryFlaskApp

__all__ = [
    "AttributeField",
    "CommandOutcome",
    "ConditionAttribute",
    "EventAttribute",
    "OpenFactoryApp",
    "OpenFactoryFastAPIApp",
    "OpenFactoryFlaskApp",
    "SampleAttribute",
    "ShutdownReport",
    "ofa_method",
]

# Public name -> the module defining it, imported on first access (it needs an optional extra).
_LAZY = {
    "OpenFactoryFastAPIApp": "openfactory.apps.ofa_fastapi_app",
    "OpenFactoryFlaskApp": "openfactory.apps.ofa_flask_app",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'openfactory.apps' has no attribute {name!r}")
    # Raises the module's own ImportError naming the class and the extra to install.
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # cached: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
