"""Publish a few records and wait until the broker acknowledged every one of them."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

from openfactory import _clock
from openfactory.errors import DeliveryError
from openfactory.transport import DeliveryReport, Transport
from openfactory.transport.wire import attribute_id_of

#: ``(topic, key, value)``; a ``None`` value is a tombstone.
OutgoingRecord = tuple[str, str, bytes | None]


def deliver(transport: Transport, records: Sequence[OutgoingRecord], timeout: float = 10.0) -> None:
    """Publish ``records`` in order on ``transport`` and block until each is acknowledged.

    For the calls that upstream makes blocking (``AssetProducer.send_asset_attribute``,
    ``register_asset``, ``deregister_asset``). Raises ``DeliveryError`` naming the first record
    the broker refused, or the records still unacknowledged after ``timeout`` seconds;
    ``TransportError`` when a record cannot even be queued.
    """
    reports: list[DeliveryReport] = []
    answered = threading.Condition()

    def on_delivery(report: DeliveryReport) -> None:
        with answered:
            reports.append(report)
            answered.notify_all()

    deadline = _clock.monotonic() + timeout
    for topic, key, value in records:
        transport.publish(topic, key, value, on_delivery)
    transport.flush(max(deadline - _clock.monotonic(), 0.0))
    with answered:
        # The last report may still be on its way from the thread that served it.
        answered.wait_for(
            lambda: len(reports) == len(records), max(deadline - _clock.monotonic(), 0.0)
        )
        seen = list(reports)
    for report in seen:
        if not report.ok:
            raise report.as_error()
    acknowledged = Counter((r.record.topic, r.record.key, r.record.value) for r in seen)
    for topic, key, value in records:
        if acknowledged[(topic, key, value)] > 0:
            acknowledged[(topic, key, value)] -= 1
            continue
        raise DeliveryError(
            f"{len(records) - len(seen)} of {len(records)} record(s) not acknowledged within "
            f"{timeout} s; is the broker reachable?",
            topic=topic,
            key=key,
            attribute_id=attribute_id_of(value),
        )
