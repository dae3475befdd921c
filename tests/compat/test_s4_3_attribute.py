"""Reference section 4.3 (and the ``openfactory.assets.utils`` row of section 2):
``AssetAttribute`` in the platform's calling order and in this SDK's, its type check, the
timestamp helpers and ``AsyncLoopThread``."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import re
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from openfactory.assets import AssetAttribute
from openfactory.assets.utils import AsyncLoopThread, current_timestamp, openfactory_timestamp

TS = "2026-05-04T12:34:56.789Z"
WIRE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def temperature() -> AssetAttribute:
    return AssetAttribute(id="temp", value=21.5, type="Samples", tag="Temperature", timestamp=TS)


def test_the_utils_paths_hold_the_documented_names() -> None:
    utils = importlib.import_module("openfactory.assets.utils")
    for name in ("AssetAttribute", "current_timestamp", "openfactory_timestamp", "AsyncLoopThread"):
        assert name in utils.__all__
    for module, name in [("assetattribute", "AssetAttribute"),
                         ("time_methods", "current_timestamp"),
                         ("time_methods", "openfactory_timestamp"),
                         ("async_loop", "AsyncLoopThread")]:  # fmt: skip
        loaded = importlib.import_module(f"openfactory.assets.utils.{module}")
        assert getattr(loaded, name) is getattr(utils, name)
    assert utils.AssetAttribute is AssetAttribute


@pytest.mark.parametrize(
    "build",
    [
        lambda: AssetAttribute("temp", 21.5, "Samples", "Temperature", TS),  # the platform's order
        lambda: AssetAttribute("temp", 21.5, "Samples", tag="Temperature", timestamp=TS),
        lambda: AssetAttribute("temp", value=21.5, type="Samples", tag="Temperature", timestamp=TS),
        lambda: AssetAttribute(21.5, "Samples", "Temperature", TS, "temp"),  # this SDK's order
        lambda: AssetAttribute(21.5, "Samples", "Temperature", TS, id="temp"),
        lambda: AssetAttribute(tag="Temperature", timestamp=TS, value=21.5, id="temp"),
    ],
)
def test_both_calling_orders_build_the_same_attribute(build) -> None:
    assert build() == temperature()


def test_a_value_that_is_a_type_name_keeps_the_platform_order_readable() -> None:
    # Both readings have a valid type; the fourth argument is a tag, so the platform's order.
    platform = AssetAttribute("avail", "UNAVAILABLE", "Events", "Availability", TS)
    ours = AssetAttribute("UNAVAILABLE", "Events", "Availability", TS, "avail")
    assert platform == ours
    assert (ours.id, ours.value, ours.type, ours.tag) == (
        "avail", "UNAVAILABLE", "Events", "Availability",
    )  # fmt: skip


def test_fields_order_equality_and_mutability() -> None:
    assert [f.name for f in dataclasses.fields(AssetAttribute)] == [
        "value", "type", "tag", "timestamp", "id",
    ]  # fmt: skip
    attribute = temperature()
    for field, other in [("id", "t2"), ("value", 1), ("type", "Events"), ("tag", "T"),
                         ("timestamp", "2026-05-04T12:34:56.790Z")]:  # fmt: skip
        assert dataclasses.replace(attribute, **{field: other}) != attribute
    attribute.value = 30.0
    assert attribute.value == 30.0


def test_the_timestamp_defaults_to_now_in_the_wire_format() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = AssetAttribute(id="temp", value=1, type="Samples", tag="T").timestamp
    assert WIRE.fullmatch(stamp)
    assert before <= datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(seconds=1)


def test_an_invalid_type_is_a_value_error_naming_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"Invalid type 'Sample'\. Allowed values are: .*Samples"):
        AssetAttribute(id="temp", value=1, type="Sample", tag="T")


def test_the_value_is_not_checked() -> None:
    for value in (None, [1, 2], {"a": 1}, "text", 3):
        assert AssetAttribute(id="x", value=value, type="Events", tag="T").value == value


def test_current_timestamp_is_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = current_timestamp()
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    assert WIRE.fullmatch(stamp)
    assert before <= datetime.fromisoformat(stamp.replace("Z", "+00:00")) <= after


def test_openfactory_timestamp_formats_without_converting_the_zone() -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 5, 4, 14, 34, 56, 789999, tzinfo=paris)
    assert openfactory_timestamp(moment) == "2026-05-04T14:34:56.789Z"
    assert openfactory_timestamp(datetime(2026, 5, 4, 12, 0, 0, 5000)) == "2026-05-04T12:00:00.005Z"
    with pytest.raises(TypeError, match="datetime"):
        openfactory_timestamp("2026-05-04")  # type: ignore[arg-type]


def test_async_loop_thread_runs_coroutines_in_its_daemon_thread() -> None:
    looper = AsyncLoopThread()
    try:
        assert looper.thread.daemon and looper.thread.is_alive()

        async def where() -> tuple[int | None, asyncio.AbstractEventLoop]:
            await asyncio.sleep(0)
            return threading.get_ident(), asyncio.get_running_loop()

        ident, loop = looper.run_coro(where()).result(timeout=5)
        assert (ident, loop) == (looper.thread.ident, looper.loop)
    finally:
        looper.stop()
    assert not looper.thread.is_alive() and looper.loop.is_closed()
    looper.stop()  # idempotent


def test_stop_cancels_what_is_pending() -> None:
    looper = AsyncLoopThread()
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    pending = looper.run_coro(forever())
    assert started.wait(5)
    looper.stop()
    assert pending.cancelled()
    coro = forever()
    with pytest.raises(RuntimeError, match="stopped"):
        looper.run_coro(coro)
