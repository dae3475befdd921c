"""Which assets sit above and below an asset: comma-separated ids in its ``references_above``
and ``references_below`` attributes (``TYPE`` ``OpenFactory``, ``TAG`` ``AssetsReferences``),
newest first, as the platform writes them (``"LINE-2, LINE-1"``)."""

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
    return AssetAttribute(value=", ".join(asset_uuids), type="OpenFactory", tag=REFERENCES_TAG)


def referenced_uuids(attribute: AssetAttribute | None) -> list[str]:
    """The ids a references attribute lists, in its order (none for a missing, empty or
    non-text attribute)."""
    if attribute is None or not isinstance(attribute.value, str):
        return []
    return [uuid.strip() for uuid in attribute.value.split(",") if uuid.strip()]


def with_reference(attribute: AssetAttribute | None, asset_uuid: str) -> AssetAttribute:
    """The references attribute ``attribute`` with ``asset_uuid`` put first (as the platform
    does: an id already listed is listed again).

    Raises ``ConfigurationError`` for an empty id or one with surrounding spaces or a comma.
    """
    validate_id("asset reference", asset_uuid)
    if "," in asset_uuid:
        raise ConfigurationError(
            f"asset reference may not contain ',' (references are a comma-separated list): "
            f"{asset_uuid!r}; add one reference per call"
        )
    return references_attribute([asset_uuid, *referenced_uuids(attribute)])
