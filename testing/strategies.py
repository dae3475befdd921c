"""Hypothesis strategies for OpenFactory apps: UUIDs, attribute values, ``AssetAttribute``s,
command envelopes (valid and invalid), and the arguments of an ``@ofa_method``.

    @given(arguments=method_arguments(DemoApp.move_axis))
    def test_move_axis_accepts_any_valid_call(ofa_app, arguments): ...
"""

from __future__ import annotations

import json
import typing
import uuid as uuid_module
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from openfactory.apps.methods import method_spec
from openfactory.assets.attribute import AssetAttribute
from openfactory.commands import CommandEnvelope
from openfactory.commands.envelope import argument_text
from openfactory.errors import ConfigurationError
from openfactory.transport.wire import ATTRIBUTE_TYPES, format_timestamp

_CONDITION_STATES = ("Normal", "Warning", "Fault", "Unavailable")


def asset_uuids() -> st.SearchStrategy[str]:
    """Asset UUIDs as OpenFactory uses them: UUID4 text or ids like ``PROVER-3018``."""
    return st.one_of(
        st.uuids().map(str),
        st.from_regex(r"[A-Z][A-Z0-9]{1,11}(-[A-Z0-9]{1,8}){0,3}", fullmatch=True),
    )


def attribute_ids() -> st.SearchStrategy[str]:
    """Attribute ids: snake_case names that are not command ids (no ``_CMD`` suffix)."""
    return st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True).filter(
        lambda name: not name.endswith("_CMD")
    )


def wire_timestamps() -> st.SearchStrategy[str]:
    """Timestamps in the wire format (``2026-05-04T12:34:56.789Z``)."""
    return st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ).map(format_timestamp)


def attribute_values(type_: str = "Samples") -> st.SearchStrategy[Any]:
    """Values an attribute of type ``type_`` carries; ``ConfigurationError`` if unknown."""
    if type_ not in ATTRIBUTE_TYPES:
        raise ConfigurationError(
            f"unknown attribute type {type_!r}; use one of {sorted(ATTRIBUTE_TYPES)}"
        )
    text = st.text(st.characters(codec="utf-8"), max_size=40)
    if type_ == "Samples":
        return st.one_of(
            st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False)
        )
    if type_ == "Condition":
        return st.sampled_from(_CONDITION_STATES)
    if type_ == "Method":
        contract = st.fixed_dictionaries(
            {
                "description": text,
                "arguments": st.lists(
                    st.fixed_dictionaries({"name": attribute_ids(), "description": text}),
                    max_size=4,
                ),
            }
        )
        return contract.map(json.dumps)
    if type_ == "UNAVAILABLE":
        return st.just("UNAVAILABLE")
    return text


def asset_attributes(
    types: tuple[str, ...] = ("Samples", "Events", "Condition"),
) -> st.SearchStrategy[AssetAttribute]:
    """``AssetAttribute``s of the given types, with matching values, tags and timestamps."""
    tags = st.from_regex(r"[A-Z][A-Za-z]{0,15}(\.[A-Z][A-Za-z]{0,15}){0,2}", fullmatch=True)
    return st.sampled_from(types).flatmap(
        lambda type_: st.builds(
            AssetAttribute,
            value=attribute_values(type_),
            type=st.just(type_),
            tag=tags,
            timestamp=wire_timestamps(),
        )
    )


def command_envelopes(
    arguments: st.SearchStrategy[dict[str, str]] | None = None,
) -> st.SearchStrategy[str]:
    """Valid command envelopes as the JSON text carried in a ``<method>_CMD`` VALUE."""
    args = (
        arguments
        if arguments is not None
        else st.dictionaries(attribute_ids(), st.text(max_size=20), max_size=5)
    )
    return st.builds(CommandEnvelope.new, asset_uuids(), args).map(lambda e: e.to_json())


def invalid_command_envelopes() -> st.SearchStrategy[str]:
    """Envelopes every app must reject: unknown/missing fields, wrong types, bad ids, not JSON."""
    valid = command_envelopes().map(json.loads)

    def mutate(envelope: dict[str, Any], how: str, junk: str) -> str:
        header = envelope["header"]
        if how == "extra_top":
            envelope["extra"] = junk
        elif how == "extra_header":
            header["extra"] = junk
        elif how == "missing_header_field":
            del header[sorted(header)[len(junk) % len(header)]]
        elif how == "missing_header":
            del envelope["header"]
        elif how == "non_string_argument":
            envelope["arguments"]["x"] = len(junk)
        elif how == "bad_uuid":
            header["correlation_id"] = "not-a-uuid-" + junk
        elif how == "bad_timestamp":
            header["timestamp"] = "yesterday " + junk
        elif how == "not_an_object":
            return json.dumps([envelope])
        elif how == "not_json":
            return "{" + json.dumps(envelope)
        return json.dumps(envelope)

    hows = st.sampled_from(
        [
            "extra_top",
            "extra_header",
            "missing_header_field",
            "missing_header",
            "non_string_argument",
            "bad_uuid",
            "bad_timestamp",
            "not_an_object",
            "not_json",
        ]
    )
    return st.builds(mutate, valid, hows, st.text(max_size=10))


def method_arguments(method: Callable[..., Any]) -> st.SearchStrategy[dict[str, str]]:
    """Command arguments (``{name: wire string}``) for the ``@ofa_method`` ``method``.

    Required parameters are always present, optional ones sometimes; values come from
    ``st.from_type`` of each annotation. Raises ``ConfigurationError`` for an undecorated function.
    """
    spec = method_spec(method)
    if spec is None:
        raise ConfigurationError(f"{method!r} is not decorated with @ofa_method()")
    required: dict[str, st.SearchStrategy[str]] = {}
    optional: dict[str, st.SearchStrategy[str]] = {}
    for parameter in spec.converter.parameters:
        values = _values_for(parameter.annotation).map(_as_argument(parameter.name))
        (required if parameter.required else optional)[parameter.name] = values
    return st.fixed_dictionaries(required, optional=optional)


def _as_argument(name: str) -> Callable[[Any], str]:
    return lambda value: argument_text(name, value)


def _values_for(annotation: Any) -> st.SearchStrategy[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if annotation is str or annotation is Any:
        return st.text(st.characters(codec="utf-8"), max_size=30)
    if annotation is uuid_module.UUID:
        return st.uuids()
    if annotation is datetime:
        return st.datetimes(timezones=st.just(UTC))
    return st.from_type(annotation)
