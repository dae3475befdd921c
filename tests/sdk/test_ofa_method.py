"""``@ofa_method``: registration, contracts, rejected misuses, async methods and inheritance."""

import asyncio
import enum
import json
from typing import Annotated, Any

import pytest

from openfactory.apps.methods import MethodSpec, collect_methods, method_spec, ofa_method
from openfactory.commands import ArgumentConverter, ArgumentError


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


class Machine:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @ofa_method()
    def move(self, x: int, y: int = 0) -> int:
        """Move the head to (x, y).

        Coordinates are in millimetres.
        """
        self.calls.append(("move", (x, y)))
        return x + y

    @ofa_method(
        name="set_mode",
        description="Switch the running mode",
        args={"mode": "FAST or SLOW"},
    )
    def change_mode(self, mode: Mode, reason: Annotated[str, "why"] = "") -> None:
        self.calls.append(("mode", mode))

    @ofa_method()
    async def home(self, speed: Annotated[float, "mm/s"]) -> str:
        await asyncio.sleep(0)
        self.calls.append(("home", speed))
        return "homed"


def spec_of(function: Any) -> MethodSpec:
    spec = method_spec(function)
    assert spec is not None
    return spec


# registration -----------------------------------------------------------------------------
def test_the_decorated_function_is_unchanged_and_callable() -> None:
    machine = Machine()
    assert machine.move(1, 2) == 3
    assert Machine.move.__name__ == "move"
    assert machine.calls == [("move", (1, 2))]


def test_the_spec_describes_the_method() -> None:
    spec = Machine.move.__ofa_method__  # type: ignore[attr-defined]
    assert isinstance(spec, MethodSpec)
    assert spec.name == "move"
    assert spec.function_name == "move"
    assert spec.function is Machine.move
    assert spec.description == "Move the head to (x, y).\n\nCoordinates are in millimetres."
    assert spec.arguments == (("x", ""), ("y", ""))
    assert spec.is_async is False
    assert isinstance(spec.converter, ArgumentConverter)
    assert spec.converter.convert({"x": "5"}) == {"x": 5, "y": 0}


def test_name_description_and_args_override_the_defaults() -> None:
    spec = spec_of(Machine.change_mode)
    assert spec.name == "set_mode"
    assert spec.function_name == "change_mode"
    assert spec.description == "Switch the running mode"
    assert spec.arguments == (("mode", "FAST or SLOW"), ("reason", "why"))
    assert spec.converter.convert({"mode": "slow"}) == {"mode": Mode.SLOW, "reason": ""}


def test_args_win_over_annotated_descriptions() -> None:
    @ofa_method(args={"x": "from args"})
    def method(self: Any, x: Annotated[int, "from annotation"]) -> None:
        pass

    assert spec_of(method).arguments == (("x", "from args"),)


def test_the_whole_cleaned_docstring_is_the_description() -> None:
    # Reference 3.3: inspect.getdoc(func), blank lines kept, stripped.
    @ofa_method()
    def method(self: Any) -> None:
        """Start the spindle
        at the configured speed.

        Details nobody reads.
        """

    assert spec_of(method).description == (
        "Start the spindle\nat the configured speed.\n\nDetails nobody reads."
    )


def test_no_docstring_gives_an_empty_description() -> None:
    @ofa_method()
    def method(self: Any) -> None:
        pass

    assert spec_of(method).description == ""
    assert spec_of(ofa_method(description="")(method)).description == ""

    def documented(self: Any) -> None:
        """From the docstring."""

    # An empty description falls back to the docstring (reference 3.3).
    assert spec_of(ofa_method(description="")(documented)).description == "From the docstring."


def test_the_name_may_be_given_positionally() -> None:
    @ofa_method("go")
    def method(self: Any) -> None:
        pass

    assert spec_of(method).name == "go"


def test_contract_is_the_wire_value() -> None:
    spec = spec_of(Machine.change_mode)
    expected = {
        "description": "Switch the running mode",
        "arguments": [
            {"name": "mode", "description": "FAST or SLOW"},
            {"name": "reason", "description": "why"},
        ],
    }
    assert spec.contract() == expected
    assert json.loads(spec.contract_json()) == expected


def test_a_method_without_parameters_has_no_arguments() -> None:
    @ofa_method(description="Stop")
    def stop(self: Any) -> None:
        pass

    assert spec_of(stop).contract() == {"description": "Stop", "arguments": []}


