"""The platform library's path of the declarations (``openfactory.apps.attributefield``)."""

from openfactory.apps.declared import (
    AttributeField,
    EventAttribute,
    OpenFactoryAppMeta,
    SampleAttribute,
)

__all__ = ["AttributeField", "EventAttribute", "OpenFactoryAppMeta", "SampleAttribute"]
