"""Monitoring: announce an app's Prometheus metrics endpoint to the platform's registry."""

from openfactory.monitoring.prometheus import (
    METRICS_TARGETS_SOURCE,
    deregister_prometheus_target,
    discover_prometheus_registry,
    register_prometheus_metrics,
    register_prometheus_target,
)

__all__ = [
    "METRICS_TARGETS_SOURCE",
    "deregister_prometheus_target",
    "discover_prometheus_registry",
    "register_prometheus_metrics",
    "register_prometheus_target",
]
