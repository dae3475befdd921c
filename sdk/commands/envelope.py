"""The command envelope: the JSON VALUE of a ``<method>_CMD`` record (see DESIGN.md section 3).

Also the platform library's ``openfactory.schemas.command_header`` models: built the way it
builds them (``CommandHeader(correlation_id=..., sender_uuid=..., signature=None)`` stamps the
header now; ``arguments`` defaults to ``{}``), serialized by ``model_dump_json()`` in its layout,
and parsing what it parses (a timestamp may be omitted or lack an offset, meaning UTC).
Deliberate differences: the models are immutable, ``timestamp`` stays the text that was sent
(``sent_at`` is the datetime), and strings are not whitespace-stripped (the platform's clients
strip before sending, so what they send arrives the same).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

from openfactory.transport.wire import format_timestamp

# ISO 8601 date and time. The wire format (milliseconds and ``Z``) is what this SDK sends; the
# platform's clients send microseconds, others ``+00:00``. Without an offset the time is UTC,
# as the platform's parser takes it (pydantic keeps it naive; every OpenFactory time is UTC).
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?", re.ASCII
)
_MAX_REPR = 80


class EnvelopeError(ValueError):
    """A command envelope is malformed; the message names the field and the offending value."""


class CommandHeader(BaseModel):
    """Who sent a command, when, and the id that ties it to its effects. Immutable.

    ``timestamp`` is ISO 8601 text (a ``datetime`` given at construction is written with
    microseconds and ``Z``), now when omitted; ``sent_at`` reads it as an aware UTC datetime.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    correlation_id: UUID
    sender_uuid: StrictStr
    timestamp: StrictStr = Field(default_factory=format_timestamp)
    signature: StrictStr | None = None

    @field_validator("sender_uuid")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty string")
        return value

    @field_validator("timestamp", mode="before")
    @classmethod
    def _datetime_as_text(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return value

    @field_validator("timestamp")
    @classmethod
    def _iso_timestamp(cls, value: str) -> str:
        if _TIMESTAMP.fullmatch(value) is None:
            raise ValueError("must be an ISO 8601 UTC timestamp like 2026-05-04T12:34:56.789Z")
        try:
            _utc(value)
        except ValueError as err:
            raise ValueError(f"is not a valid date and time ({err})") from None
        return value

    @property
    def sent_at(self) -> datetime:
        """The header timestamp as an aware UTC datetime (no offset sent: UTC)."""
        return _utc(self.timestamp)


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class CommandEnvelope(BaseModel):
    """A command: its header and its arguments, every argument value a string. Immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: CommandHeader
    arguments: dict[StrictStr, StrictStr] = Field(default_factory=dict)

    @classmethod
    def new(cls, sender_uuid: str, arguments: Mapping[str, Any]) -> CommandEnvelope:
        """Build an envelope with a fresh correlation id, stamped now, arguments stringified.

        Raises ``TypeError`` naming an argument whose value has no string form on the wire,
        ``EnvelopeError`` for an empty ``sender_uuid`` or a non-string argument name.
        """
        if not isinstance(arguments, Mapping):
            raise TypeError(f"arguments must be a mapping of name -> value, got {arguments!r}")
        wire: dict[str, str] = {}
        for name, value in arguments.items():
            if not isinstance(name, str) or not name:
                raise EnvelopeError(f"argument names must be non-empty strings, got {name!r}")
            wire[name] = argument_text(name, value)
        if not isinstance(sender_uuid, str) or not sender_uuid.strip():
            raise EnvelopeError(f"sender_uuid must be a non-empty string, got {sender_uuid!r}")
        # Every field is valid by construction: skip pydantic's validation on the send path.
        header = CommandHeader.model_construct(
            correlation_id=uuid.uuid4(),
            sender_uuid=str.__str__(sender_uuid),
            timestamp=format_timestamp(),
            signature=None,
        )
        return cls.model_construct(header=header, arguments=wire)

    def to_json(self) -> str:
        """The envelope as the JSON text carried in the VALUE of a ``<method>_CMD`` record."""
        return self.model_dump_json()


def argument_text(name: str, value: Any) -> str:
    """The wire string of one argument value; raises ``TypeError`` naming the argument."""
    # Order matters: bool is an int, StrEnum is a str, datetime is a date.
    if isinstance(value, Enum):
        return argument_text(name, value.value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, list | dict | tuple):
        try:
            return json.dumps(value)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"argument {name!r}: {_short(value)} cannot be sent as JSON text ({err})"
            ) from None
    raise TypeError(
        f"argument {name!r}: cannot send a {type(value).__name__} ({_short(value)}); "
        "argument values must be str, bool, int, float, Decimal, UUID, Enum, date/time, "
        "a pydantic model, or a list/dict/tuple of JSON values"
        + ("; omit the argument to use the method's default" if value is None else "")
    )


def parse_envelope(raw: str | bytes | bytearray | Mapping[str, Any]) -> CommandEnvelope:
    """Validate the VALUE of a ``<method>_CMD`` record (JSON text or an already decoded object).

    Raises ``EnvelopeError`` saying which field is missing, unknown or wrong, and its value.
    """
    try:
        if isinstance(raw, str | bytes | bytearray):
            return CommandEnvelope.model_validate_json(raw)
        if isinstance(raw, Mapping):
            return CommandEnvelope.model_validate(dict(raw))
    except ValidationError as err:
        raise EnvelopeError(describe_validation_error(err)) from None
    raise EnvelopeError(
        f"command envelope must be JSON text or a JSON object, got {type(raw).__name__} "
        f"{_short(raw)}"
    )


def describe_validation_error(err: ValidationError, limit: int = 5) -> str:
    """One short human sentence per problem in a pydantic error about an envelope."""
    problems = [_describe(error) for error in err.errors(include_url=False)]
    if len(problems) > limit:
        problems = [*problems[:limit], f"and {len(problems) - limit} more problem(s)"]
    return "; ".join(problems)


_ALLOWED = {
    (): ("header", "arguments"),
    ("header",): tuple(CommandHeader.model_fields),
}


def _describe(error: Any) -> str:
    loc = tuple(error["loc"])
    field = ".".join(str(part) for part in loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "json_invalid":
        reason = error.get("ctx", {}).get("error") or error["msg"]
        return f"command envelope is not valid JSON ({reason})"
    if kind == "missing":
        return f"missing field {field!r}"
    if kind == "extra_forbidden":
        parent = loc[:-1]
        allowed = _ALLOWED.get(parent)
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown field {field!r}{hint}"
    where = f"field {field!r}" if field else "command envelope"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where} must be a JSON object, got {_short(value)}"
    if kind == "string_type":
        if len(loc) == 3 and loc[0] == "arguments" and loc[-1] == "[key]":
            return f"argument name {_short(value)} must be a string"
        return f"{where} must be a string, got {_short(value)}"
    if kind.startswith("uuid"):
        return f"{where} must be a UUID, got {_short(value)}"
    if kind == "value_error":
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
        return f"{where} {reason}, got {_short(value)}"
    return f"{where}: {error['msg']}, got {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."
