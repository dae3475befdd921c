"""The command envelope: building, serialising, parsing and rejecting malformed ones."""

import enum
import json
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from openfactory.commands import (
    CommandEnvelope,
    CommandHeader,
    EnvelopeError,
    argument_text,
    parse_envelope,
)
from openfactory.transport.wire import parse_timestamp

CORRELATION = "6f1c7d4e-2b1a-4c3d-9e8f-0a1b2c3d4e5f"


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = 2


class Point(BaseModel):
    x: int
    y: int


def valid() -> dict[str, Any]:
    return {
        "header": {
            "correlation_id": CORRELATION,
            "sender_uuid": "CALLER",
            "timestamp": "2026-05-04T12:34:56.789Z",
            "signature": None,
        },
        "arguments": {"x": "10", "y": "20"},
    }


def reject(raw: Any) -> str:
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(raw)
    return str(caught.value)


# building ---------------------------------------------------------------------------------
def test_new_fills_the_header_and_keeps_the_arguments() -> None:
    envelope = CommandEnvelope.new("CALLER", {"x": "10", "y": "20"})
    assert envelope.header.sender_uuid == "CALLER"
    assert envelope.header.signature is None
    assert isinstance(envelope.header.correlation_id, uuid.UUID)
    assert envelope.arguments == {"x": "10", "y": "20"}
    assert abs((datetime.now(UTC) - envelope.header.sent_at).total_seconds()) < 60


def test_new_uses_the_wire_timestamp_format() -> None:
    stamp = CommandEnvelope.new("CALLER", {}).header.timestamp
    assert len(stamp) == 24 and stamp[10] == "T" and stamp[19] == "." and stamp.endswith("Z")


def test_every_envelope_gets_a_fresh_correlation_id() -> None:
    ids = {CommandEnvelope.new("CALLER", {}).header.correlation_id for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        ("", ""),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (2.5, "2.5"),
        (1e16, "1e+16"),
        (Decimal("1.10"), "1.10"),
        (uuid.UUID(CORRELATION), CORRELATION),
        (Mode.FAST, "fast"),
        (Mode.SLOW, "2"),
        (datetime(2026, 5, 4, 12, 34, 56), "2026-05-04T12:34:56"),
        (date(2026, 5, 4), "2026-05-04"),
        (time(12, 34), "12:34:00"),
        ([1, 2, 3], "[1, 2, 3]"),
        ((1, "a"), '[1, "a"]'),
        ({"k": [1, None]}, '{"k": [1, null]}'),
        (Point(x=1, y=2), '{"x":1,"y":2}'),
    ],
)
def test_argument_values_are_stringified(value: Any, text: str) -> None:
    assert CommandEnvelope.new("CALLER", {"a": value}).arguments == {"a": text}
    assert type(argument_text("a", value)) is str


def test_a_str_subclass_becomes_a_plain_str() -> None:
    class Name(str):
        pass

    assert type(argument_text("a", Name("n"))) is str


@pytest.mark.parametrize("value", [None, object(), {1, 2}, b"bytes", 1j])
def test_values_without_a_wire_form_are_refused_naming_the_argument(value: Any) -> None:
    with pytest.raises(TypeError, match="argument 'speed'"):
        CommandEnvelope.new("CALLER", {"speed": value})


def test_none_suggests_omitting_the_argument() -> None:
    with pytest.raises(TypeError, match="omit the argument"):
        CommandEnvelope.new("CALLER", {"speed": None})


def test_a_list_that_is_not_json_is_refused_naming_the_argument() -> None:
    with pytest.raises(TypeError, match=r"argument 'points'.*JSON"):
        CommandEnvelope.new("CALLER", {"points": [object()]})


def test_new_refuses_a_non_mapping_and_bad_names() -> None:
    with pytest.raises(TypeError, match="mapping"):
        CommandEnvelope.new("CALLER", [("a", "1")])  # type: ignore[arg-type]
    with pytest.raises(EnvelopeError, match="argument names"):
        CommandEnvelope.new("CALLER", {1: "a"})  # type: ignore[dict-item]
    with pytest.raises(EnvelopeError, match="argument names"):
        CommandEnvelope.new("CALLER", {"": "a"})


