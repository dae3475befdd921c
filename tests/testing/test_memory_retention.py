"""Memory stays flat in memory: the fake broker keeps its newest records (retention), each as
its bytes only, and a shut-down app and its in-memory world can be freed
(``bench/memory.py`` measures the process: RSS before and after 1M updates)."""

from __future__ import annotations

import gc
import json
import signal
import tracemalloc
import weakref

import pytest

from openfactory.apps import OpenFactoryApp, SampleAttribute
from openfactory.errors import ConfigurationError
from openfactory.testing import FakeBroker, FakeKSQLDB
from openfactory.transport import Record


def test_a_topic_keeps_its_newest_records_and_offsets_go_on() -> None:
    broker = FakeBroker(retention=3)
    for n in range(5):
        broker.produce("t", "k", b"%d" % n)
    assert [(r.offset, r.value) for r in broker.records("t")] == [
        (2, b"2"),
        (3, b"3"),
        (4, b"4"),
    ]
    everything = FakeBroker(retention=None)
    for n in range(5):
        everything.produce("t", "k", b"%d" % n)
    assert len(everything.records("t")) == 5
    with pytest.raises(ConfigurationError, match="retention must be >= 1"):
        FakeBroker(retention=0)


def test_a_kept_record_keeps_its_bytes_not_what_subscribers_decoded() -> None:
    broker = FakeBroker(retention=None)
    decoded: list[object] = []
    broker.subscribe("t", None, lambda record: decoded.append(record.json()["VALUE"]))
    value = json.dumps({"ID": "x", "VALUE": list(range(50)), "TAG": "t", "TYPE": "Samples"})
    payload = value.encode()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2_000):
            broker.produce("t", "k", payload)
        decoded.clear()
        per_record = (tracemalloc.get_traced_memory()[0] - before) / 2_000
    finally:
        tracemalloc.stop()
    # A record's own size (the object and its bytes); its decoded JSON is several times that.
    assert per_record < len(payload) + 300, f"{per_record:.0f} bytes kept per record"
    assert broker.records("t")[-1].json()["VALUE"] == list(range(50))  # decoded again


def test_record_forget_json_decodes_again_next_time() -> None:
    record = Record("t", "k", b'{"a": [1]}')
    first = record.json()
    assert record.json() is first  # cached while it is delivered
    record.forget_json()
    assert record.json() == first and record.json() is not first


class Counter(OpenFactoryApp):
    count = SampleAttribute(value=0, tag="Counter.Value")

    def main_loop(self) -> None:
        for n in range(1, 100):
            self.count = n


@pytest.mark.parametrize("how", ["run", "signal", "shutdown"])
def test_a_shut_down_app_and_its_world_can_be_freed(how: str) -> None:
    ksqldb = FakeKSQLDB(FakeBroker())
    app = Counter(ksqldb)
    if how == "run":
        app.run()
    elif how == "signal":
        try:  # not pytest.raises: its record of the exception would keep the frames alive
            app.signal_handler(signal.SIGTERM, None)
        except SystemExit as exit_:
            assert exit_.code == 0
    else:
        app.shutdown()
    world = [weakref.ref(o) for o in (app, ksqldb, ksqldb.broker)]
    del app, ksqldb
    gc.collect()
    assert [ref() for ref in world] == [None, None, None]
