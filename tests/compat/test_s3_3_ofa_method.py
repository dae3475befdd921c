"""Reference section 3.3: ``@ofa_method``, its metadata, its registration on the wire and how a
command executes, with the section 11 defects not reproduced (items 4, 5, 10, 11).

No ``from __future__ import annotations`` here: the metadata keeps annotations raw, and an app's
annotations are objects unless its module asks otherwise.
"""

import inspect
import json
import logging
from typing import Annotated, Any

import pytest

from openfactory.apps import OpenFactoryApp, ofa_method
from openfactory.apps.decorators import ofa_method as at_its_path
from openfactory.testing import AppHarness, FakeKSQLDB


class Calculator(OpenFactoryApp):
    @ofa_method()
    def double(self, x: int) -> int:
        """Double a number.

        Returns twice x.
        """
        return 2 * x

    @ofa_method(
        name="scale",
        description="  Scale a value  ",
        param_description={"factor": " multiplier ", "value": ""},
    )
    def rescale(
        self,
        value: Annotated[float, "the value"],
        factor: float = 1.0,
        *,
        unit: Annotated[str, "  unit of the result  "] = "mm",
    ) -> float:
        return value * factor

    @ofa_method()
    def echo(self, text, flag: bool = False):  # text unannotated on purpose
        return text


def metadata(function: Any) -> dict[str, Any]:
    return function._ofa_method_metadata


# the decorator ----------------------------------------------------------------------------
def test_the_factory_signature_and_module_path() -> None:
    assert list(inspect.signature(ofa_method).parameters)[:3] == [
        "name",
        "description",
        "param_description",
    ]
    assert at_its_path is ofa_method


def test_the_decorated_function_itself_is_returned_and_callable() -> None:
    assert Calculator.double(None, 21) == 42  # type: ignore[arg-type]
    assert Calculator.double.__name__ == "double"


def test_the_metadata_is_exactly_the_documented_record() -> None:
    assert metadata(Calculator.double) == {
        "method_name": "double",
        "description": "Double a number.\n\nReturns twice x.",
        "parameters": {
            "x": {"annotation": int, "default": None, "required": True, "description": ""},
        },
    }
    assert metadata(Calculator.rescale) == {
        "method_name": "scale",
        "description": "Scale a value",
        "parameters": {
            "value": {
                "annotation": Annotated[float, "the value"],
                "default": None,
                "required": True,
                "description": "",  # the param_description key is present: it wins, even empty
            },
            "factor": {"annotation": float, "default": 1.0, "required": False,
                       "description": "multiplier"},
            "unit": {"annotation": Annotated[str, "  unit of the result  "], "default": "mm",
                     "required": False, "description": "unit of the result"},
        },
    }  # fmt: skip
    assert metadata(Calculator.echo)["parameters"]["text"] == {
        "annotation": None,
        "default": None,
        "required": True,
        "description": "",
    }


def test_descriptions_fall_back_to_the_docstring_and_are_stripped() -> None:
    def method(self: Any) -> None:
        """
        Home the axis.
        """

    assert metadata(ofa_method()(method))["description"] == "Home the axis."
    assert metadata(ofa_method(description="")(method))["description"] == "Home the axis."

    def bare(self: Any) -> None:
        pass

    assert metadata(ofa_method()(bare))["description"] == ""


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("def m(): pass", "takes no parameters"),
        ("def m(this, x): pass", "the first parameter must be 'self'"),
        ("def m(self, x, /): pass", "positional-only parameter 'x'"),
        ("def m(self, *values): pass", r"\*values is not allowed"),
        ("def m(self, **options): pass", r"\*\*options is not allowed"),
    ],
)
def test_what_commands_cannot_call_is_a_type_error_at_decoration(source: str, text: str) -> None:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    with pytest.raises(TypeError, match=text):
        ofa_method()(namespace["m"])


def test_without_parentheses_the_error_names_the_function() -> None:
    def move(self: Any) -> None:
        pass

    with pytest.raises(TypeError, match=r"use @ofa_method\(\) on '.*move'"):
        ofa_method(move)  # type: ignore[arg-type]


def test_keyword_only_parameters_are_allowed() -> None:
    assert list(metadata(Calculator.rescale)["parameters"]) == ["value", "factor", "unit"]


# registration -----------------------------------------------------------------------------
def test_the_contract_record_is_the_documented_json_string(ofa_ksqldb: FakeKSQLDB) -> None:
    Calculator(ofa_ksqldb)
    records = {r.json()["ID"]: r.json() for r in ofa_ksqldb.broker.records("ofa_assets")}
    scale = records["scale"]
    assert (scale["TYPE"], scale["TAG"]) == ("Method", "Method")
    assert scale["VALUE"] == json.dumps(
        {
            "description": "Scale a value",
            "arguments": [
                {"name": "value", "description": ""},
                {"name": "factor", "description": "multiplier"},
                {"name": "unit", "description": "unit of the result"},
            ],
        }
    )
    # each method's placeholder, under the name it is exposed as
    for method in ("double", "scale", "echo"):
        placeholder = records[f"{method}_CMD"]
        assert (placeholder["VALUE"], placeholder["TYPE"], placeholder["TAG"]) == (
            "",
            "OpenFactory",
            "Method.Command",
        )
    assert "rescale_CMD" not in records


