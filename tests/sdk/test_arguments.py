"""Converting the string arguments of a command to a method's annotated parameter types."""

import enum
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from openfactory.commands import ArgumentConverter, ArgumentError, CommandEnvelope, argument_text


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Gear(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(enum.Enum):
    ONE = 1
    HALF = 0.5
    NAME = "name"


class Point(BaseModel):
    x: int
    y: int


@dataclass
class Span:
    start: int
    end: int


class Limits(TypedDict):
    low: float
    high: float


def convert_one(annotation: Any, text: str) -> Any:
    def method(self: Any, value: annotation) -> None:  # type: ignore[valid-type]
        pass

    return ArgumentConverter.from_function(method).convert({"value": text})["value"]


def problem(annotation: Any, text: str) -> str:
    with pytest.raises(ArgumentError) as caught:
        convert_one(annotation, text)
    return str(caught.value)


# conversions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("annotation", "text", "expected"),
    [
        (str, "hello", "hello"),
        (str, "", ""),
        (Any, "as is", "as is"),
        (int, "42", 42),
        (int, "-7", -7),
        (int, "123456789012345678901234567890", 123456789012345678901234567890),
        (float, "2.5", 2.5),
        (float, "1e+16", 1e16),
        (float, "-inf", -math.inf),
        (bool, "true", True),
        (bool, "false", False),
        (bool, "True", True),
        (bool, "1", True),
        (bool, "0", False),
        (bool, "yes", True),
        (bool, "off", False),
        (Color, "red", Color.RED),
        (Gear, "2", Gear.HIGH),
        (Mixed, "1", Mixed.ONE),
        (Mixed, "0.5", Mixed.HALF),
        (Mixed, "name", Mixed.NAME),
        (Literal["up", "down"], "down", "down"),
        (Literal[1, 2], "2", 2),
        (Literal[True], "true", True),
        (datetime, "2026-05-04T12:34:56.789Z", datetime(2026, 5, 4, 12, 34, 56, 789000, UTC)),
        (datetime, "2026-05-04T12:34:56", datetime(2026, 5, 4, 12, 34, 56)),
        (date, "2026-05-04", date(2026, 5, 4)),
        (time, "12:34:00", time(12, 34)),
        (timedelta, "PT1M", timedelta(minutes=1)),
        (Decimal, "1.10", Decimal("1.10")),
        (
            uuid.UUID,
            "6f1c7d4e-2b1a-4c3d-9e8f-0a1b2c3d4e5f",
            uuid.UUID(int=0x6F1C7D4E2B1A4C3D9E8F0A1B2C3D4E5F),
        ),
        (Optional[int], "5", 5),  # noqa: UP045
        (Optional[int], "null", None),  # noqa: UP045
        (int | None, "null", None),
        (Optional[Color], "green", Color.GREEN),  # noqa: UP045
        (Optional[list[int]], "null", None),  # noqa: UP045
        (Optional[list[int]], "[1]", [1]),  # noqa: UP045
        (int | str, "10", 10),
        (int | str, "ten", "ten"),
        (list[int], "[1, 2, 3]", [1, 2, 3]),
        (list[int], "[]", []),
        (list, '[1, "a"]', [1, "a"]),
        (list[datetime], '["2026-05-04T00:00:00Z"]', [datetime(2026, 5, 4, tzinfo=UTC)]),
        (dict[str, float], '{"a": 1}', {"a": 1.0}),
        (dict, '{"a": [1]}', {"a": [1]}),
        (tuple[int, str], '[1, "a"]', (1, "a")),
        (set[int], "[1, 1, 2]", {1, 2}),
        (Point, '{"x": 1, "y": 2}', Point(x=1, y=2)),
        (Span, '{"start": 1, "end": 2}', Span(1, 2)),
        (Limits, '{"low": 0, "high": 1.5}', {"low": 0.0, "high": 1.5}),
        (Annotated[int, "the speed"], "3", 3),
        (Annotated[list[int], "the points"], "[3]", [3]),
        (Annotated[int, Field(ge=0), "non negative"], "0", 0),
    ],
)
def test_string_values_convert_to_the_annotated_type(
    annotation: Any, text: str, expected: Any
) -> None:
    converted = convert_one(annotation, text)
    assert converted == expected
    assert type(converted) is type(expected)


def test_unannotated_parameters_are_strings() -> None:
    def method(self, a, b=1):  # type: ignore[no-untyped-def]
        pass

    converter = ArgumentConverter.from_function(method)
    assert converter.convert({"a": "10", "b": "20"}) == {"a": "10", "b": "20"}
    assert [p.annotation for p in converter.parameters] == [str, str]


def test_self_is_skipped_and_plain_functions_work() -> None:
    def function(x: int, y: int = 2) -> int:
        return x + y

    converter = ArgumentConverter.from_function(function)
    assert converter.names == ("x", "y")
    assert function(**converter.convert({"x": "40"})) == 42


