"""OpenFactory apps: ``OpenFactoryApp``, declared attributes and ``@ofa_method``."""

from openfactory.apps.app import OpenFactoryApp
from openfactory.apps.declared import ConditionAttribute, EventAttribute, SampleAttribute
from openfactory.apps.dispatch import CommandOutcome
from openfactory.apps.methods import ofa_method
from openfactory.apps.shutdown import ShutdownReport

__all__ = [
    "CommandOutcome",
    "ConditionAttribute",
    "EventAttribute",
    "OpenFactoryApp",
    "SampleAttribute",
    "ShutdownReport",
    "ofa_method",
]
