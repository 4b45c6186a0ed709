"""The drift check's pure rules and its event model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stream_encryption.decisions_drift import (
    Drifted,
    InSync,
    NoKeyTag,
    is_checked_here,
    judge,
    repair_choice,
)
from stream_encryption.handlers.check import check_settings
from stream_encryption.identifiers import parse_stream_arn
from stream_encryption.models.check import CheckEvent
from stream_encryption.models.ownership import KEY_TAG, PROVIDER_TAG, unqualified_function_arn
from stream_encryption.models.stream import StreamState

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:provider"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{UUID}"


def state(
    encryption: str = "KMS", key: str | None = KEY_ARN, status: str = "ACTIVE"
) -> StreamState:
    return StreamState(STREAM, "orders", status, encryption, key)


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (FUNCTION, FUNCTION),
        (f"{FUNCTION}:$LATEST", FUNCTION),
        (f"{FUNCTION}:7", FUNCTION),
        ("not-an-arn", None),
    ],
)
def test_unqualified_function_arn(arn: str, expected: str | None) -> None:
    assert unqualified_function_arn(arn) == expected


def test_only_streams_tagged_with_this_function_are_checked() -> None:
    assert is_checked_here({PROVIDER_TAG: FUNCTION}, f"{FUNCTION}:live")
    assert not is_checked_here({PROVIDER_TAG: FUNCTION + "-other"}, FUNCTION)
    assert not is_checked_here({}, FUNCTION)


def test_judge() -> None:
    parsed = parse_stream_arn(STREAM)
    assert parsed is not None
    assert judge({KEY_TAG: KEY_ARN}, state(key=UUID), parsed) == InSync()
    assert judge({}, state(), parsed) == NoKeyTag()
    drifted = judge({KEY_TAG: KEY_ARN}, state("NONE", None), parsed)
    assert drifted == Drifted(KEY_ARN, "NONE", None, None)
    other = judge({KEY_TAG: KEY_ARN}, state(key="alias/aws/kinesis"), parsed)
    assert isinstance(other, Drifted) and other.actual == "KMS alias/aws/kinesis"


def test_repair_only_when_asked_and_only_an_active_stream() -> None:
    assert repair_choice(False, state()) == "report-only"
    assert repair_choice(True, state(status="UPDATING")) == "not-active"
    assert repair_choice(True, state()) == "repair"


def test_the_check_event_model() -> None:
    event = CheckEvent.model_validate({"kinesis-stream-encryption": "check", "repair": True})
    assert event.repair and event.cursor is None
    assert event.to_event() == {"kinesis-stream-encryption": "check", "repair": True}
    for bad in (
        {"kinesis-stream-encryption": "check", "repair": "yes"},
        {"kinesis-stream-encryption": "audit"},
        {"kinesis-stream-encryption": "check", "ResponseURL": "https://example.com/"},
    ):
        with pytest.raises(ValidationError):
            CheckEvent.model_validate(bad)


@pytest.mark.parametrize(
    ("environ", "regions", "period"),
    [
        ({}, ("us-east-1",), 3600.0),
        ({"DRIFT_CHECK_SCHEDULE": "rate(15 minutes)"}, ("us-east-1",), 900.0),
        ({"DRIFT_CHECK_SCHEDULE": "rate(1 day)"}, ("us-east-1",), 86400.0),
        ({"DRIFT_CHECK_SCHEDULE": "NONE"}, ("us-east-1",), 3600.0),
        ({"DRIFT_CHECK_PERIOD_SECONDS": "120"}, ("us-east-1",), 120.0),
        ({"DRIFT_CHECK_REGIONS": "eu-west-1, us-east-1,"}, ("eu-west-1", "us-east-1"), 3600.0),
    ],
)
def test_check_settings_from_the_environment(
    environ: dict[str, str], regions: tuple[str, ...], period: float
) -> None:
    assert check_settings(environ, "us-east-1") == (regions, period)
