"""Fault matrix: every error Start/Stop/DescribeStreamSummary can return, one row each.

Each row asserts the exact response (status, physical id, Reason content) and what became of the
stream. Errors a person must fix fail at once with a Reason that says what to do; transient ones
(throttling, 5xx, resets) are retried and end in SUCCESS without a second key change.
"""

import http.client
import logging
from dataclasses import dataclass

import pytest

from devsupport.harness import ACCOUNT, REGION, RESPONSE_URL, Harness, make_event, presigned_url
from stream_encryption.cfn.physical_ids import FAILED_CREATE_PREFIX

UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID}"
ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
MARKER = "marker"  # stands for "a failed-Create marker, not a stream ARN"
RATE = "Rate exceeded for stream orders under account 123456789012."
QUOTA = "Exceeded the limit of 25 encryption changes per 24 hours for stream orders."


@dataclass(frozen=True)
class Row:
    code: str
    message: str = "injected"
    count: int = 1
    http_status: int = 400
    status: str = "FAILED"
    physical_id: str = MARKER
    reason: tuple[str, ...] = ()
    final_encryption: str = "NONE"
    calls: int | None = None  # how many times the faulty operation was called


START_ROWS = {
    "InvalidArgument": Row("InvalidArgumentException", reason=("Check KeyId", KEY_ARN), calls=1),
    "LimitExceeded-throttle": Row(
        "LimitExceededException",
        RATE,
        count=3,
        status="SUCCESS",
        physical_id=ARN,
        final_encryption="KMS",
        calls=4,
    ),
    "LimitExceeded-quota": Row(
        "LimitExceededException", QUOTA, count=99, reason=("25 key changes", "24 hours"), calls=3
    ),
    "ResourceInUse": Row(
        "ResourceInUseException",
        count=2,
        status="SUCCESS",
        physical_id=ARN,
        final_encryption="KMS",
        calls=3,
    ),
    "ResourceNotFound": Row(
        "ResourceNotFoundException", reason=("orders", ACCOUNT, REGION), calls=1
    ),
    "AccessDenied": Row(
        "AccessDeniedException", count=999, reason=("kinesis:StartStreamEncryption", ARN)
    ),
    "AccessDenied-iam-propagation": Row(
        "AccessDeniedException",
        count=2,
        status="SUCCESS",
        physical_id=ARN,
        final_encryption="KMS",
        calls=3,
    ),
    "KMSDisabled": Row("KMSDisabledException", reason=(KEY_ARN, "disabled", "EnableKey"), calls=1),
    "KMSInvalidState": Row(
        "KMSInvalidStateException", reason=(KEY_ARN, "pending deletion"), calls=1
    ),
    "KMSAccessDenied": Row("KMSAccessDeniedException", count=999, reason=(KEY_ARN, "key policy")),
    # A key grant added in the same deploy as the resource: IAM's propagation time, as AccessDenied.
    "KMSAccessDenied-iam-propagation": Row(
        "KMSAccessDeniedException",
        count=2,
        status="SUCCESS",
        physical_id=ARN,
        final_encryption="KMS",
        calls=3,
    ),
    "KMSNotFound": Row("KMSNotFoundException", reason=(KEY_ARN, "not found", REGION), calls=1),
    "KMSOptInRequired": Row("KMSOptInRequired", reason=(ACCOUNT, "not subscribed"), calls=1),
    "KMSThrottling": Row(
        "KMSThrottlingException",
        count=2,
        status="SUCCESS",
        physical_id=ARN,
        final_encryption="KMS",
        calls=3,
    ),
    "InternalFailure-500": Row(
        "InternalFailure",
        count=2,
        http_status=500,
        status="SUCCESS",
        physical_id=ARN,
        final_encryption="KMS",
        calls=3,
    ),
    "ServiceUnavailable-503": Row(
        "ServiceUnavailable",
        http_status=503,
        status="SUCCESS",
        physical_id=ARN,
        final_encryption="KMS",
        calls=2,
    ),
    "UnknownError": Row("SomethingNewException", "brand new", reason=("SomethingNewException",)),
}


