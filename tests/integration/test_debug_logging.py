"""SPEC "Response to CloudFormation": the ResponseURL stays out of every logger of the process.

The deployed entry point (``handler.lambda_handler``) runs with DEBUG on the root logger, botocore,
urllib3 and the Powertools logger. The hand-over goes through a real botocore Lambda client to a
local HTTP endpoint, so botocore really logs the Invoke request (whose payload carries the URL);
the response is PUT over HTTP. Nothing printed or logged may contain the URL, its query or its
signature, including an exception whose message quotes it.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config

from devsupport import leak_guard
from devsupport.harness import ACCOUNT, FUNCTION_ARN, REGION, STACK_ID, FakeContext, make_event
from devsupport.http_receiver import ResponseReceiver, presigned_query, secrets_of
from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.handlers.invocation import Dependencies

ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
NOISY = ("", "botocore", "urllib3", "boto3")


@dataclass
class Entry:
    """The deployed entry module, and what its Powertools logger printed during the test."""

    module: ModuleType
    printed: io.StringIO


@pytest.fixture
def entry() -> Iterator[Entry]:
    """The entry module, imported here (not at collection), its Powertools logger printing to a
    string for the test (Powertools binds its handler to ``sys.stdout`` as it was at import)."""
    module = importlib.import_module("handler")
    printed = io.StringIO()
    streams = [h for h in module.logger.handlers if isinstance(h, logging.StreamHandler)]
    before = [h.stream for h in streams]
    for each in streams:
        each.stream = printed  # not setStream: it flushes the old stream, maybe closed by now
    yield Entry(module, printed)
    for each, stream in zip(streams, before, strict=True):
        each.stream = stream


@pytest.fixture
def debug_everywhere(entry: Entry) -> Iterator[io.StringIO]:
    """DEBUG on the root logger (captured), botocore, urllib3 and the Powertools logger."""
    captured = io.StringIO()
    root_handler = logging.StreamHandler(captured)
    root_handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    levels = {name: logging.getLogger(name).level for name in NOISY}
    logging.getLogger().addHandler(root_handler)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG)
    entry.module.logger.setLevel("DEBUG")
    yield captured
    entry.module.logger.setLevel("INFO")
    logging.getLogger().removeHandler(root_handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def receiver() -> Iterator[ResponseReceiver]:
    with ResponseReceiver(default=(202,)) as running:  # 202: Lambda queued the async invoke
        yield running


def url_signed_at(receiver: ResponseReceiver, wall: float) -> str:
    resource = quote(f"{STACK_ID}|StreamEncryption|{time.time_ns()}", safe="/")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(wall))
    url = f"{receiver.base_url}/{resource}?{presigned_query(date=stamp)}"
    receiver.script(url, [200])
    leak_guard.watch_secret(url)
    return url


def wire_handler(
    handler: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    receiver: ResponseReceiver,
    clock: VirtualClock,
) -> KinesisSimulator:
    """The entry point's own logger and metrics; Kinesis simulated; Lambda over real HTTP."""
    sim = KinesisSimulator(clock, account_id=ACCOUNT, region=REGION)
    kinesis: Any = boto3.client(
        "kinesis", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    sim.attach(kinesis)
    lambda_client: Any = boto3.client(
        "lambda",
        region_name=REGION,
        endpoint_url=receiver.base_url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )

    def dependencies() -> Dependencies:
        return Dependencies(
            logger=handler.logger,
            metrics=handler._MetricsAdapter(),
            kinesis_client=lambda region: kinesis,
            lambda_client=lambda region: lambda_client,
            clock=clock,
        )

    monkeypatch.setattr(handler, "_dependencies", dependencies)
    return sim


def everything_printed(
    entry: Entry, captured: io.StringIO, capsys: pytest.CaptureFixture[str], caplog
) -> str:
    """Powertools' output, the root logger's, the process's stdout and stderr, pytest's log."""
    out = capsys.readouterr()
    return "\n".join([entry.printed.getvalue(), captured.getvalue(), out.out, out.err, caplog.text])


def test_debug_everywhere_with_a_hand_over_shows_no_signature(
    entry, debug_everywhere, receiver, monkeypatch, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    clock = VirtualClock()
    sim = wire_handler(entry.module, monkeypatch, receiver, clock)
    sim.create_stream("orders", update_seconds=1_000)
    url = url_signed_at(receiver, clock.wall())
    event = make_event(StreamARN=ARN, ServiceTimeout="3600", response_url=url)
    entry.module.lambda_handler(event, FakeContext(clock, timeout=30))

    invokes = [r for r in receiver.requests if r.method == "POST"]
    assert len(invokes) == 1 and quote(FUNCTION_ARN, safe="") in invokes[0].path
    payload = json.loads(invokes[0].body)
    assert payload["ResponseURL"] == url  # the hand-over carried the secret through botocore
    printed = everything_printed(entry, debug_everywhere, capsys, caplog)
    assert "Invoke" in printed and "Making request" in printed  # botocore did log the request
    for secret in secrets_of(url):
        assert secret not in printed
    assert receiver.requests_for(url) == []  # the next invocation answers, not this one


def test_an_exception_quoting_the_url_in_the_last_resort_log_is_redacted(
    entry, debug_everywhere, receiver, monkeypatch, capsys, caplog
):
    clock = VirtualClock()
    sim = wire_handler(entry.module, monkeypatch, receiver, clock)
    sim.create_stream("orders")
    url = url_signed_at(receiver, clock.wall())

    def broken_instrumentation(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError(f"could not read {event['ResponseURL']}")

    monkeypatch.setattr(entry.module, "_instrumented", broken_instrumentation)
    entry.module.lambda_handler(make_event(StreamARN=ARN, response_url=url), FakeContext(clock, 30))

    [put] = receiver.requests_for(url)
    assert json.loads(put.body)["Status"] == "SUCCESS"  # handled bare, still answered
    printed = everything_printed(entry, debug_everywhere, capsys, caplog)
    assert "Instrumentation failed" in printed and "RuntimeError" in printed
    assert "could not read" in printed  # the message is kept, only the URL is cut
    assert "<redacted>" in printed
    for secret in secrets_of(url):
        assert secret not in printed


def test_a_failing_log_handler_does_not_print_the_exception_that_quotes_the_url(
    entry, receiver, monkeypatch, capsys
):
    """When emitting fails, logging prints its own error and the exception being handled: the
    last-resort line is logged outside the except block, and the exception itself is cleaned."""
    clock = VirtualClock()
    sim = wire_handler(entry.module, monkeypatch, receiver, clock)
    sim.create_stream("orders")
    url = url_signed_at(receiver, clock.wall())
    broken = io.StringIO()
    broken.close()
    for each in entry.module.logger.handlers:
        if isinstance(each, logging.StreamHandler):
            each.stream = broken

    def broken_instrumentation(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError(f"could not read {event['ResponseURL']}")

    monkeypatch.setattr(entry.module, "_instrumented", broken_instrumentation)
    entry.module.lambda_handler(make_event(StreamARN=ARN, response_url=url), FakeContext(clock, 30))

    assert len(receiver.requests_for(url)) == 1  # still answered
    err = capsys.readouterr().err
    assert "--- Logging error ---" in err and "Instrumentation failed" in err
    for secret in secrets_of(url):
        assert secret not in err
