"""``BorrowedTransport``: an asset view's handle on another asset's transport.

Views built by an asset (``references_above()`` and the like) run on the transport of the asset
that built them, whatever chose it (an explicit ``transport=``, ``--ofa-fake-broker``, test
mode, Kafka), and closing a view must not close what it borrowed.
"""

from __future__ import annotations

from openfactory.transport import DelegatingTransport, Transport


class BorrowedTransport(DelegatingTransport):
    """Publishes, subscribes and queries through ``owner``; ``close()`` stops only the
    subscriptions made through this handle and leaves ``owner`` open. Delivery failures are
    counted by ``owner`` (``failures`` and ``flush()`` report them)."""

    def __init__(self, owner: Transport) -> None:
        while isinstance(owner, BorrowedTransport):
            owner = owner.inner  # a view of a view borrows from the owner itself
        super().__init__(owner)

    @property
    def owner(self) -> Transport:
        """The transport this handle borrows."""
        return self.inner

    def __repr__(self) -> str:
        return f"BorrowedTransport({self.inner!r})"