def check(h, body, row, *, operation):
    assert body["Status"] == row.status
    if row.physical_id == MARKER:
        assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    else:
        assert body["PhysicalResourceId"] == row.physical_id
    for words in row.reason:
        assert words in body["Reason"]
    if row.status == "FAILED":
        assert row.code in body["Reason"]
        assert "CloudWatch Logs group" in body["Reason"]
    assert h.kinesis.stream("orders").encryption_type == row.final_encryption
    if row.calls is not None:
        assert h.kinesis.count(operation) == row.calls


@pytest.mark.parametrize("row", START_ROWS.values(), ids=START_ROWS.keys())
def test_start_stream_encryption_fault(h, row):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next(
        "StartStreamEncryption", row.code, row.message, count=row.count, http_status=row.http_status
    )
    body = h.run(make_event(StreamARN=ARN, KeyId=KEY_ARN))
    check(h, body, row, operation="StartStreamEncryption")
    assert h.kinesis.count("StartStreamEncryption", outcome="OK") <= 1


STOP_ROWS = {
    "InvalidArgument": Row("InvalidArgumentException", final_encryption="KMS", calls=1),
    "LimitExceeded-throttle": Row(
        "LimitExceededException", RATE, count=2, status="SUCCESS", calls=3
    ),
    "LimitExceeded-quota": Row(
        "LimitExceededException",
        QUOTA,
        count=99,
        reason=("25 encryption disables",),
        final_encryption="KMS",
        calls=3,
    ),
    "ResourceInUse": Row("ResourceInUseException", status="SUCCESS", calls=2),
    "AccessDenied": Row(
        "AccessDeniedException",
        count=999,
        reason=("kinesis:StopStreamEncryption",),
        final_encryption="KMS",
    ),
    "AccessDenied-iam-propagation": Row(
        "AccessDeniedException", count=2, status="SUCCESS", calls=3
    ),
    "InternalFailure-500": Row("InternalFailure", http_status=500, status="SUCCESS", calls=2),
}


@pytest.mark.parametrize("row", STOP_ROWS.values(), ids=STOP_ROWS.keys())
def test_stop_stream_encryption_fault(h, row):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders", encryption="KMS", key_id=KEY_ARN)
    h.kinesis.fail_next(
        "StopStreamEncryption", row.code, row.message, count=row.count, http_status=row.http_status
    )
    body = h.run(make_event("Delete", physical_id=ARN, StreamARN=ARN, KeyId=KEY_ARN))
    check(h, body, Row(**{**row.__dict__, "physical_id": ARN}), operation="StopStreamEncryption")


def test_stop_on_a_stream_deleted_since_the_read_succeeds(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    h.kinesis.fail_next("StopStreamEncryption", "ResourceNotFoundException", "gone")
    body = h.run(make_event("Delete", physical_id=ARN, StreamARN=ARN))
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == ARN


DESCRIBE_ROWS = {
    "LimitExceeded-throttle": ("LimitExceededException", 5, 400),
    "ThrottlingException": ("ThrottlingException", 3, 400),
    "InternalFailure-500": ("InternalFailure", 3, 500),
}


@pytest.mark.parametrize(
    ("code", "count", "http"), DESCRIBE_ROWS.values(), ids=DESCRIBE_ROWS.keys()
)
def test_transient_describe_faults_are_retried(h, code, count, http):
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next("DescribeStreamSummary", code, RATE, count=count, http_status=http)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == ARN
    assert h.kinesis.stream("orders").encryption_type == "KMS"
    assert h.kinesis.count("StartStreamEncryption") == 1


def test_access_denied_just_after_the_policy_was_created_is_waited_out(h):
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next("DescribeStreamSummary", "AccessDeniedException", "not yet", count=3)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == "SUCCESS"


def test_kms_access_denied_is_retried_for_iam_propagation_time_then_reported(h):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next("StartStreamEncryption", "KMSAccessDeniedException", "no grant", count=999)
    body = h.run(make_event(StreamARN=ARN, KeyId=KEY_ARN))
    assert body["Status"] == "FAILED" and "key policy" in body["Reason"]
    assert 15 <= h.clock.now() < 40  # the grace counts from first receipt, no longer
    assert h.kinesis.count("StartStreamEncryption") >= 3
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)  # every Start was refused