@pytest.mark.parametrize("sender", ["", "   "])
def test_new_refuses_an_empty_sender(sender: str) -> None:
    with pytest.raises(EnvelopeError, match="sender_uuid"):
        CommandEnvelope.new(sender, {})


def test_to_json_is_the_wire_layout() -> None:
    envelope = CommandEnvelope.new("CALLER", {"x": 10})
    decoded = json.loads(envelope.to_json())
    assert decoded == {
        "header": {
            "correlation_id": str(envelope.header.correlation_id),
            "sender_uuid": "CALLER",
            "timestamp": envelope.header.timestamp,
            "signature": None,
        },
        "arguments": {"x": "10"},
    }


def test_envelopes_are_immutable() -> None:
    envelope = CommandEnvelope.new("CALLER", {})
    with pytest.raises(ValueError):
        envelope.header.sender_uuid = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        envelope.arguments = {}  # type: ignore[misc]


# parsing ----------------------------------------------------------------------------------
def test_parse_accepts_text_bytes_and_a_decoded_object() -> None:
    raw = valid()
    for form in (json.dumps(raw), json.dumps(raw).encode(), raw):
        envelope = parse_envelope(form)
        assert str(envelope.header.correlation_id) == CORRELATION
        assert envelope.header.sender_uuid == "CALLER"
        assert envelope.header.sent_at == datetime(2026, 5, 4, 12, 34, 56, 789000, tzinfo=UTC)
        assert envelope.arguments == {"x": "10", "y": "20"}


def test_signature_may_be_omitted_or_a_string() -> None:
    raw = valid()
    del raw["header"]["signature"]
    assert parse_envelope(raw).header.signature is None
    raw["header"]["signature"] = "sig"
    assert parse_envelope(raw).header.signature == "sig"


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-05-04T12:34:56.789Z",
        "2026-05-04T12:34:56Z",
        "2026-05-04T12:34:56.789123Z",
        "2026-05-04T12:34:56.789123+00:00",
        "2026-05-04T14:34:56.789+02:00",
    ],
)
def test_iso_timestamps_with_an_offset_are_accepted(stamp: str) -> None:
    raw = valid()
    raw["header"]["timestamp"] = stamp
    header = parse_envelope(raw).header
    assert header.timestamp == stamp
    assert header.sent_at == parse_timestamp(stamp)


@pytest.mark.parametrize(
    "stamp",
    ["", "now", "2026-05-04", "2026-13-04T12:34:56.789Z", "1746362096"],
)
def test_bad_timestamps_are_rejected_naming_the_value(stamp: str) -> None:
    raw = valid()
    raw["header"]["timestamp"] = stamp
    message = reject(raw)
    assert "header.timestamp" in message and repr(stamp) in message


def test_an_empty_object_names_the_missing_header() -> None:
    assert reject("{}") == "missing field 'header'"


@pytest.mark.parametrize("field", ["correlation_id", "sender_uuid"])
def test_a_missing_header_field_is_named(field: str) -> None:
    raw = valid()
    del raw["header"][field]
    assert reject(raw) == f"missing field 'header.{field}'"


def test_an_unknown_top_level_field_is_named_with_the_allowed_ones() -> None:
    raw = valid() | {"priority": "high"}
    assert reject(raw) == "unknown field 'priority' (allowed: header, arguments)"


def test_an_unknown_header_field_is_named_with_the_allowed_ones() -> None:
    raw = valid()
    raw["header"]["reply_to"] = "x"
    assert reject(raw) == (
        "unknown field 'header.reply_to' "
        "(allowed: correlation_id, sender_uuid, timestamp, signature)"
    )


@pytest.mark.parametrize("value", [10, 1.5, True, None, [1], {"a": "b"}])
def test_a_non_string_argument_value_is_named(value: Any) -> None:
    raw = valid()
    raw["arguments"]["x"] = value
    assert reject(raw) == f"field 'arguments.x' must be a string, got {value!r}"


def test_a_bad_correlation_id_is_named() -> None:
    raw = valid()
    raw["header"]["correlation_id"] = "not-a-uuid"
    assert reject(raw) == "field 'header.correlation_id' must be a UUID, got 'not-a-uuid'"


