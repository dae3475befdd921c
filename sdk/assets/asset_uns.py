"""``AssetUNS``: a view of an asset named by its UNS id (unified namespace path) instead of
its UUID."""

from __future__ import annotations

from typing import ClassVar

from openfactory.assets._borrowed import BorrowedTransport
from openfactory.assets._uns_mapping import UNSMapping
from openfactory.assets.asset import Asset
from openfactory.assets.attribute import AssetAttribute, validate_id
from openfactory.errors import OFAException
from openfactory.transport import KSQLDB, Transport
from openfactory.transport.wire import ASSETS_UNS_TABLE


class AssetUNS(Asset):
    """A live view of the asset that UNS id ``uns_id`` names (``factory/line-1/pump-001``).

    Reads ksqlDB's ``assets_uns`` table (rows keyed ``<uns_id>|<attribute id>``), writes and
    subscribes on the asset UUID the UNS id maps to in ``asset_to_uns_map``. With
    ``start_mapping_watcher=True`` the view follows that mapping as it changes (in test mode
    too: test mode behaves as production does); with ``False`` the feeds stay on the asset the
    UNS id mapped to when the view was built, and ``asset_uuid`` asks ksqlDB on every read.
    ``references_*()`` read ``assets_uns`` and give UNS ids and ``AssetUNS`` views. Everything
    else is ``Asset``'s. A UNS id that maps to no asset yet still makes a view: it reads what
    ksqlDB holds and receives nothing until the mapping appears; ``asset_uuid`` (hence writes)
    raises ``OFAException`` meanwhile.
    """

    KSQL_ASSET_TABLE: ClassVar[str] = ASSETS_UNS_TABLE
    KSQL_ASSET_ID: ClassVar[str] = "uns_id"

    def __init__(
        self,
        uns_id: str,
        ksqlClient: KSQLDB,
        bootstrap_servers: str | None = None,
        asset_router_url: str | None = None,
        test_mode: bool = False,
        start_mapping_watcher: bool = True,
        *,
        transport: Transport | None = None,
    ) -> None:
        self.uns_id = validate_id("uns_id", uns_id)
        self._mapping: UNSMapping | None = None
        self._open(
            uns_id, None, ksqlClient, bootstrap_servers, asset_router_url, test_mode, transport
        )
        try:
            mapping = UNSMapping(uns_id, self.transport, self._feeds.retarget)
            if start_mapping_watcher:
                mapping.watch()
            else:
                mapping.refresh()
            self._mapping = mapping
            self._feeds.retarget(mapping.current)
        except BaseException:
            self.close()
            raise

    @property
    def asset_uuid(self) -> str:  # type: ignore[override]
        """The UUID of the asset the UNS id maps to (as the watcher follows it; without the
        watcher, asked to ksqlDB on every read). Raises ``OFAException`` when unmapped."""
        mapping = self._mapping
        found = None
        if mapping is not None:
            found = mapping.current if mapping.watching else mapping.query()
        if found is None:
            raise OFAException(f"No Asset UUID mapping found for UNS asset '{self.uns_id}'.")
        return found

    def _references(self, direction: str) -> AssetAttribute | None:
        # The UNS rows list UNS ids; the asset's own records list asset UUIDs.
        return self._state.query_row(direction)

    def _view(self, asset_id: str) -> AssetUNS:
        mapping = self._mapping
        return AssetUNS(
            asset_id, self.ksql, self.bootstrap_servers, self.asset_router_url, self.test_mode,
            mapping is not None and mapping.watching, transport=BorrowedTransport(self.transport),
        )  # fmt: skip

    def close(self) -> None:
        """Stop following the mapping, then close as ``Asset.close`` does (idempotent)."""
        if self._mapping is not None:
            self._mapping.stop()
        super().close()
