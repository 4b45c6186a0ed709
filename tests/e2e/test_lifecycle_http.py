"""The real HTTP path, end to end.

Each handler invocation is a separate Python process (as in Lambda): its boto3 reaches a moto
server over HTTP and it PUTs its response to a local receiver over HTTP. Checked on every response:
method PUT, exactly the path and query the event gave (byte for byte, percent-encoding kept), an
empty Content-Type, a body within 4096 bytes, one accepted response per event; and on every run
(in the ``invoke`` fixture) that the process never printed the ResponseURL, its query or its
signature.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from devsupport.http_receiver import Close, RecordedRequest, ResponseReceiver
from devsupport.moto_server import emulator_client, reset_moto
from tests.e2e.conftest import (
    HandlerRun,
    Invoke,
    assert_no_secrets,
    guard,
    handler_environment,
    load_event,
    run_handler_process,
)

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
REGION = "us-east-1"
ORDERS_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
MAX_BODY = 4096


# -- helpers -----------------------------------------------------------------------------------


def target_of(url: str) -> str:
    """The raw path+query of ``url``, exactly as a client must send it in the request line."""
    rest = url.split("://", 1)[1]
    return rest[rest.index("/") :]


def assert_wire(request: RecordedRequest, run: HandlerRun) -> dict[str, Any]:
    """The PUT as CloudFormation's presigned S3 URL needs it; returns the parsed body."""
    assert request.method == "PUT"
    assert request.target == target_of(run.url)  # byte for byte: no re-encoding, no reordering
    assert request.header_values("Content-Type") == [""]
    assert request.header("Content-Length") == str(len(request.body))
    assert len(request.body) <= MAX_BODY
    body = json.loads(request.body)
    assert body["StackId"] == run.event["StackId"]
    assert body["RequestId"] == run.event["RequestId"]
    assert body["LogicalResourceId"] == run.event["LogicalResourceId"]
    assert body["Status"] in ("SUCCESS", "FAILED")
    assert run.log_stream_name in body["Reason"], "Reason must point at the log stream"
    assert all(ord(c) >= 0x20 for c in body["Reason"]), "no control characters in Reason"
    return body


def single_response(receiver: ResponseReceiver, run: HandlerRun) -> dict[str, Any]:
    """Exactly one request reached the ResponseURL and it was accepted; its body."""
    assert run.returncode == 0, run.stderr
    requests = receiver.requests_for(run.url)
    assert len(requests) == 1, [r.status for r in requests]
    assert requests[0].accepted
    return assert_wire(requests[0], run)


def stream_encryption(kinesis: Any, name: str = "orders") -> tuple[str, str | None]:
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    return summary.get("EncryptionType", "NONE"), summary.get("KeyId")


def create_stream(kinesis: Any, name: str = "orders") -> str:
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def with_properties(event: dict[str, Any], **changes: str) -> dict[str, Any]:
    event = dict(event)
    event["ResourceProperties"] = {**event["ResourceProperties"], **changes}
    return event


# -- lifecycle ---------------------------------------------------------------------------------


def test_full_lifecycle_over_http(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any, kms: Any
) -> None:
    assert create_stream(kinesis) == ORDERS_ARN
    key_arn = kms.create_key(Description="orders stream")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/orders-stream", TargetKeyId=key_arn)

    # Create with the AWS-managed key, by name.
    created = invoke(load_event("create-by-name"))
    body = single_response(receiver, created)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == ORDERS_ARN
    assert body["Data"] == {
        "StreamARN": ORDERS_ARN,
        "StreamName": "orders",
        "KeyId": "alias/aws/kinesis",
        "EncryptionType": "KMS",
    }
    assert stream_encryption(kinesis) == ("KMS", "alias/aws/kinesis")
    assert "EncryptionStarted" in created.metrics

    # Update to the customer key (by ARN now: same stream, so the same physical id).
    change = load_event("update-key-change")
    change = with_properties(change, KeyId=key_arn)
    updated = invoke(change)
    body = single_response(receiver, updated)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == ORDERS_ARN
    assert body["Data"]["KeyId"] == key_arn
    assert stream_encryption(kinesis) == ("KMS", key_arn)
    assert "EncryptionStarted" in updated.metrics

    # No-op Update (e.g. only a tag changed): no StartStreamEncryption, key untouched.
    noop = dict(change)
    noop["RequestId"] = "5b0f6c2e-8d1a-4e3b-9f7c-2a6d4e8b1c03"
    noop["OldResourceProperties"] = dict(change["ResourceProperties"])
    unchanged = invoke(noop)
    body = single_response(receiver, unchanged)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == ORDERS_ARN
    assert "nothing changed" in body["Reason"]
    assert "EncryptionUnchanged" in unchanged.metrics
    assert "EncryptionStarted" not in unchanged.metrics
    assert stream_encryption(kinesis) == ("KMS", key_arn)

    # Delete: encryption off again.
    delete = with_properties(load_event("delete"), KeyId=key_arn)
    deleted = invoke(delete)
    body = single_response(receiver, deleted)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == ORDERS_ARN
    assert "EncryptionStopped" in deleted.metrics
    assert stream_encryption(kinesis) == ("NONE", None)

    for run in (created, updated, unchanged, deleted):
        assert_no_secrets(run)
        assert run.messages("ERROR") == []


