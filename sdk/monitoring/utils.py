"""The platform library's module path for the Prometheus target helpers (0.6.6)."""

from openfactory.monitoring.prometheus import (
    deregister_prometheus_target,
    discover_prometheus_registry,
    register_prometheus_target,
)

__all__ = [
    "deregister_prometheus_target",
    "discover_prometheus_registry",
    "register_prometheus_target",
]
