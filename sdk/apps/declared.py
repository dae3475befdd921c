"""Attributes declared on an app class: ``status = EventAttribute(value="idle", tag="S")``."""

from __future__ import annotations

import builtins
from typing import Any, overload

from openfactory.assets.asset import Asset
from openfactory.assets.attribute import AssetAttribute
from openfactory.errors import ConfigurationError


class DeclaredAttribute:
    """A class-level attribute declaration, published when the app starts.

    Reading it on an app gives the current ``AssetAttribute``; assigning publishes a new value.
    Subclasses inherit declarations and may redeclare them to override value or tag. It reaches
    the app through ``Asset._current`` and ``Asset._publish_attribute``, the two methods ``Asset``
    keeps for attribute descriptors.
    """

    type: str = "Samples"

    def __init__(self, value: Any = "UNAVAILABLE", tag: str = "UNAVAILABLE") -> None:
        if not isinstance(tag, str) or not tag:
            raise ConfigurationError(
                f"{type(self).__name__} tag must be a non-empty str, got {tag!r}"
            )
        self.value = value
        self.tag = tag
        self.name = ""

    def __set_name__(self, owner: builtins.type, name: str) -> None:
        self.name = name

    def initial(self) -> AssetAttribute:
        """The attribute published at start-up."""
        return AssetAttribute(self.value, self.type, self.tag)

    @overload
    def __get__(self, instance: None, owner: builtins.type) -> DeclaredAttribute: ...
    @overload
    def __get__(self, instance: Asset, owner: builtins.type) -> AssetAttribute: ...
    def __get__(
        self, instance: Asset | None, owner: builtins.type
    ) -> DeclaredAttribute | AssetAttribute:
        if instance is None:
            return self
        current = instance._current(self.name)
        return current if current is not None else self.initial()

    def __set__(self, instance: Asset, value: Any) -> None:
        if isinstance(value, AssetAttribute):
            instance.add_attribute(self.name, value)
        else:
            instance._publish_attribute(AssetAttribute(value, self.type, self.tag, id=self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(value={self.value!r}, tag={self.tag!r})"


class EventAttribute(DeclaredAttribute):
    """An ``Events`` attribute declared on an app class."""

    type = "Events"


class SampleAttribute(DeclaredAttribute):
    """A ``Samples`` attribute declared on an app class."""

    type = "Samples"


class ConditionAttribute(DeclaredAttribute):
    """A ``Condition`` attribute declared on an app class."""

    type = "Condition"


def declared_attributes(cls: type) -> dict[str, DeclaredAttribute]:
    """Every attribute declared on ``cls`` and its bases; the most derived declaration wins."""
    found: dict[str, DeclaredAttribute] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, DeclaredAttribute):
                found[name] = value
            elif name in found:
                del found[name]  # a subclass replaced the declaration with something else
    return found