def test_defaults_fill_missing_optional_parameters() -> None:
    marker: list[int] = []

    def method(self: Any, x: int, y: int = 20, *, tag: str = "t", items: list[int] = marker):
        pass

    converter = ArgumentConverter.from_function(method)
    assert converter.convert({"x": "1"}) == {"x": 1, "y": 20, "tag": "t", "items": marker}
    assert converter.convert({"x": "1"})["items"] is marker
    assert converter.convert({"x": "1", "y": "2", "tag": "u"}) == {
        "x": 1,
        "y": 2,
        "tag": "u",
        "items": marker,
    }


def test_a_method_without_parameters_takes_an_empty_mapping() -> None:
    def method(self: Any) -> None:
        pass

    assert ArgumentConverter.from_function(method).convert({}) == {}


def test_parameters_carry_annotated_descriptions() -> None:
    # Reference 3.3: the description is the first metadata item, when it is a str.
    def method(
        self: Any,
        x: Annotated[int, "first", "second"],
        y: int = 0,
        z: Annotated[int, Field(ge=0), "not first"] = 0,
    ) -> None:
        pass

    params = ArgumentConverter.from_function(method).parameters
    assert [(p.name, p.description, p.required) for p in params] == [
        ("x", "first", True),
        ("y", "", False),
        ("z", "", False),
    ]


def test_parameter_names_pydantic_would_treat_as_private_still_work() -> None:
    def method(self: Any, _x: int, model_config: str, json: bool) -> None:
        pass

    converted = ArgumentConverter.from_function(method).convert(
        {"_x": "1", "model_config": "c", "json": "true"}
    )
    assert converted == {"_x": 1, "model_config": "c", "json": True}


# errors -----------------------------------------------------------------------------------
def test_missing_required_arguments_are_named() -> None:
    def method(self: Any, x: int, y: int, z: int = 0) -> None:
        pass

    with pytest.raises(ArgumentError) as caught:
        ArgumentConverter.from_function(method).convert({})
    assert str(caught.value) == "missing required argument(s): 'x', 'y'"
    assert caught.value.missing == ("x", "y")


def test_arguments_the_method_does_not_take_are_left_out_and_named() -> None:
    # Reference 3.3: arguments the method does not declare are ignored.
    def method(self: Any, x: int, y: int = 0) -> None:
        pass

    converter = ArgumentConverter.from_function(method)
    assert converter.convert({"x": "1", "speed": "3"}) == {"x": 1, "y": 0}
    assert converter.unknown({"speed": "3", "x": "1", "acc": "2"}) == ("speed", "acc")
    assert converter.unknown({"x": "1"}) == ()


def test_a_method_without_parameters_ignores_any_argument() -> None:
    def method(self: Any) -> None:
        pass

    converter = ArgumentConverter.from_function(method)
    assert converter.convert({"x": "1"}) == {}
    assert converter.unknown({"x": "1"}) == ("x",)


def test_ignored_arguments_are_named_beside_a_real_problem() -> None:
    # A misspelt argument: the missing one is the error, the ignored one the hint.
    def method(self: Any, x: int, y: int = 0) -> None:
        pass

    with pytest.raises(ArgumentError) as caught:
        ArgumentConverter.from_function(method).convert({"xx": "1"})
    assert str(caught.value) == (
        "missing required argument(s): 'x'; ignored argument(s) 'xx' (the method takes: 'x', 'y')"
    )
    assert caught.value.unknown == ("xx",)


@pytest.mark.parametrize(
    ("annotation", "text", "expected_type"),
    [
        (int, "ten", "int"),
        (int, "1.5", "int"),
        (float, "fast", "float"),
        (bool, "maybe", "bool"),
        (Color, "blue", "Color (one of 'red', 'green')"),
        (Gear, "3", "Gear (one of 1, 2)"),
        (Literal["up", "down"], "left", "Literal['up', 'down']"),
        (datetime, "tomorrow", "datetime"),
        (date, "2026-02-30", "date"),
        (Decimal, "lots", "Decimal"),
        (uuid.UUID, "nope", "UUID"),
        (Optional[int], "none", "Optional[int]"),  # noqa: UP045
        (Annotated[int, Field(ge=0)], "-1", "int"),
    ],
)
def test_unconvertible_values_name_parameter_value_and_type(
    annotation: Any, text: str, expected_type: str
) -> None:
    message = problem(annotation, text)
    assert message.startswith(f"argument 'value': cannot convert {text!r} to {expected_type}: ")


def test_invalid_json_is_reported_as_such() -> None:
    message = problem(list[int], "[1, 2")
    assert message.startswith(
        "argument 'value': cannot convert '[1, 2' to list[int]: not valid JSON"
    )


