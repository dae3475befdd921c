"""``RecordingKSQLDB``: the fake ksqlDB, keeping the text of every pull query it answers."""

from __future__ import annotations

from typing import Any

from openfactory.testing import FakeKSQLDB


class RecordingKSQLDB(FakeKSQLDB):
    """The fake ksqlDB, keeping the text of every pull query it answers in ``queries``."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Answer ``sql`` as the fake ksqlDB does, after noting it."""
        self.queries.append(sql)
        return super().query(sql)
