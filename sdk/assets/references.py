"""The references half of ``Asset``: which assets sit above and below this one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openfactory.assets.attribute import AssetAttribute, validate_id
from openfactory.errors import ConfigurationError

if TYPE_CHECKING:
    from openfactory.assets.asset import Asset

REFERENCES_TAG = "AssetsReferences"


class AssetReferences:
    """``add_reference_above/below`` and the reference getters, kept as comma-separated UUIDs in
    the ``references_above`` / ``references_below`` attributes (``TYPE`` ``OpenFactory``)."""

    _state: dict[str, AssetAttribute]

    if TYPE_CHECKING:  # provided by Asset

        def add_attribute(self, attribute_id: str, asset_attribute: AssetAttribute) -> None: ...

        def _view(self, asset_uuid: str) -> Asset: ...

    def add_reference_above(self, above_asset_reference: str) -> None:
        """Record that asset ``above_asset_reference`` sits above this one."""
        self._add_reference("references_above", above_asset_reference)

    def add_reference_below(self, below_asset_reference: str) -> None:
        """Record that asset ``below_asset_reference`` sits below this one."""
        self._add_reference("references_below", below_asset_reference)

    def references_above_uuid(self) -> list[str]:
        """UUIDs of the assets above this one."""
        return self._references("references_above")

    def references_below_uuid(self) -> list[str]:
        """UUIDs of the assets below this one."""
        return self._references("references_below")

    def references_above(self) -> list[Asset]:
        """``Asset`` views of the assets above this one."""
        return [self._view(uuid) for uuid in self.references_above_uuid()]

    def references_below(self) -> list[Asset]:
        """``Asset`` views of the assets below this one."""
        return [self._view(uuid) for uuid in self.references_below_uuid()]

    def _references(self, attribute_id: str) -> list[str]:
        value = self._state.get(attribute_id)
        if value is None or not isinstance(value.value, str):
            return []
        return [uuid.strip() for uuid in value.value.split(",") if uuid.strip()]

    def _add_reference(self, attribute_id: str, asset_uuid: str) -> None:
        validate_id("asset reference", asset_uuid)
        if "," in asset_uuid:
            raise ConfigurationError(f"asset reference may not contain ',': {asset_uuid!r}")
        references = self._references(attribute_id)
        if asset_uuid not in references:
            references.append(asset_uuid)
        self.add_attribute(
            attribute_id, AssetAttribute(",".join(references), "OpenFactory", REFERENCES_TAG)
        )
