"""``AssetAttribute``: one attribute value of an asset, as published on the wire."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, overload

from openfactory._logtext import shown
from openfactory.commands import CommandEnvelope
from openfactory.errors import CommandError, ConfigurationError
from openfactory.transport.wire import (
    ATTRIBUTE_TYPES,
    COMMAND_SUFFIX,
    COMMAND_TAG,
    asset_record,
    format_timestamp,
)

# The TYPE of a command attribute (DESIGN.md section 3, Commands).
_COMMAND_TYPE = "OpenFactory"
UNAVAILABLE: Final = "UNAVAILABLE"

# The two calling orders: this SDK's, and the platform library's (reference section 4.3).
_OURS = ("value", "type", "tag", "timestamp", "id")
_PLATFORM = ("id", "value", "type", "tag", "timestamp")
_WIRE_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


_NOT_GIVEN: Any = object()


def _is_type(value: object) -> bool:
    return type(value) is str and value in ATTRIBUTE_TYPES


@dataclass(slots=True, init=False)
class AssetAttribute:
    """An attribute value with its OpenFactory ``type``, ``tag`` and wire ``timestamp``.

    Built in either calling order: this SDK's ``AssetAttribute(value, type, tag, timestamp,
    id)`` (``type`` defaults to ``Samples``, ``tag`` to ``UNAVAILABLE``) or the platform
    library's ``AssetAttribute(id, value, type, tag, timestamp)``; keywords work in any order.
    Positional arguments are read in the platform's order when that is the only reading whose
    ``type`` is valid and whose arguments do not clash with the keywords (or when both readings
    are valid and the fourth argument is a tag, neither a timestamp nor ``UNAVAILABLE``).
    ``timestamp`` defaults to now in the wire format (``2026-05-04T12:34:56.789Z``). Mutable;
    equal when all five fields are.

    Raises ``ConfigurationError`` (a ``ValueError``) when ``type`` is not one of ``Samples``,
    ``Condition``, ``Events``, ``Method``, ``OpenFactory``, ``UNAVAILABLE``, or ``tag`` or
    ``timestamp`` is not a str; ``TypeError`` for arguments Python would refuse (unknown
    keyword, an argument given twice, no ``value``).
    """

    value: Any
    type: str
    tag: str
    timestamp: str
    id: str | None

    @overload
    def __init__(
        self,
        value: Any,
        type: str = "Samples",
        tag: str = UNAVAILABLE,
        timestamp: str | None = None,
        id: str | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self, id: str, value: Any, type: str, tag: str, timestamp: str | None = None
    ) -> None: ...
    # Positional-only slots and keyword-only fields, so that every mix of the two orders binds
    # (mypy cannot match that to the overloads, which say what callers may write).
    def __init__(  # type: ignore[misc]
        self,
        _1: Any = _NOT_GIVEN,
        _2: Any = _NOT_GIVEN,
        _3: Any = _NOT_GIVEN,
        _4: Any = _NOT_GIVEN,
        _5: Any = _NOT_GIVEN,
        /,
        *,
        value: Any = _NOT_GIVEN,
        type: Any = _NOT_GIVEN,
        tag: Any = _NOT_GIVEN,
        timestamp: Any = None,
        id: Any = None,
    ) -> None:
        # _bind decides the order. The form the SDK builds on every assignment, (value, type,
        # tag[, id=]), is taken at once: no platform reading is possible when the tag is no
        # type name.
        if (
            _4 is _NOT_GIVEN
            and _3 is not _NOT_GIVEN
            and value is type is tag is _NOT_GIVEN
            and _2.__class__ is str
            and _2 in ATTRIBUTE_TYPES
            and _3.__class__ is str
            and _3 not in ATTRIBUTE_TYPES
            and (timestamp is None or timestamp.__class__ is str)
        ):
            self.value = _1
            self.type = _2
            self.tag = _3
            self.timestamp = format_timestamp() if timestamp is None else timestamp
            self.id = id
            return
        if (
            _1 is _NOT_GIVEN
            and value is not _NOT_GIVEN
            and type.__class__ is str
            and type in ATTRIBUTE_TYPES
            and tag.__class__ is str
            and (timestamp is None or timestamp.__class__ is str)
        ):
            self.value = value  # the keyword form, (value=, type=, tag=[, id=])
            self.type = type
            self.tag = tag
            self.timestamp = format_timestamp() if timestamp is None else timestamp
            self.id = id
            return
        given = (_1, _2, _3, _4, _5)
        args = given[: next((i for i, v in enumerate(given) if v is _NOT_GIVEN), 5)]
        if any(v is not _NOT_GIVEN for v in given[len(args) :]):
            raise TypeError("AssetAttribute: positional arguments cannot be skipped")
        kwargs = {
            name: v
            for name, v in (("value", value), ("type", type), ("tag", tag))
            if v is not _NOT_GIVEN
        }
        if timestamp is not None:
            kwargs["timestamp"] = timestamp
        if id is not None:
            kwargs["id"] = id
        self._bind(args, kwargs)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not args:
            fields = kwargs
        else:
            names = _PLATFORM if _platform_order(args, kwargs) else _OURS
            fields = dict(zip(names, args, strict=False))
            for name, given in kwargs.items():
                if name in fields:
                    raise TypeError(f"AssetAttribute got multiple values for argument {name!r}")
                fields[name] = given
        if "value" not in fields:
            raise TypeError("AssetAttribute needs a value: AssetAttribute(id=..., value=..., ...)")
        type_ = fields.get("type", "Samples")
        if not _is_type(type_):
            raise ConfigurationError(
                f"Invalid type {type_!r}. Allowed values are: "
                f"{', '.join(sorted(ATTRIBUTE_TYPES))} (AssetAttribute type)"
            )
        tag = fields.get("tag", UNAVAILABLE)
        if type(tag) is not str:
            raise ConfigurationError(f"AssetAttribute tag must be a str, got {tag!r}")
        timestamp = fields.get("timestamp")
        if timestamp is None:
            timestamp = format_timestamp()
        elif not isinstance(timestamp, str):
            raise ConfigurationError(
                f"AssetAttribute timestamp must be a wire-format str, got {timestamp!r} "
                "(format a datetime with openfactory.assets.utils.openfactory_timestamp)"
            )
        self.value = fields["value"]
        self.type = type_
        self.tag = tag
        self.timestamp = timestamp
        self.id = fields.get("id")

    @classmethod
    def unavailable(cls, attribute_id: str | None = None) -> AssetAttribute:
        """What an unknown name reads as: value, type, tag and timestamp ``UNAVAILABLE``."""
        return cls(
            value=UNAVAILABLE,
            type=UNAVAILABLE,
            tag=UNAVAILABLE,
            timestamp=UNAVAILABLE,
            id=attribute_id,
        )


def _platform_order(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """True when positional ``args`` are the platform's ``(id, value, type, tag, timestamp)``."""
    if "value" in kwargs:
        return True  # a positional argument beside value= can only be the id
    count = len(args)
    if count < 2 or type(args[0]) is not str:
        return False  # the platform's id is a str, and its value comes second
    if not _is_type(args[2] if count > 2 else kwargs.get("type")):
        return False
    if any(name in kwargs for name in _OURS[:count]):
        return True  # our reading would bind a keyword twice
    if not _is_type(args[1]):
        return True  # our reading would have an invalid type
    # Both readings are valid (a value such as "UNAVAILABLE"): ours has a timestamp fourth.
    fourth = args[3] if count > 3 else None
    return type(fourth) is str and fourth != UNAVAILABLE and not _WIRE_STAMP.fullmatch(fourth)