def test_a_wrong_element_inside_json_names_its_position() -> None:
    message = problem(list[int], '[1, "x"]')
    assert message == (
        "argument 'value': cannot convert '[1, \"x\"]' to list[int]: at [1]: "
        "Input should be a valid integer, unable to parse string as an integer (got 'x')"
    )


def test_a_bad_model_field_is_reported() -> None:
    assert problem(Point, '{"x": 1}') == (
        "argument 'value': cannot convert '{\"x\": 1}' to Point: at ['y']: Field required"
    )


def test_every_problem_is_listed_at_once() -> None:
    def method(self: Any, x: int, y: float, z: bool, w: str) -> None:
        pass

    with pytest.raises(ArgumentError) as caught:
        ArgumentConverter.from_function(method).convert({"x": "a", "y": "b", "extra": "c"})
    error = caught.value
    assert error.missing == ("z", "w")
    assert error.unknown == ("extra",)
    assert set(error.invalid) == {"x", "y"}
    text = str(error)
    for piece in (
        "'z', 'w'",
        "'extra'",
        "cannot convert 'a' to int",
        "cannot convert 'b' to float",
    ):
        assert piece in text
    assert isinstance(error, ValueError)


def test_long_values_are_shortened_in_messages() -> None:
    message = problem(int, "9" * 10 + "x" * 200)
    assert "x" * 100 not in message and "..." in message


def test_a_non_mapping_is_refused() -> None:
    def method(self: Any, x: int) -> None:
        pass

    with pytest.raises(ArgumentError, match="mapping"):
        ArgumentConverter.from_function(method).convert(["x"])  # type: ignore[arg-type]


# signatures the converter cannot serve ----------------------------------------------------
def test_star_args_kwargs_and_positional_only_are_refused() -> None:
    def star(self: Any, *values: int) -> None:
        pass

    def double_star(self: Any, **values: int) -> None:
        pass

    def positional(self: Any, x: int, /) -> None:
        pass

    for function, text in ((star, r"\*values"), (double_star, r"\*\*values"), (positional, "'x'")):
        with pytest.raises(TypeError, match=text):
            ArgumentConverter.from_function(function)


def test_an_unresolvable_annotation_is_refused_with_a_hint() -> None:
    def method(self: Any, x: "Undefined") -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(TypeError, match="define the types it uses at module level"):
        ArgumentConverter.from_function(method)


def test_local_names_resolve_string_annotations() -> None:
    class Local(enum.Enum):
        A = "a"

    def method(self: Any, x: "Local") -> None:
        pass

    converter = ArgumentConverter.from_function(method, localns={"Local": Local})
    assert converter.convert({"x": "a"}) == {"x": Local.A}


# properties -------------------------------------------------------------------------------
def _round_trip(annotation: Any, value: Any) -> Any:
    return convert_one(annotation, argument_text("value", value))


@given(st.integers())
def test_property_ints_round_trip(value: int) -> None:
    assert _round_trip(int, value) == value
    assert convert_one(int, str(value)) == value


@given(st.floats(allow_nan=False))
def test_property_floats_round_trip(value: float) -> None:
    assert _round_trip(float, value) == value
    assert convert_one(float, repr(value)) == value


def test_nan_round_trips() -> None:
    assert math.isnan(_round_trip(float, math.nan))


@given(st.booleans())
def test_property_bools_round_trip(value: bool) -> None:
    assert _round_trip(bool, value) is value
    assert convert_one(bool, str(value)) is value


@given(st.sampled_from([*Color, *Gear, *Mixed]))
def test_property_enums_round_trip(value: enum.Enum) -> None:
    assert _round_trip(type(value), value) is value


@given(st.decimals(allow_nan=False, allow_infinity=False), st.uuids(), st.datetimes())
def test_property_other_scalars_round_trip(
    number: Decimal, ident: uuid.UUID, moment: datetime
) -> None:
    assert _round_trip(Decimal, number) == number
    assert _round_trip(uuid.UUID, ident) == ident
    assert _round_trip(datetime, moment) == moment


@given(
    st.lists(st.integers()),
    st.dictionaries(st.text(), st.floats(allow_nan=False, allow_infinity=False)),
)
def test_property_containers_round_trip(items: list[int], mapping: dict[str, float]) -> None:
    assert _round_trip(list[int], items) == items
    assert _round_trip(tuple[int, ...], tuple(items)) == tuple(items)
    assert _round_trip(dict[str, float], mapping) == mapping


@given(st.dictionaries(st.sampled_from(["x", "y", "z"]), st.integers()))
def test_property_envelope_arguments_convert_back(values: dict[str, int]) -> None:
    def method(self: Any, x: int = 0, y: int = 0, z: int = 0) -> None:
        pass

    envelope = CommandEnvelope.new("CALLER", values)
    converted = ArgumentConverter.from_function(method).convert(envelope.arguments)
    assert converted == {"x": 0, "y": 0, "z": 0} | values
