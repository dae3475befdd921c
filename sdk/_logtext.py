"""``shown``: how the SDK puts a value it did not choose (a command envelope, an argument, a
sender's UUID, a record key) into a log line, so that no input makes a log line longer than a
few hundred characters however large it is.

This module imports only the standard library, so any package of the SDK may use it.
"""

from __future__ import annotations

from typing import Any

#: Characters of a value kept in a log line; the rest is replaced by its length.
LOGGED_CHARS = 200


def shown(value: Any, limit: int = LOGGED_CHARS, *, as_text: bool = False) -> str:
    """``repr(value)`` (an exception: its message; a ``str`` with ``as_text``: itself), cut to
    ``limit`` characters and followed by the full length when longer:
    ``'abc'... (10485760 chars)``.

    Never raises: a ``repr``/``str`` that fails is named instead.
    """
    if isinstance(value, str):
        # Cut before repr: a 10 MB value must not be copied to build a line that drops it.
        head = value[:limit] if as_text else repr(value[:limit])
        return head if len(value) <= limit else f"{head}... ({len(value)} chars)"
    if isinstance(value, bytes | bytearray) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} bytes)"
    try:
        text = str(value) if isinstance(value, BaseException) else repr(value)
    except Exception as err:  # a hostile or broken __repr__ must not break the log call
        return f"<{type(value).__name__} whose repr raised {type(err).__name__}>"
    if len(text) > limit:
        return f"{text[:limit]}... ({len(text)} chars)"
    return text