def test_keyword_only_parameters_are_allowed() -> None:
    @ofa_method()
    def method(self: Any, *, x: int, y: int = 1) -> int:
        return x + y

    assert spec_of(method).converter.convert({"x": "2"}) == {"x": 2, "y": 1}


def test_a_local_enum_resolves_from_a_string_annotation() -> None:
    class Local(enum.Enum):
        A = "a"

    class App:
        @ofa_method()
        def method(self, x: "Local") -> None:
            pass

    assert spec_of(App.method).converter.convert({"x": "a"}) == {"x": Local.A}


def test_the_converter_reports_bad_arguments() -> None:
    with pytest.raises(ArgumentError, match="cannot convert 'left' to int"):
        spec_of(Machine.move).converter.convert({"x": "left"})


# async ------------------------------------------------------------------------------------
def test_async_methods_are_registered_and_stay_coroutines() -> None:
    spec = spec_of(Machine.home)
    assert spec.is_async is True
    assert spec.arguments == (("speed", "mm/s"),)
    machine = Machine()
    converted = spec.converter.convert({"speed": "2.5"})
    assert asyncio.run(spec.function(machine, **converted)) == "homed"
    assert machine.calls == [("home", 2.5)]


# rejected at decoration time --------------------------------------------------------------
def test_bare_decorator_is_refused_with_the_fix() -> None:
    with pytest.raises(TypeError) as caught:

        class App:
            @ofa_method  # type: ignore[arg-type]
            def move(self) -> None:
                pass

    assert str(caught.value) == (
        "@ofa_method must be called with parentheses: use @ofa_method() on "
        "'test_bare_decorator_is_refused_with_the_fix.<locals>.App.move'"
    )


def test_bare_decorator_on_an_async_method_is_refused_too() -> None:
    async def move(self: Any) -> None:
        pass

    with pytest.raises(TypeError, match=r"use @ofa_method\(\)"):
        ofa_method(move)  # type: ignore[arg-type]


def test_the_first_parameter_must_be_self() -> None:
    def no_self(x: int) -> None:
        pass

    def nothing() -> None:
        pass

    for function in (no_self, nothing):
        with pytest.raises(TypeError, match="the first parameter must be 'self'"):
            ofa_method()(function)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("def m(self, *values: int): pass", r"\*values is not allowed; commands pass named"),
        ("def m(self, **options: str): pass", r"\*\*options is not allowed"),
        ("def m(self, x: int, /): pass", r"positional-only parameter 'x' .*remove the '/'"),
        ("def m(*, self, x: int): pass", r"'self' must come before any '\*'"),
    ],
)
def test_signatures_commands_cannot_call_are_refused(source: str, text: str) -> None:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    with pytest.raises(TypeError, match=text):
        ofa_method()(namespace["m"])


def test_describing_a_missing_parameter_only_warns() -> None:
    # The platform library ignores it: an app that does so must still start.
    def method(self: Any, x: int, y: int) -> None:
        pass

    with pytest.warns(UserWarning) as caught:
        ofa_method(param_description={"z": "?", "x": "ok"})(method)
    assert str(caught[0].message).endswith(
        "param_description describes 'z' which is not a parameter (parameters: 'x', 'y'); ignored"
    )
    assert spec_of(method).arguments == (("x", "ok"), ("y", ""))


@pytest.mark.parametrize("bad", [{"x": 1}, {2: "x"}, ["x"]])
def test_param_description_must_map_names_to_text(bad: Any) -> None:
    with pytest.raises(TypeError, match="param_description="):
        ofa_method(param_description=bad)
    with pytest.raises(TypeError, match="param_description="):
        ofa_method(args=bad)


def test_param_description_and_its_former_name_args_are_not_both_given() -> None:
    with pytest.raises(TypeError, match="not both"):
        ofa_method(param_description={"x": "a"}, args={"x": "b"})


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("", "not a valid attribute id"),
        ("two words", "not a valid attribute id"),
        ("tab\there", "not a valid attribute id"),
        ("move_CMD", "must not end with '_CMD'"),
        (5, "must be a str"),
    ],
)
def test_bad_names_are_refused(name: Any, text: str) -> None:
    with pytest.raises(TypeError, match=text):
        ofa_method(name=name)