def test_update_to_another_stream_returns_its_arn(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any
) -> None:
    create_stream(kinesis)
    v2_arn = create_stream(kinesis, "orders-v2")
    event = load_event("update-stream-change")  # the customer key: moto does not check keys
    run = invoke(event)
    body = single_response(receiver, run)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == v2_arn
    assert stream_encryption(kinesis, "orders-v2") == (
        "KMS",
        event["ResourceProperties"]["KeyId"],
    )
    assert stream_encryption(kinesis, "orders") == ("NONE", None)  # old one left for Delete
    assert_no_secrets(run)


# -- delivering the response -------------------------------------------------------------------


def test_5xx_is_retried_until_accepted(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any
) -> None:
    create_stream(kinesis)
    run = invoke(load_event("create-by-arn"), script=[500, 200])
    assert run.returncode == 0, run.stderr
    first, second = receiver.requests_for(run.url)
    assert (first.status, second.status) == (500, 200)
    assert first.body == second.body  # the same response, re-sent
    body = assert_wire(first, run)
    assert_wire(second, run)
    assert body["Status"] == "SUCCESS", body["Reason"]
    accepted = [r for r in run.logs if r.get("message") == "CloudFormation accepted the response"]
    assert [r.get("attempts") for r in accepted] == [2]
    assert_no_secrets(run)


def test_connection_closed_without_answer_is_retried(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any
) -> None:
    create_stream(kinesis)
    run = invoke(load_event("create-by-arn"), script=[Close(), 200])
    assert run.returncode == 0, run.stderr
    requests = receiver.requests_for(run.url)
    assert [r.status for r in requests] == [None, 200]
    assert requests[0].body == requests[1].body
    assert sum(r.accepted for r in requests) == 1
    assert_no_secrets(run)


def test_4xx_is_final_one_attempt_and_logged_without_the_url(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any
) -> None:
    create_stream(kinesis)
    run = invoke(load_event("create-by-arn"), script=[403])
    assert run.returncode == 0, run.stderr  # the invocation itself must not crash
    requests = receiver.requests_for(run.url)
    assert len(requests) == 1, "a 4xx from a presigned URL does not heal: no retry"
    assert requests[0].status == 403
    assert_wire(requests[0], run)
    errors = [r for r in run.logs if r.get("level") == "ERROR"]
    assert [r.get("message") for r in errors] == ["CloudFormation did not accept the response"]
    assert errors[0].get("status") == 403
    assert errors[0].get("attempts") == 1
    assert "ResponseFailed" in run.metrics
    assert_no_secrets(run)
    assert receiver.base_url.split("//", 1)[1] not in run.output  # not even host:port


# -- failures ----------------------------------------------------------------------------------


def test_missing_stream_fails_naming_stream_account_and_region(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any
) -> None:
    run = invoke(load_event("create-by-name"))  # no stream created
    body = single_response(receiver, run)
    assert body["Status"] == "FAILED"
    for part in ("orders", ACCOUNT, REGION):
        assert part in body["Reason"]
    assert body["PhysicalResourceId"].startswith("kinesis-stream-encryption-failed-create:")
    assert not body["PhysicalResourceId"].startswith("arn:")
    assert "Data" not in body
    assert "RequestFailed" in run.metrics
    assert_no_secrets(run)


BAD_EVENTS = {
    "bad-unknown-property": ["StreamArn", "did you mean StreamARN?"],
    "bad-encryption-type": ["EncryptionType", "'NONE'", "KMS"],
    "bad-stream-arn": ["StreamARN", "is not a Kinesis stream ARN"],
    "bad-missing-stream": ["one of StreamARN or StreamName is required"],
    "bad-arn-name-mismatch": ["StreamARN", "StreamName", "'orders-v2'"],
    "bad-request-type": ["RequestType", "'Modify'", "Create, Update, Delete"],
}


@dataclass(frozen=True)
class BadEventRuns:
    run: HandlerRun
    receiver: ResponseReceiver
    encryption_after: tuple[str, str | None]


@pytest.fixture(scope="module")
def bad_event_runs(moto_url: str) -> Iterator[BadEventRuns]:
    """All bad events, in order, through one warm handler process (as consecutive invocations of
    one Lambda execution environment would be), against a present, unencrypted stream."""
    reset_moto(moto_url)
    kinesis = emulator_client("kinesis", moto_url)
    create_stream(kinesis)
    events = [load_event(name) for name in sorted(BAD_EVENTS)]
    with ResponseReceiver() as receiver:
        run = run_handler_process(handler_environment(moto_url), receiver, events)
        yield BadEventRuns(run, receiver, stream_encryption(kinesis))


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_bad_event_fails_naming_the_problem(name: str, bad_event_runs: BadEventRuns) -> None:
    guard(bad_event_runs.run)  # the module-scoped run predates this test's leak-guard reset
    run = bad_event_runs.run.for_event(sorted(BAD_EVENTS).index(name))
    body = single_response(bad_event_runs.receiver, run)
    assert body["Status"] == "FAILED"
    for expected in BAD_EVENTS[name]:
        assert expected in body["Reason"], body["Reason"]
    assert body["PhysicalResourceId"].startswith("kinesis-stream-encryption-failed-create:")
    assert run.event["RequestId"] in body["PhysicalResourceId"]
    assert "Data" not in body
    assert bad_event_runs.encryption_after == ("NONE", None)  # no bad event touched the stream
    assert_no_secrets(run)
    assert_no_secrets(bad_event_runs.run)
