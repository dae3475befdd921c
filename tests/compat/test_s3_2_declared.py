"""Reference section 3.2: attributes declared on an app class (``AttributeField``,
``EventAttribute``, ``SampleAttribute``, ``OpenFactoryAppMeta``), both versions' spellings, and
this SDK's own (positional ``EventAttribute(value, tag)``, ``ConditionAttribute``)."""

from __future__ import annotations

import pytest

import openfactory.apps
from openfactory.apps import ConditionAttribute, OpenFactoryApp
from openfactory.apps.attributefield import (
    AttributeField,
    EventAttribute,
    OpenFactoryAppMeta,
    SampleAttribute,
)
from openfactory.assets import AssetAttribute
from openfactory.testing import FakeKSQLDB

STANDARD = [
    "avail",
    "application_version",
    "application_manufacturer",
    "application_license",
    "openfactory_manufacturer",
    "openfactory_license",
    "openfactory_version",
]


class Press(OpenFactoryApp):
    status = EventAttribute(value="idle", tag="Press.Status")
    force = SampleAttribute(value=0.0, tag="Press.Force")
    door = AttributeField(value="Normal", type="Condition", tag="Press.Door")


def published(ksqldb: FakeKSQLDB, uuid: str = "DEV-UUID") -> list[dict]:
    return [r.json() for r in ksqldb.broker.records("ofa_assets", uuid)]