def test_describe_access_denied_fails_naming_the_permission(h):
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next("DescribeStreamSummary", "AccessDeniedException", "no", count=999)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == "FAILED" and "kinesis:DescribeStreamSummary" in body["Reason"]
    assert 15 <= h.clock.now() < 40  # a new policy gets IAM's propagation time, no more
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    assert h.kinesis.count("StartStreamEncryption") == 0


@pytest.mark.parametrize("kind", ["reset", "timeout", "connect", "connect-timeout"])
@pytest.mark.parametrize("operation", ["DescribeStreamSummary", "StartStreamEncryption"])
def test_connection_errors_are_retried(h, kind, operation):
    h.kinesis.create_stream("orders")
    h.kinesis.connection_error_next(operation, count=2, kind=kind)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.stream("orders").encryption_type == "KMS"
    assert h.kinesis.count("StartStreamEncryption", outcome="OK") == 1


@pytest.mark.parametrize("kind", ["reset", "timeout"])
def test_a_start_that_landed_but_whose_answer_was_lost_is_not_repeated(h, kind):
    h.kinesis.create_stream("orders")
    h.kinesis.connection_error_next("StartStreamEncryption", kind=kind, applied=True)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("StartStreamEncryption") == 1


def test_persistent_throttling_ends_in_a_timely_failure_not_a_hang(h):
    h.kinesis.create_stream("orders")
    h.kinesis.throttle_next("DescribeStreamSummary", 10_000)
    body = h.run(make_event(StreamARN=ARN, ServiceTimeout="120"), timeout=60)
    assert body["Status"] == "FAILED" and "Timed out" in body["Reason"]
    assert h.clock.now() < 120


RESPONSE_URL_ROWS = {
    "5xx-then-ok": ([500, 200], True, 2),
    "502-503-504-then-ok": ([502, 503, 504, 200], True, 4),
    "read-timeout-then-ok": ([TimeoutError("timed out"), 200], True, 2),
    "refused-then-ok": ([ConnectionRefusedError(), ConnectionRefusedError(), 200], True, 3),
    "reset-then-ok": ([ConnectionResetError(), 200], True, 2),
    "400": ([400], False, 1),
    "403-expired-url": ([403], False, 1),
    "404": ([404], False, 1),
    "persistent-503": ([503] * 20, False, 6),
    "persistent-refused": ([ConnectionRefusedError()] * 20, False, 6),
    # http.client's own exceptions are no OSError (RemoteDisconnected is both): a garbled or
    # cut-short reply is retried, a URL http.client cannot send is final; none escapes.
    "bad-status-line-then-ok": ([http.client.BadStatusLine("HTTP/9"), 200], True, 2),
    "incomplete-read-then-ok": ([http.client.IncompleteRead(b"<Err"), 200], True, 2),
    "remote-disconnected-then-ok": ([http.client.RemoteDisconnected("closed"), 200], True, 2),
    "line-too-long-then-ok": ([http.client.LineTooLong("header line"), 200], True, 2),
    "not-ready-then-ok": ([http.client.ResponseNotReady("Idle"), 200], True, 2),
    "invalid-url-quoting-the-url": (
        [http.client.InvalidURL(f"bad port in {RESPONSE_URL}")],
        False,
        1,
    ),
    "unexpected-exception-quoting-the-url": ([RuntimeError(f"boom {RESPONSE_URL}")], False, 1),
}


@pytest.mark.parametrize(
    ("script", "accepted", "attempts"), RESPONSE_URL_ROWS.values(), ids=RESPONSE_URL_ROWS.keys()
)
def test_response_url_fault(h, script, accepted, attempts):
    h.kinesis.create_stream("orders")
    h.puts.script = list(script)
    h.invoke(make_event(StreamARN=ARN))
    assert len(h.puts.requests) == attempts
    assert len({r["body"] for r in h.puts.requests}) == 1  # the same response each attempt
    assert ("ResponseFailed" in h.metrics.names()) is not accepted
    assert h.kinesis.stream("orders").encryption_type == "KMS"
    if not accepted:
        assert "did not accept the response" in h.logs
        assert type(script[-1]).__name__ in h.logs or "HTTP" in h.logs  # by type, never message


