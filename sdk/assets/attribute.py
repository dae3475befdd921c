"""``AssetAttribute``: one attribute value of an asset, as published on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openfactory.errors import ConfigurationError
from openfactory.transport.wire import (
    ATTRIBUTE_TYPES,
    COMMAND_SUFFIX,
    COMMAND_TAG,
    asset_record,
    format_timestamp,
)

# The TYPE of a command attribute (DESIGN.md section 3, Commands).
_COMMAND_TYPE = "OpenFactory"


@dataclass(slots=True)
class AssetAttribute:
    """An attribute value with its OpenFactory ``type``, ``tag`` and wire ``timestamp``.

    ``type`` must be one of ``Samples``, ``Condition``, ``Events``, ``Method``,
    ``OpenFactory``, ``UNAVAILABLE`` (``ConfigurationError`` otherwise); ``timestamp``
    defaults to now in the wire format (``2026-05-04T12:34:56.789Z``).
    """

    value: Any
    type: str = "Samples"
    tag: str = "UNAVAILABLE"
    timestamp: str = field(default_factory=format_timestamp)
    id: str | None = None

    def __post_init__(self) -> None:
        if self.type not in ATTRIBUTE_TYPES:
            raise ConfigurationError(
                f"AssetAttribute type {self.type!r} is not valid; "
                f"use one of {', '.join(sorted(ATTRIBUTE_TYPES))}"
            )
        if not isinstance(self.tag, str):
            raise ConfigurationError(f"AssetAttribute tag must be a str, got {self.tag!r}")
        if not isinstance(self.timestamp, str):
            raise ConfigurationError(
                f"AssetAttribute timestamp must be a wire-format str, got {self.timestamp!r}"
            )

    @classmethod
    def unavailable(cls, attribute_id: str | None = None) -> AssetAttribute:
        """The attribute an unknown name reads as: value, type and tag ``UNAVAILABLE``."""
        return cls("UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE", id=attribute_id)


def validate_id(kind: str, value: object) -> str:
    """``value`` if it is a non-empty string without surrounding spaces, else ``ConfigurationError``
    naming ``kind`` (``asset_uuid``, ``attribute_id``, ...)."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ConfigurationError(
            f"{kind} must be a non-empty string without surrounding spaces, got {value!r}"
        )
    return value


def command_record(method: str, value: Any) -> bytes:
    """The encoded attribute a caller publishes, on the target asset's key, to run ``method``:
    ``<method>_CMD``, ``TYPE`` ``OpenFactory``, ``TAG`` ``Method.Command``, stamped now.

    ``value`` is a command envelope's JSON (anything, to test how an app takes a bad one).
    """
    return asset_record(
        method + COMMAND_SUFFIX, value, COMMAND_TAG, _COMMAND_TYPE, format_timestamp()
    )


def command_method(attribute: AssetAttribute) -> str | None:
    """The method ``attribute`` asks to run if it is a command (see ``command_record``), else
    ``None``."""
    attribute_id = attribute.id or ""
    if (
        attribute_id.endswith(COMMAND_SUFFIX)
        and attribute.tag == COMMAND_TAG
        and attribute.type == _COMMAND_TYPE
    ):
        return attribute_id[: -len(COMMAND_SUFFIX)]
    return None
