"""Attributes declared on an app class: ``status = EventAttribute(value="idle", tag="S")``.

``AttributeField`` is the platform library's declaration (keyword-only, any ``type``);
``EventAttribute``, ``SampleAttribute`` and ``ConditionAttribute`` fix the type and also take
``(value, tag)`` positionally. ``OpenFactoryAppMeta`` lists a class's declarations, in the order
they are published, as ``cls._declared_attributes`` (the platform library's name).
"""

from __future__ import annotations

import builtins
import inspect
import os
from typing import Any, overload

from openfactory.assets.asset import Asset
from openfactory.assets.attribute import AssetAttribute
from openfactory.errors import ConfigurationError
from openfactory.transport.wire import ATTRIBUTE_TYPES

UNAVAILABLE = "UNAVAILABLE"


class AttributeField:
    """A class-level attribute declaration, published when the app is built.

    ``type`` is checked when the app is built (``ConfigurationError``, a ``ValueError``, for
    one that is not an OpenFactory type). ``name`` is ``None`` until the owning class is
    created, then the class attribute's name. Read on an app it gives the live
    ``AssetAttribute``; read on the class, the declaration; assigning on an app publishes the
    value with the declared type and tag. Raises ``ConfigurationError`` for an empty ``tag``.
    """

    def __init__(self, *, value: Any = UNAVAILABLE, type: str = "Events", tag: str) -> None:
        if not isinstance(tag, str) or not tag:
            raise ConfigurationError(
                f"{builtins.type(self).__name__} tag must be a non-empty str, got {tag!r}"
            )
        self.value = value
        self.type = type
        self.tag = tag
        self.name: str | None = None

    def __set_name__(self, owner: builtins.type, name: str) -> None:
        self.name = name

    def initial(self) -> AssetAttribute:
        """The attribute published when the app is built; ``ConfigurationError`` for a bad type."""
        return AssetAttribute(value=self.value, type=self.type, tag=self.tag)

    @overload
    def __get__(self, instance: None, owner: builtins.type) -> AttributeField: ...
    @overload
    def __get__(self, instance: Asset, owner: builtins.type) -> AssetAttribute: ...
    def __get__(
        self, instance: Asset | None, owner: builtins.type
    ) -> AttributeField | AssetAttribute:
        if instance is None:
            return self
        current = instance._current(self._id())
        return current if current is not None else self.initial()

    def __set__(self, instance: Asset, value: Any) -> None:
        attribute_id = self._id()
        if isinstance(value, AssetAttribute):
            instance.add_attribute(attribute_id, value)
        else:
            instance._publish_value(attribute_id, value, self.type, self.tag)

    def _id(self) -> str:
        if self.name is None:
            raise ConfigurationError(
                f"{self!r} is not declared on a class: assign it in an app's class body"
            )
        return self.name

    def __repr__(self) -> str:
        return f"AttributeField(value={self.value!r}, type={self.type!r}, tag={self.tag!r})"


class _TypedField(AttributeField):
    """An ``AttributeField`` of a fixed type that also takes ``(value, tag)`` positionally."""

    fixed_type = "Events"

    def __init__(self, value: Any = UNAVAILABLE, tag: str = UNAVAILABLE) -> None:
        super().__init__(value=value, type=self.fixed_type, tag=tag)

    def __repr__(self) -> str:
        return f"{builtins.type(self).__name__}(value={self.value!r}, tag={self.tag!r})"


class EventAttribute(_TypedField):
    """An ``Events`` attribute declared on an app class."""

    fixed_type = "Events"


class SampleAttribute(_TypedField):
    """A ``Samples`` attribute declared on an app class."""

    fixed_type = "Samples"


class ConditionAttribute(_TypedField):
    """A ``Condition`` attribute declared on an app class."""

    fixed_type = "Condition"


DeclaredAttribute = AttributeField
"""The former name of ``AttributeField``."""


class EnvironmentAttribute(AttributeField):
    """An ``Events`` attribute whose value is env ``variable`` (else ``default``), read each time
    an app is built: the platform library reads it once, at import (reference section 11)."""

    def __init__(self, variable: str, default: str, tag: str) -> None:
        self.variable = variable
        super().__init__(value=default, type="Events", tag=tag)

    @property  # type: ignore[override]
    def value(self) -> str:
        """The value an app built now publishes."""
        return os.getenv(self.variable, self.default)

    @value.setter
    def value(self, default: str) -> None:
        self.default = default


class OpenFactoryAppMeta(type):
    """Metaclass of ``OpenFactoryApp``: at class creation, ``cls._declared_attributes`` maps
    each declared name to its ``AttributeField``, in publishing order.

    The bases' declarations come first (in base order), then the class body's in body order; a
    redeclaration replaces the field and keeps the inherited position; a body that assigns a
    declared name something else withdraws the declaration.
    """

    _declared_attributes: dict[str, AttributeField]

    def __new__(
        mcs, name: str, bases: tuple[builtins.type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> OpenFactoryAppMeta:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        declared: dict[str, AttributeField] = {}
        for base in bases:
            declared.update(declared_attributes(base))
        for attribute, value in namespace.items():
            if isinstance(value, AttributeField):
                declared[attribute] = value
            elif attribute in declared:
                del declared[attribute]
        cls._declared_attributes = declared
        return cls


def declared_attributes(cls: builtins.type) -> dict[str, AttributeField]:
    """Every attribute declared on ``cls`` and its bases, in publishing order.

    For a class built by ``OpenFactoryAppMeta``, its ``_declared_attributes``; for any other
    class (a mixin), the declarations found over its MRO, the most derived winning.
    """
    if isinstance(cls, OpenFactoryAppMeta):
        return dict(cls._declared_attributes)
    found: dict[str, AttributeField] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, AttributeField):
                found[name] = value
            elif name in found:
                del found[name]  # a subclass replaced the declaration with something else
    return found


def check_declared_types(cls: builtins.type) -> dict[str, AttributeField]:
    """``declared_attributes(cls)``, once every declared type is checked.

    Raises ``ConfigurationError`` (a ``ValueError``) naming the first attribute whose type is
    not an OpenFactory attribute type.
    """
    declared = declared_attributes(cls)
    for name, field in declared.items():
        if field.type not in ATTRIBUTE_TYPES:
            raise ConfigurationError(
                f"{cls.__qualname__}.{name} is declared with type {field.type!r}, which is not "
                f"an OpenFactory attribute type; use one of {', '.join(sorted(ATTRIBUTE_TYPES))}"
            )
    return declared


def published_fields(cls: builtins.type) -> dict[str, AttributeField]:
    """The declared attributes an assignment on an app of ``cls`` may publish at once: each name
    whose class attribute is its own field (``cls`` resolves the name to it, its name is that
    name) and whose ``__set__`` is ``AttributeField``'s. Cached in ``cls``: asked on every
    assignment."""
    fields: dict[str, AttributeField] | None = cls.__dict__.get("_ofa_published_fields")
    if fields is None:
        fields = {
            name: field
            for name, field in declared_attributes(cls).items()
            if field.name == name
            and inspect.getattr_static(cls, name, None) is field
            and builtins.type(field).__set__ is AttributeField.__set__
        }
        builtins.type.__setattr__(cls, "_ofa_published_fields", fields)
    return fields
