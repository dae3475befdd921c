"""``app_log``: capture an app's log records in a test (its logger does not propagate)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def app_log(logger: logging.Logger, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Send the records of ``logger`` (an app's ``self.logger``) to ``caplog`` in the block."""
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)