def test_a_method_named_otherwise_is_called_by_that_name(ofa_app: AppHarness) -> None:
    # Reference 11 item 4: upstream listens on <function name>_CMD and never runs it.
    app = ofa_app.build(Calculator, "CALC")
    outcome = ofa_app.call(app, "scale", value="2", factor="3")
    assert outcome is not None and (outcome.status, outcome.result) == ("executed", 6.0)


class Base(OpenFactoryApp):
    @ofa_method(description="base start")
    def start(self) -> str:
        return "base"

    @ofa_method()
    def reset(self) -> str:
        return "base reset"


class Derived(Base):
    @ofa_method(description="derived start")
    def start(self) -> str:
        return "derived"

    def reset(self) -> str:  # undecorated override
        return "derived reset"


def test_inherited_methods_register_once_from_the_most_derived_definition(
    ofa_app: AppHarness,
) -> None:
    # Reference 11 item 5: 0.6.6 fails on a decorated override, raises on an undecorated one.
    app = ofa_app.build(Derived, "DERIVED")
    contracts = ofa_app.recorder.published(type="Method", asset="DERIVED")
    assert [c.id for c in contracts] == ["start", "reset"]
    assert json.loads(contracts[0].value)["description"] == "derived start"
    assert ofa_app.call(app, "start").result == "derived"  # type: ignore[union-attr]
    assert ofa_app.call(app, "reset").result == "derived reset"  # type: ignore[union-attr]


# executing a command ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "arguments", "expected"),
    [
        ("double", {"x": "2"}, 4),
        ("double", {"x": " 2 "}, 4),
        ("double", {"x": "2.0"}, 4),
        ("scale", {"value": "1e3"}, 1000.0),
        ("scale", {"value": "2", "factor": "0.5", "unit": "m"}, 1.0),
        ("echo", {"text": " as sent "}, " as sent "),  # nothing converts (nor strips: section 5)
    ],
)
def test_arguments_are_converted_to_the_annotated_types(
    ofa_app: AppHarness, method: str, arguments: dict[str, str], expected: Any
) -> None:
    app = ofa_app.build(Calculator, "CALC")
    outcome = ofa_app.call(app, method, **arguments)
    assert outcome is not None and outcome.status == "executed"
    assert outcome.result == expected and type(outcome.result) is type(expected)


@pytest.mark.parametrize(
    "text", ["true", "FALSE", "1", "0", "yes", "No", "on", "OFF"]
)  # fmt: skip
def test_booleans_take_the_usual_spellings(ofa_app: AppHarness, text: str) -> None:
    app = ofa_app.build(Calculator, "CALC")
    outcome = ofa_app.call(app, "echo", text="t", flag=text)
    assert outcome is not None and outcome.converted["flag"] is (
        text.lower() in {"true", "1", "yes", "on"}
    )


def test_an_unannotated_parameter_gets_the_string_unchanged(ofa_app: AppHarness) -> None:
    # Reference 11 item 11: upstream's TypeAdapter(None) rejects every string.
    app = ofa_app.build(Calculator, "CALC")
    outcome = ofa_app.call(app, "echo", text="0042")
    assert outcome is not None and outcome.result == "0042"


def test_missing_and_unconvertible_arguments_are_rejected_clearly(
    ofa_app: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = ofa_app.build(Calculator, "CALC")
    missing = ofa_app.call(app, "scale", factor="2")
    bad = ofa_app.call(app, "double", x="2.5")
    assert missing is not None and missing.status == "rejected"
    assert "missing required argument(s): 'value'" in (missing.error or "")
    assert bad is not None and bad.status == "rejected"
    assert "argument 'x': cannot convert '2.5' to int" in (bad.error or "")
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("Failed to execute scale with '{") for line in lines)
    assert any(line.startswith("Failed to execute double with '{") for line in lines)


def test_extra_arguments_are_ignored_with_a_warning_and_the_method_runs(
    ofa_app: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = ofa_app.build(Calculator, "CALC")
    outcome = ofa_app.call(app, "double", x="5", speed="fast")
    assert outcome is not None and (outcome.status, outcome.result) == ("executed", 10)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "ignored argument(s) 'speed' (the method takes: 'x')" in warning.getMessage()


def test_nothing_is_published_back_and_a_failure_leaves_the_app_running(
    ofa_app: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    class Fragile(OpenFactoryApp):
        @ofa_method()
        def explode(self, why: str) -> None:
            raise RuntimeError(why)

        @ofa_method()
        def ping(self) -> str:
            return "pong"

    app = ofa_app.build(Fragile, "FRAGILE")
    before = len(ofa_app.recorder.published(asset="FRAGILE"))
    failed = ofa_app.call(app, "explode", why="boom")
    assert failed is not None and failed.status == "failed"
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None  # with its traceback
    assert record.getMessage().startswith("Failed to execute explode with '{")
    assert "': RuntimeError: boom" in record.getMessage()
    assert ofa_app.call(app, "ping").status == "executed"  # type: ignore[union-attr]
    # only the two commands were published on the app's key: no result record
    ids = [a.id for a in ofa_app.recorder.published(asset="FRAGILE")[before:]]
    assert ids == ["explode_CMD", "ping_CMD"]
