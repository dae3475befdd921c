"""pytest plugin (``pytest11`` entry point): fixtures for testing OpenFactory apps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openfactory.testing.broker import FakeBroker
from openfactory.testing.ksqldb import FakeKSQLDB


@pytest.fixture
def ofa_broker() -> FakeBroker:
    """A fresh in-memory Kafka broker for this test."""
    return FakeBroker()


@pytest.fixture
def ofa_ksqldb(ofa_broker: FakeBroker) -> Iterator[FakeKSQLDB]:
    """A fake ksqlDB on this test's broker; pass it as ``ksqlClient`` to apps and assets."""
    client = FakeKSQLDB(ofa_broker)
    yield client
    client.close()
