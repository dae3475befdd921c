"""What every loopback rig shares: ``with rig:`` is ``start()``, then ``stop()`` on the way out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Rig(ABC):
    """A rig run by ``start()`` and ended by ``stop()``, also usable as a context manager.

    ``with rig as running:`` binds what ``start()`` returns (the rig) and calls ``stop()`` when
    the block ends, however it ends; an exception ``start()`` raises leaves the block unentered
    (so a rig's ``start()`` must clean up after itself when it fails). The base holds no state:
    each rig keeps its own, this only maps the ``with`` protocol onto the two methods.
    """

    @abstractmethod
    def start(self) -> Self:
        """Start the rig and return it; raises what the rig documents."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the rig and release what it holds (idempotent)."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
