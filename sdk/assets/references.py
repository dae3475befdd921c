"""Which assets sit above and below an asset: comma-separated UUIDs in its ``references_above``
and ``references_below`` attributes (``TYPE`` ``OpenFactory``, ``TAG`` ``AssetsReferences``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from openfactory.assets.attribute import AssetAttribute, validate_id
from openfactory.errors import ConfigurationError

REFERENCES_TAG: Final = "AssetsReferences"
REFERENCES_ABOVE: Final = "references_above"
REFERENCES_BELOW: Final = "references_below"


def references_attribute(asset_uuids: Iterable[str]) -> AssetAttribute:
    """The attribute that lists ``asset_uuids`` as references (none: the empty list, ``""``)."""
    return AssetAttribute(",".join(asset_uuids), "OpenFactory", REFERENCES_TAG)


def referenced_uuids(attribute: AssetAttribute | None) -> list[str]:
    """The UUIDs a references attribute lists (none for a missing or non-text attribute)."""
    if attribute is None or not isinstance(attribute.value, str):
        return []
    return [uuid.strip() for uuid in attribute.value.split(",") if uuid.strip()]


def with_reference(attribute: AssetAttribute | None, asset_uuid: str) -> AssetAttribute:
    """The references attribute ``attribute`` with ``asset_uuid`` added (once).

    Raises ``ConfigurationError`` for an empty UUID or one with surrounding spaces or a comma.
    """
    validate_id("asset reference", asset_uuid)
    if "," in asset_uuid:
        raise ConfigurationError(f"asset reference may not contain ',': {asset_uuid!r}")
    uuids = referenced_uuids(attribute)
    if asset_uuid not in uuids:
        uuids.append(asset_uuid)
    return references_attribute(uuids)
