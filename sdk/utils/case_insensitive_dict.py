"""``CaseInsensitiveDict``: a mapping that keeps its keys as given but looks them up in any case."""

from __future__ import annotations

from collections import UserDict
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Self


def _fold(key: Hashable) -> Hashable:
    return key.casefold() if isinstance(key, str) else key


class CaseInsensitiveDict(UserDict[Any, Any]):
    """A ``UserDict`` whose string keys ignore case for ``[]``, ``get``, ``in``, assignment and
    deletion (``d["value"]`` finds ``"VALUE"``).

    Iteration, ``keys()``, ``repr`` and equality see the keys as first given (the payload of a
    subscription keeps the exact keys published): assigning a key that differs from an existing
    one only by case replaces the value and keeps the key. Not a ``dict`` subclass (as upstream).
    """

    def __init__(self, data: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None, /,
                 **kwargs: Any) -> None:  # fmt: skip
        self._keys: dict[Hashable, Any] = {}
        super().__init__(data, **kwargs)

    def __getitem__(self, key: Any) -> Any:
        try:
            return self.data[self._keys[_fold(key)]]
        except KeyError:
            raise KeyError(key) from None

    def __setitem__(self, key: Any, value: Any) -> None:
        self.data[self._keys.setdefault(_fold(key), key)] = value

    def __delitem__(self, key: Any) -> None:
        try:
            original = self._keys.pop(_fold(key))
        except KeyError:
            raise KeyError(key) from None
        del self.data[original]

    def __contains__(self, key: object) -> bool:
        try:
            return _fold(key) in self._keys  # type: ignore[arg-type]
        except TypeError:  # an unhashable key is in no mapping
            return False

    def copy(self) -> Self:
        """A shallow copy (keys as they are, case-insensitive too)."""
        return type(self)(self.data)

    __copy__ = copy

    def __or__(self, other: Any) -> Self:  # type: ignore[override]
        merged = self.copy()
        merged.update(other)
        return merged

    def __ior__(self, other: Any) -> Self:  # type: ignore[override]
        self.update(other)
        return self