def test_a_function_name_ending_in_cmd_is_refused() -> None:
    def start_CMD(self: Any) -> None:
        pass

    with pytest.raises(TypeError, match="must not end with '_CMD'"):
        ofa_method()(start_CMD)
    assert spec_of(ofa_method(name="start")(start_CMD)).name == "start"


def test_a_non_str_description_is_refused() -> None:
    with pytest.raises(TypeError, match="description"):
        ofa_method(description=3)  # type: ignore[arg-type]


def test_static_and_class_methods_are_refused() -> None:
    def method(self: Any) -> None:
        pass

    for wrapped in (staticmethod(method), classmethod(method)):
        with pytest.raises(TypeError, match="instance methods"):
            ofa_method()(wrapped)  # type: ignore[type-var]


# collecting and inheritance ---------------------------------------------------------------
def test_collect_methods_keys_by_method_name() -> None:
    methods = collect_methods(Machine)
    assert list(methods) == ["move", "set_mode", "home"]
    assert methods["set_mode"].function is Machine.change_mode


def test_plain_methods_and_attributes_are_not_collected() -> None:
    class App:
        speed = 3

        def helper(self) -> None:
            pass

    assert collect_methods(App) == {}


def test_subclasses_inherit_methods() -> None:
    class Lathe(Machine):
        @ofa_method()
        def spin(self, rpm: int) -> None:
            pass

    methods = collect_methods(Lathe)
    assert list(methods) == ["move", "set_mode", "home", "spin"]
    assert methods["move"].function is Machine.move


def test_a_decorated_override_replaces_the_registration() -> None:
    class Lathe(Machine):
        @ofa_method(description="Move, carefully")
        def move(self, x: float) -> float:
            return x

    methods = collect_methods(Lathe)
    assert methods["move"].description == "Move, carefully"
    assert methods["move"].function is Lathe.move
    assert methods["move"].converter.convert({"x": "1.5"}) == {"x": 1.5}


def test_a_renamed_override_withdraws_the_old_name() -> None:
    class Lathe(Machine):
        @ofa_method(name="travel")
        def move(self, x: int, y: int = 0) -> int:
            return 0

    assert set(collect_methods(Lathe)) == {"travel", "set_mode", "home"}


def test_an_undecorated_override_keeps_the_contract_and_calls_the_override() -> None:
    class Lathe(Machine):
        def move(self, x, y=0):  # type: ignore[no-untyped-def]
            return super().move(x, y) * 10

    spec = collect_methods(Lathe)["move"]
    assert spec.function is Lathe.move
    assert spec.description.startswith("Move the head to (x, y).")
    converted = spec.converter.convert({"x": "2", "y": "3"})
    assert converted == {"x": 2, "y": 3}  # still the parent's int conversion
    lathe = Lathe()
    assert spec.function.__get__(lathe)(**converted) == 50
    assert lathe.calls == [("move", (2, 3))]
    assert collect_methods(Machine)["move"].function is Machine.move


def test_an_undecorated_async_override_is_marked_async() -> None:
    class Lathe(Machine):
        async def move(self, x, y=0):  # type: ignore[no-untyped-def,override]
            return x

    assert collect_methods(Lathe)["move"].is_async is True


def test_assigning_none_withdraws_an_inherited_method() -> None:
    class Lathe(Machine):
        move = None  # type: ignore[assignment]

    assert set(collect_methods(Lathe)) == {"set_mode", "home"}


def test_two_methods_with_one_name_are_refused() -> None:
    class App:
        @ofa_method(name="go")
        def first(self) -> None:
            pass

        @ofa_method(name="go")
        def second(self) -> None:
            pass

    with pytest.raises(TypeError) as caught:
        collect_methods(App)
    assert str(caught.value).endswith(
        "methods 'first' and 'second' both register the OpenFactory method 'go'; "
        "give one another name with @ofa_method(name=...)"
    )


def test_a_subclass_method_exposed_under_an_inherited_name_wins() -> None:
    # Reference 11 item 5: each name once, from the most derived decorated definition.
    class Lathe(Machine):
        @ofa_method(name="move")
        def slide(self) -> None:
            pass

    methods = collect_methods(Lathe)
    assert list(methods) == ["move", "set_mode", "home"]
    assert methods["move"].function is Lathe.slide
    assert Lathe().move(1, 2) == 3  # the inherited method stays a Python method


def test_collect_methods_needs_a_class() -> None:
    with pytest.raises(TypeError, match="takes a class"):
        collect_methods(Machine())  # type: ignore[arg-type]
