"""The command envelope models at the platform library's path.

``openfactory.schemas.command_header``: ``CommandHeader`` and ``CommandEnvelope`` are
``openfactory.commands``' own models.
"""

from openfactory.commands.envelope import CommandEnvelope, CommandHeader

__all__ = ["CommandEnvelope", "CommandHeader"]
