"""``Outcomes``: the command outcomes of one app, waited on by condition (no sleeping)."""

from __future__ import annotations

import threading

from openfactory.apps import CommandOutcome, OpenFactoryApp


class Outcomes:
    """Command outcomes of ``app`` as they come; ``wait_count`` waits (at most ``timeout`` s)
    until there are ``count`` of them."""

    def __init__(self, app: OpenFactoryApp, timeout: float = 30.0) -> None:
        self.seen: list[CommandOutcome] = []
        self.timeout = timeout
        self._changed = threading.Condition()
        app.add_command_observer(self._add)

    def _add(self, outcome: CommandOutcome) -> None:
        with self._changed:
            self.seen.append(outcome)
            self._changed.notify_all()

    def wait_count(self, count: int) -> list[CommandOutcome]:
        """The outcomes so far, once there are ``count``; fails the test after the timeout."""
        with self._changed:
            ok = self._changed.wait_for(lambda: len(self.seen) >= count, self.timeout)
            assert ok, self.seen
            return list(self.seen)
