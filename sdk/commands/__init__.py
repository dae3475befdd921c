"""Commands sent to OpenFactory assets: the wire envelope and argument conversion."""

from openfactory.commands.arguments import ArgumentConverter, ArgumentError, Parameter
from openfactory.commands.envelope import (
    CommandEnvelope,
    CommandHeader,
    EnvelopeError,
    argument_text,
    parse_envelope,
)

__all__ = [
    "ArgumentConverter",
    "ArgumentError",
    "CommandEnvelope",
    "CommandHeader",
    "EnvelopeError",
    "Parameter",
    "argument_text",
    "parse_envelope",
]