PARTITION_ROWS = {
    "aws-eusc": ("aws-eusc", "eusc-de-east-1"),
    "aws-cn": ("aws-cn", "cn-northwest-1"),
    "aws-us-gov": ("aws-us-gov", "us-gov-east-1"),
    "aws-iso-b": ("aws-iso-b", "us-isob-east-1"),
    "aws-iso-f": ("aws-iso-f", "us-isof-south-1"),
}


@pytest.mark.parametrize(
    ("partition", "region"), PARTITION_ROWS.values(), ids=PARTITION_ROWS.keys()
)
def test_streams_in_every_partition_are_encrypted_and_undone(partition, region):
    """A region the old pattern rejected (eusc-de-east-1) made every ARN "not a stream ARN"."""
    h = Harness(region=region, partition=partition)
    arn = f"arn:{partition}:kinesis:{region}:{ACCOUNT}:stream/orders"
    h.kinesis.create_stream("orders")
    body = h.run(make_event(StreamARN=arn))
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == arn
    assert h.kinesis.stream("orders").encryption_type == "KMS"
    deleted = h.run(make_event("Delete", physical_id=arn, StreamARN=arn))
    assert deleted["Status"] == "SUCCESS"
    assert h.kinesis.stream("orders").encryption_type == "NONE"


@dataclass(frozen=True)
class Delivery:
    """When a Create reaches the function, relative to when CloudFormation sent it."""

    sent_seconds_ago: float
    sigv2: bool = False
    status: str = "SUCCESS"
    starts: int = 1  # StartStreamEncryption calls made


DELIVERY_ROWS = {
    "fresh": Delivery(2),
    "queued-but-in-time": Delivery(120),
    "stale-url-sigv4": Delivery(7200, status="FAILED", starts=0),
    "stale-url-sigv2": Delivery(7200, sigv2=True, status="FAILED", starts=0),
    "late-lambda-retry": Delivery(301, status="FAILED", starts=0),  # ServiceTimeout 300
    "within-the-margin": Delivery(290, status="FAILED", starts=0),  # 10 s is too late to act
}


@pytest.mark.parametrize("row", DELIVERY_ROWS.values(), ids=DELIVERY_ROWS.keys())
def test_delivery_time(h, row):
    h.kinesis.create_stream("orders")
    url = presigned_url(h.clock.wall() - row.sent_seconds_ago, sigv2=row.sigv2)
    body = h.run(make_event(StreamARN=ARN, ServiceTimeout="300", response_url=url))
    assert body["Status"] == row.status
    assert h.kinesis.count("StartStreamEncryption") == row.starts
    if row.status == "FAILED":
        late = row.sent_seconds_ago >= 300
        assert ("after CloudFormation stopped waiting" in body["Reason"]) is late
        assert "Nothing was changed" in body["Reason"]
        assert h.kinesis.calls == []
        assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)


def test_duplicate_delivery_after_the_answer(h):
    h.kinesis.create_stream("orders")
    event = make_event(
        StreamARN=ARN, ServiceTimeout="300", response_url=presigned_url(h.clock.wall())
    )
    assert h.run(event)["Status"] == "SUCCESS"
    assert h.run(event)["Status"] == "SUCCESS"  # in time: idempotent, no second Start
    h.clock.sleep(300)
    assert h.run(event)["Status"] == "FAILED"  # late: no call at all
    assert h.kinesis.count("StartStreamEncryption") == 1


