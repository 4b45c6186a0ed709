"""An event is a CloudFormation request, a drift check, or refused: one ERROR line, no AWS call."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from devsupport.harness import FakeContext, Metrics
from devsupport.kinesis_sim import VirtualClock
from stream_encryption.handlers.invocation import Dependencies, process


def _no_call(region: str) -> Any:
    raise AssertionError(f"an AWS client was asked for ({region})")


def _refuse(opener_request: Any, timeout: float) -> Any:
    raise AssertionError("something was PUT")


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"source": "aws.events", "detail": {}},
        ["RequestType"],
        "check",
        None,
        {"kinesis-stream-encryption": "check", "repair": "yes"},
        {"kinesis-stream-encryption": "check", "ResponseURL": "https://example.com/put?sig=1"},
        {"kinesis-stream-encryption": "stop-all"},
    ],
)
def test_anything_else_is_refused_with_one_error_line_and_no_aws_call(event: object) -> None:
    out = io.StringIO()
    logger = Logger(service=f"t-{uuid.uuid4().hex[:6]}", logger_handler=logging.StreamHandler(out))
    clock = VirtualClock()
    deps = Dependencies(
        logger=logger,
        metrics=Metrics(),
        kinesis_client=_no_call,
        lambda_client=_no_call,
        clock=clock,
        opener=_refuse,
    )

    assert process(event, FakeContext(clock, 60.0), deps) is None

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["level"] for line in lines] == ["ERROR"]
    assert "example.com" not in out.getvalue()