@pytest.mark.parametrize("sender", ["", "  ", 7])
def test_a_bad_sender_is_named(sender: Any) -> None:
    raw = valid()
    raw["header"]["sender_uuid"] = sender
    assert "field 'header.sender_uuid'" in reject(raw)


def test_a_non_object_header_or_arguments_is_named() -> None:
    raw = valid() | {"arguments": ["x"]}
    assert reject(raw) == "field 'arguments' must be a JSON object, got ['x']"
    raw = valid() | {"header": "h"}
    assert reject(raw) == "field 'header' must be a JSON object, got 'h'"


def test_text_that_is_not_json_or_not_an_object() -> None:
    assert reject("not json").startswith("command envelope is not valid JSON (")
    assert reject("[1, 2]") == "command envelope must be a JSON object, got [1, 2]"
    assert reject(None) == "command envelope must be JSON text or a JSON object, got NoneType None"


def test_many_problems_are_capped_and_long_values_shortened() -> None:
    raw = valid()
    raw["arguments"] = {f"a{i}": i for i in range(8)}
    raw["header"]["correlation_id"] = "x" * 500
    message = reject(raw)
    assert message.endswith("and 4 more problem(s)")
    assert "x" * 100 not in message and "..." in message


def test_header_can_be_built_directly_and_validates() -> None:
    header = CommandHeader(
        correlation_id=uuid.UUID(CORRELATION), sender_uuid="me", timestamp="2026-05-04T00:00:00Z"
    )
    assert header.signature is None
    with pytest.raises(ValueError):
        CommandHeader(correlation_id=uuid.uuid4(), sender_uuid="me", timestamp="yesterday")


# properties -------------------------------------------------------------------------------
names = st.text(min_size=1, max_size=20)
scalars = (
    st.text()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(Mode)
    | st.datetimes()
    | st.decimals(allow_nan=False)
    | st.uuids()
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
argument_values = (
    scalars | st.lists(json_values, max_size=4) | st.dictionaries(st.text(), json_values)
)


@given(sender=names.filter(str.strip), arguments=st.dictionaries(names, argument_values))
def test_property_envelopes_round_trip(sender: str, arguments: dict[str, Any]) -> None:
    envelope = CommandEnvelope.new(sender, arguments)
    parsed = parse_envelope(envelope.to_json())
    assert parsed == envelope
    assert parsed.arguments == {name: argument_text(name, v) for name, v in arguments.items()}


def _not_a_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return True
    return False


non_strings = (
    st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.lists(st.integers(), max_size=2)
)
corruptions = st.one_of(
    st.tuples(st.just("extra-top"), names.filter(lambda n: n not in ("header", "arguments"))),
    st.tuples(
        st.just("extra-header"),
        names.filter(lambda n: n not in CommandHeader.model_fields),
    ),
    st.tuples(
        st.just("missing"),
        st.sampled_from(["header", "correlation_id", "sender_uuid"]),
    ),
    st.tuples(st.just("non-string-argument"), non_strings),
    st.tuples(st.just("bad-uuid"), st.text().filter(_not_a_uuid)),
    st.tuples(st.just("bad-timestamp"), st.text().filter(lambda t: not t[:1].isdigit())),
)


@given(corruption=corruptions, arguments=st.dictionaries(names, st.text(), max_size=3))
def test_property_corrupted_envelopes_are_always_rejected(
    corruption: tuple[str, Any], arguments: dict[str, str]
) -> None:
    raw = json.loads(CommandEnvelope.new("CALLER", arguments).to_json())
    kind, detail = corruption
    if kind == "extra-top":
        raw[detail] = "x"
    elif kind == "extra-header":
        raw["header"][detail] = "x"
    elif kind == "missing":
        raw.get("header", {}).pop(detail, None)
        raw.pop(detail, None)
    elif kind == "non-string-argument":
        raw["arguments"]["victim"] = detail
    elif kind == "bad-uuid":
        raw["header"]["correlation_id"] = detail
    else:
        raw["header"]["timestamp"] = detail
    with pytest.raises(EnvelopeError):
        parse_envelope(json.dumps(raw))
    with pytest.raises(EnvelopeError):
        parse_envelope(raw)