def test_debug_logging_and_an_aws_error_message_quoting_the_url_leak_nothing(h, caplog):
    """Root and botocore at DEBUG (the suite's leak guard scans caplog and the handler's log)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="botocore")
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next("DescribeStreamSummary", "AccessDeniedException", RESPONSE_URL, count=999)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == "FAILED"
    assert "botocore" in caplog.text  # botocore really logged at DEBUG


# -- ownership: the tag calls and CloudFormation ---------------------------------------------

NOT_RECORDED = "could not be recorded"


@dataclass(frozen=True)
class TagRow:
    operation: str
    code: str
    count: int = 1
    http_status: int = 400
    recorded: bool = True  # the ownership tags end up on the stream
    calls: int | None = None


TAG_ROWS = {
    "List-throttled": TagRow("ListTagsForStream", "LimitExceededException", count=3, calls=4),
    "Add-throttled": TagRow("AddTagsToStream", "LimitExceededException", count=3, calls=4),
    "List-500": TagRow("ListTagsForStream", "InternalFailure", http_status=500, calls=2),
    "Add-500": TagRow("AddTagsToStream", "InternalFailure", http_status=500, calls=2),
    "Add-in-use": TagRow("AddTagsToStream", "ResourceInUseException", count=2, calls=3),
    "List-denied": TagRow("ListTagsForStream", "AccessDeniedException", count=999, recorded=False),
    "Add-denied": TagRow("AddTagsToStream", "AccessDeniedException", count=999, recorded=False),
    "Add-invalid": TagRow("AddTagsToStream", "InvalidArgumentException", recorded=False, calls=1),
    "List-denied-iam-propagation": TagRow(
        "ListTagsForStream", "AccessDeniedException", count=2, calls=3
    ),
}


@pytest.mark.parametrize("row", TAG_ROWS.values(), ids=TAG_ROWS.keys())
def test_tag_call_fault_never_blocks_encryption(h, row):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next(row.operation, row.code, count=row.count, http_status=row.http_status)
    body = h.run(make_event(StreamARN=ARN, KeyId=KEY_ARN))
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == ARN
    assert h.kinesis.stream("orders").key_id == KEY_ARN
    assert h.kinesis.count("StartStreamEncryption") == 1
    tags = h.kinesis.tags("orders")
    if row.recorded:
        assert tags["kinesis-stream-encryption:prior-key"] == "NONE"
        assert NOT_RECORDED not in body["Reason"]
    else:
        assert tags == {} and NOT_RECORDED in body["Reason"] and row.code in body["Reason"]
    if row.calls is not None:
        assert h.kinesis.count(row.operation) == row.calls


@pytest.mark.parametrize("kind", ["reset", "timeout"])
@pytest.mark.parametrize("operation", ["ListTagsForStream", "AddTagsToStream"])
def test_tag_call_connection_errors_are_retried(h, kind, operation):
    h.kinesis.create_stream("orders")
    h.kinesis.connection_error_next(operation, 2, kind=kind)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == "SUCCESS" and NOT_RECORDED not in body["Reason"]
    assert h.kinesis.tags("orders")["kinesis-stream-encryption:prior-key"] == "NONE"


def test_a_remove_tags_fault_on_delete_still_succeeds_and_says_so(h):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders")
    h.run(make_event(StreamARN=ARN, KeyId=KEY_ARN))
    h.kinesis.fail_next("RemoveTagsFromStream", "AccessDeniedException", count=999)
    body = h.run(make_event("Delete", physical_id=ARN, StreamARN=ARN, KeyId=KEY_ARN))
    assert body["Status"] == "SUCCESS" and "could not be removed" in body["Reason"]
    assert h.kinesis.stream("orders").encryption_type == "NONE"


@pytest.mark.parametrize(("fault", "status"), [("denied", "FAILED"), ("throttled", "SUCCESS")])
def test_describe_stack_resources_fault(h, fault, status):
    h.kinesis.create_stream("orders")
    other = h.cloudformation.add_stack("billing", ("Billing",))
    h.cloudformation.delete_stack(other)
    h.kinesis.set_tags(
        "orders",
        {
            "kinesis-stream-encryption:owner-stack": other,
            "kinesis-stream-encryption:owner-resource": "Billing",
            "kinesis-stream-encryption:prior-key": "NONE",
        },
    )
    if fault == "denied":
        h.cloudformation.denied = True
    else:
        h.cloudformation.throttle_next(3)
    body = h.run(make_event(StreamARN=ARN))
    assert body["Status"] == status
    if status == "FAILED":
        assert "AccessDenied" in body["Reason"] and "DescribeStackResources" in body["Reason"]
        assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
        assert h.kinesis.count("StartStreamEncryption") == 0
    else:
        assert h.kinesis.tags("orders")["kinesis-stream-encryption:owner-resource"] == (
            "StreamEncryption"
        )