def sample_value(value: Any) -> Any:
    """A ``Samples`` value as this SDK reads it: numeric text as a float, else as published."""
    if type(value) is str and value != UNAVAILABLE:
        try:
            return float(value)
        except ValueError:
            return value
    return value


def read_attribute(attribute: AssetAttribute) -> AssetAttribute:
    """``attribute`` as read by name: a ``Samples`` value published as numeric text is a float
    (a copy then; the stored attribute stays as published)."""
    if attribute.type == "Samples" and type(attribute.value) is str:
        value = sample_value(attribute.value)
        if value is not attribute.value:
            return AssetAttribute(
                value=value,
                type="Samples",
                tag=attribute.tag,
                timestamp=attribute.timestamp,
                id=attribute.id,
            )
    return attribute


def method_contract(value: Any) -> Any:
    """A Method attribute's VALUE as ``methods()`` gives it: JSON text parsed (``{"description":
    ..., "arguments": [...]}``, ``null`` is ``None``), other text as is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def validate_id(kind: str, value: object) -> str:
    """``value`` if it is a non-empty string without surrounding spaces that UTF-8 can encode (it
    becomes a record key or field), else ``ConfigurationError`` naming ``kind`` (``asset_uuid``,
    ``attribute_id``, ...)."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ConfigurationError(
            f"{kind} must be a non-empty string without surrounding spaces, got {shown(value)}"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ConfigurationError(
            f"{kind} {shown(value)} cannot be encoded as UTF-8 ({err.reason} at position "
            f"{err.start}): use text without lone surrogates"
        ) from None
    return value


def command_record(method: str, value: Any) -> bytes:
    """The encoded attribute a caller publishes, on the target asset's key, to run ``method``:
    ``<method>_CMD``, ``TYPE`` ``OpenFactory``, ``TAG`` ``Method.Command``, stamped now.

    ``value`` is a command envelope's JSON (anything, to test how an app takes a bad one).
    """
    return asset_record(
        method + COMMAND_SUFFIX, value, COMMAND_TAG, _COMMAND_TYPE, format_timestamp()
    )


def command_call(method: str, sender_uuid: str, arguments: Mapping[str, Any]) -> tuple[bytes, str]:
    """The record a caller publishes to run ``method`` with ``arguments`` (values sent as
    strings), and the command's correlation id.

    Raises ``CommandError`` when an argument cannot be sent as a string.
    """
    try:
        envelope = CommandEnvelope.new(sender_uuid, arguments)
    except (TypeError, ValueError) as err:
        raise CommandError(method, str(err)) from err
    return command_record(method, envelope.to_json()), str(envelope.header.correlation_id)


def no_such_method(asset_id: str, method: str, known: Iterable[str]) -> CommandError:
    """The error for a command to a method asset ``asset_id`` does not have (``known``: its
    methods)."""
    return CommandError(
        method,
        f"asset {asset_id!r} has no such method (known: {', '.join(sorted(known)) or 'none'})",
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