# AttributeField ---------------------------------------------------------------------------
def test_attribute_field_is_keyword_only_with_a_required_tag() -> None:
    field = AttributeField(tag="T")
    assert (field.value, field.type, field.tag, field.name) == ("UNAVAILABLE", "Events", "T", None)
    with pytest.raises(TypeError):
        AttributeField(value=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        AttributeField(1, "Events", "T")  # type: ignore[misc]


def test_the_name_is_set_when_the_owning_class_is_created() -> None:
    assert Press.door.name == "door"
    assert isinstance(Press.door, AttributeField)


def test_the_type_is_not_checked_by_the_field_but_by_the_app_construction(
    ofa_ksqldb: FakeKSQLDB,
) -> None:
    field = AttributeField(value=1, type="Bogus", tag="T")  # accepted here

    class Broken(OpenFactoryApp):
        level = field

    with pytest.raises(ValueError, match=r"Broken.level is declared with type 'Bogus'"):
        Broken(ofa_ksqldb)
    assert published(ofa_ksqldb) == []  # nothing half-registered


def test_event_and_sample_attributes_fix_the_type() -> None:
    assert (EventAttribute(tag="E").type, SampleAttribute(tag="S").type) == ("Events", "Samples")
    assert EventAttribute(tag="E").value == "UNAVAILABLE"
    assert isinstance(SampleAttribute(tag="S"), AttributeField)


def test_this_sdks_spellings_still_work() -> None:
    positional = EventAttribute("idle", "App.Status")
    assert (positional.value, positional.tag, positional.type) == ("idle", "App.Status", "Events")
    condition = ConditionAttribute(value="Normal", tag="Door")
    assert (condition.type, condition.value) == ("Condition", "Normal")


def test_a_condition_is_an_attribute_field_of_type_condition(ofa_ksqldb: FakeKSQLDB) -> None:
    Press(ofa_ksqldb)
    (door,) = [v for v in published(ofa_ksqldb) if v["ID"] == "door"]
    assert (door["VALUE"], door["TYPE"], door["TAG"]) == ("Normal", "Condition", "Press.Door")


def test_the_module_paths() -> None:
    assert openfactory.apps.AttributeField is AttributeField
    assert "AttributeField" in openfactory.apps.__all__
    assert type(OpenFactoryApp) is OpenFactoryAppMeta


# OpenFactoryAppMeta -----------------------------------------------------------------------
def test_declared_attributes_in_order_standard_ones_first() -> None:
    assert list(OpenFactoryApp._declared_attributes) == STANDARD
    assert list(Press._declared_attributes) == [*STANDARD, "status", "force", "door"]
    assert Press._declared_attributes["door"] is Press.__dict__["door"]


def test_a_redefinition_replaces_the_field_and_keeps_its_position() -> None:
    class Child(Press):
        extra = SampleAttribute(value=1, tag="Extra")
        status = EventAttribute(value="booting", tag="Child.Status")

    assert list(Child._declared_attributes) == [*STANDARD, "status", "force", "door", "extra"]
    assert Child._declared_attributes["status"].value == "booting"
    assert Press._declared_attributes["status"].value == "idle"  # the base is untouched


def test_bases_are_merged_in_base_order() -> None:
    class Lights(OpenFactoryApp):
        lamp = EventAttribute(value="off", tag="Lamp")

    class Both(Press, Lights):
        own = EventAttribute(value=0, tag="Own")

    assert list(Both._declared_attributes) == [
        *STANDARD,
        "status",
        "force",
        "door",
        "lamp",
        "own",
    ]


def test_a_mixin_without_the_metaclass_contributes_its_declarations() -> None:
    class Mixin:
        batch = EventAttribute(value="", tag="Batch")

    class App(Mixin, OpenFactoryApp):
        pass

    assert list(App._declared_attributes) == ["batch", *STANDARD]


def test_assigning_something_else_withdraws_a_declaration() -> None:
    class Quiet(Press):
        force = None  # type: ignore[assignment]

    assert "force" not in Quiet._declared_attributes


# reading and assigning on an app ----------------------------------------------------------
def test_reading_on_the_app_gives_the_live_attribute(ofa_ksqldb: FakeKSQLDB) -> None:
    press = Press(ofa_ksqldb)
    assert isinstance(press.status, AssetAttribute)
    assert (press.status.value, press.status.type, press.status.tag) == (
        "idle",
        "Events",
        "Press.Status",
    )
    press.status = "pressing"
    assert press.status.value == "pressing"  # 0.6.6: live, not the declared default
    assert Press.status.value == "idle"  # on the class: the declaration


def test_assigning_publishes_with_the_declared_tag_and_type(ofa_ksqldb: FakeKSQLDB) -> None:
    press = Press(ofa_ksqldb)
    press.force = 12.5
    press.door = "Warning"
    latest = {v["ID"]: v for v in published(ofa_ksqldb)}
    assert (latest["force"]["VALUE"], latest["force"]["TYPE"], latest["force"]["TAG"]) == (
        12.5,
        "Samples",
        "Press.Force",
    )
    assert (latest["door"]["VALUE"], latest["door"]["TYPE"]) == ("Warning", "Condition")


def test_assigning_a_field_reached_through_a_custom_set_or_under_another_name(
    ofa_ksqldb: FakeKSQLDB,
) -> None:
    class Doubled(SampleAttribute):
        def __set__(self, instance, value) -> None:  # type: ignore[no-untyped-def]
            super().__set__(instance, value * 2)

    shared = EventAttribute(value="a", tag="Shared")

    class Mixer(OpenFactoryApp):
        speed = Doubled(value=0, tag="Mixer.Speed")
        first = shared
        second = shared  # __set_name__ names the field after the last name: "second"

    class Shadowed(Mixer):
        @property
        def speed(self) -> int:  # type: ignore[override]
            return -1

        @speed.setter
        def speed(self, value: int) -> None:
            self._speed = value

    mixer = Mixer(ofa_ksqldb)
    mixer.speed = 21
    mixer.first = "b"  # published as the field's name, as its __set__ does
    latest = {v["ID"]: v for v in published(ofa_ksqldb)}
    assert latest["speed"]["VALUE"] == 42 and latest["second"]["VALUE"] == "b"
    assert latest["first"]["VALUE"] == "a"  # only its start value
    mixer.close()
    shadowed = Shadowed(ofa_ksqldb, test_mode=True)  # type: ignore[call-arg]
    shadowed.speed = 5
    assert shadowed._speed == 5 and shadowed.speed == -1
    shadowed.close()
