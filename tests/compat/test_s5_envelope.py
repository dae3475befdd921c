"""Reference section 5: the command envelope models of ``openfactory.schemas.command_header``,
built, serialized and parsed as the platform library does [both]."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

import openfactory.commands
from openfactory.apps import OpenFactoryApp, ofa_method
from openfactory.schemas.command_header import CommandEnvelope, CommandHeader
from openfactory.testing import AppHarness

CORRELATION = "550e8400-e29b-41d4-a716-446655440000"
DOCUMENTED = (
    '{"header":{"correlation_id":"550e8400-e29b-41d4-a716-446655440000","sender_uuid":"HMI-1",'
    '"timestamp":"2026-11-24T10:00:00.123456Z","signature":null},"arguments":{"x":"1.5"}}'
)


def envelope_json(**header: Any) -> str:
    fields: dict[str, Any] = {"correlation_id": CORRELATION, "sender_uuid": "HMI-1"} | header
    return json.dumps({"header": {k: v for k, v in fields.items() if v is not ...},
                       "arguments": {"x": "1.5"}})  # fmt: skip


def test_the_models_are_the_sdk_models() -> None:
    assert CommandHeader is openfactory.commands.CommandHeader
    assert CommandEnvelope is openfactory.commands.CommandEnvelope


# building and serializing -----------------------------------------------------------------
def test_built_as_the_platform_client_builds_it() -> None:
    # What Asset.method() does upstream (section 4.6).
    args = [("x", "1.5"), ("y", "2")]
    envelope = CommandEnvelope(
        header=CommandHeader(correlation_id=uuid.uuid4(), sender_uuid="HMI-1", signature=None),
        arguments=dict(args or []),
    )
    sent = json.loads(envelope.model_dump_json())
    assert list(sent) == ["header", "arguments"]
    assert list(sent["header"]) == ["correlation_id", "sender_uuid", "timestamp", "signature"]
    assert sent["header"]["sender_uuid"] == "HMI-1"
    assert sent["header"]["signature"] is None
    assert sent["arguments"] == {"x": "1.5", "y": "2"}
    stamped = envelope.header.sent_at  # the timestamp defaults to now, UTC
    assert abs(datetime.now(UTC) - stamped) < timedelta(minutes=1)


def test_documented_serialization_from_a_datetime() -> None:
    header = CommandHeader(
        correlation_id=uuid.UUID(CORRELATION),
        sender_uuid="HMI-1",
        timestamp=datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC),
    )
    assert CommandEnvelope(header=header, arguments={"x": "1.5"}).model_dump_json() == DOCUMENTED


def test_documented_serialization_from_text_and_other_offsets() -> None:
    text = CommandHeader(
        correlation_id=CORRELATION, sender_uuid="HMI-1", timestamp="2026-11-24T10:00:00.123456Z"
    )
    shifted = CommandHeader(
        correlation_id=CORRELATION,
        sender_uuid="HMI-1",
        timestamp=datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
    )
    for header in (text, shifted):
        envelope = CommandEnvelope(header=header, arguments={"x": "1.5"})
        assert envelope.model_dump_json() == DOCUMENTED


def test_arguments_default_to_empty() -> None:
    header = CommandHeader(correlation_id=uuid.uuid4(), sender_uuid="HMI-1")
    assert CommandEnvelope(header=header).arguments == {}
    assert json.loads(CommandEnvelope(header=header).model_dump_json())["arguments"] == {}


def test_the_sdk_envelope_round_trips_through_the_documented_parser() -> None:
    sent = openfactory.commands.CommandEnvelope.new("HMI-1", {"x": 1.5}).to_json()
    assert CommandEnvelope.model_validate_json(sent).arguments == {"x": "1.5"}


# parsing ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "sent_at"),
    [
        ({"timestamp": "2026-11-24T10:00:00.123456Z"}, datetime(2026, 11, 24, 10, 0, 0, 123456)),
        ({"timestamp": "2026-11-24T11:00:00+01:00"}, datetime(2026, 11, 24, 10, 0, 0)),
        ({"timestamp": "2026-11-24T10:00:00.5"}, datetime(2026, 11, 24, 10, 0, 0, 500000)),
        ({"timestamp": "2026-11-24 10:00:00"}, datetime(2026, 11, 24, 10, 0, 0)),
        ({"signature": "sig", "timestamp": "2026-11-24T10:00:00Z"}, datetime(2026, 11, 24, 10)),
    ],
    ids=["microseconds-Z", "offset", "no-offset", "space", "signature"],
)
def test_any_iso_8601_timestamp_is_accepted_no_offset_meaning_utc(
    header: dict[str, Any], sent_at: datetime
) -> None:
    envelope = CommandEnvelope.model_validate_json(envelope_json(**header))
    assert envelope.header.sent_at == sent_at.replace(tzinfo=UTC)
    assert envelope.header.timestamp == header["timestamp"]
    assert envelope.arguments == {"x": "1.5"}


def test_a_missing_timestamp_means_received_now() -> None:
    envelope = CommandEnvelope.model_validate_json(envelope_json())
    assert abs(datetime.now(UTC) - envelope.header.sent_at) < timedelta(minutes=1)
    assert envelope.header.signature is None


def test_missing_arguments_are_empty() -> None:
    text = json.dumps({"header": {"correlation_id": CORRELATION, "sender_uuid": "HMI-1"}})
    assert CommandEnvelope.model_validate_json(text).arguments == {}


@pytest.mark.parametrize(
    "text",
    [
        envelope_json(reply_to="x"),
        json.dumps({**json.loads(envelope_json()), "priority": "high"}),
        envelope_json(correlation_id="not-a-uuid"),
        envelope_json(sender_uuid=...),
        json.dumps({"arguments": {"x": "1"}}),
        json.dumps({**json.loads(envelope_json()), "arguments": {"x": 1.5}}),
        "not json",
        "",
    ],
    ids=["extra-header-field", "extra-top-field", "bad-uuid", "no-sender", "no-header",
         "non-string-argument", "not-json", "empty-placeholder"],
)  # fmt: skip
def test_what_the_platform_rejects_is_rejected(text: str) -> None:
    with pytest.raises(ValidationError):
        CommandEnvelope.model_validate_json(text)


# an app receiving the platform's envelopes ------------------------------------------------
class Axis(OpenFactoryApp):
    @ofa_method()
    def move(self, x: float) -> None:
        """Move the axis to x."""
        self.last_x = x


@pytest.mark.parametrize(
    "header",
    [{"timestamp": "2026-11-24T10:00:00.123456Z"}, {"timestamp": "2026-11-24T10:00:00"}, {}],
    ids=["platform-client", "no-offset", "no-timestamp"],
)
def test_an_app_executes_commands_built_by_the_platform_library(header: dict[str, Any]) -> None:
    with AppHarness() as world:
        axis = world.build(Axis, "AXIS-1")
        outcome = world.send_raw_command(axis, "move", envelope_json(**header))
        assert outcome.status == "executed"
        assert outcome.sender_uuid == "HMI-1"
        assert axis.last_x == 1.5
