"""Moved to ``openfactory.testing.loopback.mirror``; this path keeps working."""

from openfactory.testing.loopback.mirror import KafkaMirror

__all__ = ["KafkaMirror"]
