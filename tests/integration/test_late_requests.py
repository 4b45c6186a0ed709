"""SPEC "Waiting": CloudFormation's clock, read from the ResponseURL, bounds everything; a request
that arrives after CloudFormation stopped listening changes nothing. SPEC "Physical resource id":
a crash retry's failed Create answers the stream's ARN when the stream may show its own Start."""

import pytest

from devsupport.harness import ACCOUNT, REGION, make_event, presigned_url
from stream_encryption.cfn.physical_ids import FAILED_CREATE_PREFIX

ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"


@pytest.mark.parametrize("sigv2", [False, True], ids=["sigv4-x-amz-date", "sigv2-expires"])
def test_a_create_signed_two_hours_ago_makes_no_call_and_fails_saying_why(h, sigv2):
    h.kinesis.create_stream("orders")
    url = presigned_url(h.clock.wall() - 7200, sigv2=sigv2)
    body = h.run(make_event(StreamARN=ARN, ServiceTimeout="360", response_url=url))
    assert body["Status"] == "FAILED"
    assert "after CloudFormation stopped waiting" in body["Reason"]
    assert "ServiceTimeout 360 s" in body["Reason"]
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    assert h.kinesis.calls == []  # not even a read
    assert h.kinesis.stream("orders").encryption_type == "NONE"
    assert h.puts.requests[0]["url"] == url  # answered all the same, to exactly that URL


def test_a_late_delete_makes_no_call_and_fails(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    url = presigned_url(h.clock.wall() - 4000)
    body = h.run(make_event("Delete", physical_id=ARN, StreamARN=ARN, response_url=url))
    assert body["Status"] == "FAILED" and "after CloudFormation stopped waiting" in body["Reason"]
    assert body["PhysicalResourceId"] == ARN
    assert h.kinesis.calls == []
    assert h.kinesis.stream("orders").encryption_type == "KMS"


def test_the_wait_ends_by_cloudformations_clock_not_first_receipt(h):
    h.kinesis.create_stream("orders", update_seconds=10_000)
    url = presigned_url(h.clock.wall() - 200)  # queued 200 s before it reached the function
    body = h.run(make_event(StreamARN=ARN, ServiceTimeout="360", response_url=url), timeout=60)
    assert body["Status"] == "FAILED" and "still UPDATING" in body["Reason"]
    assert h.clock.now() < 360 - 200  # answered while CloudFormation still listens
    assert all(state["sentAt"] == pytest.approx(h.clock.wall(), abs=400) for state in h.handovers())


def test_a_handed_over_wait_keeps_cloudformations_clock(h):
    h.kinesis.create_stream("orders", update_seconds=100)
    sent = h.clock.wall() - 30
    event = make_event(StreamARN=ARN, ServiceTimeout="600", response_url=presigned_url(sent))
    body = h.run(event, timeout=60)
    assert body["Status"] == "SUCCESS"
    assert h.handovers() and all(state["sentAt"] == sent for state in h.handovers())


def test_a_handed_over_event_that_arrives_late_makes_no_call(h):
    h.kinesis.create_stream("orders", update_seconds=100)
    h.invoke(make_event(StreamARN=ARN, ServiceTimeout="120"), timeout=30)
    queued = h.invokes.payloads[0]
    h.clock.sleep(200)  # held in Lambda's queue past the ServiceTimeout
    calls = len(h.kinesis.calls)
    h.invoke(queued, timeout=30)
    assert len(h.kinesis.calls) == calls
    body = h.puts.bodies[-1]
    assert body["Status"] == "FAILED" and "after CloudFormation stopped waiting" in body["Reason"]
    assert body["PhysicalResourceId"] == ARN  # Start was accepted in the first hop


def test_a_url_dated_in_the_future_is_not_believed(h):
    h.kinesis.create_stream("orders")
    url = presigned_url(h.clock.wall() + 86_400)
    body = h.run(make_event(StreamARN=ARN, ServiceTimeout="360", response_url=url))
    assert body["Status"] == "SUCCESS"  # counted from first receipt instead


def test_a_duplicate_delivery_after_the_answer_changes_nothing(h):
    h.kinesis.create_stream("orders")
    event = make_event(
        StreamARN=ARN, ServiceTimeout="300", response_url=presigned_url(h.clock.wall())
    )
    assert h.run(event)["Status"] == "SUCCESS"
    within = h.run(event)  # a duplicate while CloudFormation listens: idempotent
    assert within["Status"] == "SUCCESS" and h.kinesis.count("StartStreamEncryption") == 1
    h.clock.sleep(400)
    calls = len(h.kinesis.calls)
    late = h.run(event)
    assert late["Status"] == "FAILED" and len(h.kinesis.calls) == calls


def test_a_crash_retry_that_times_out_on_its_own_start_answers_the_stream_arn(h):
    """The first attempt's Start was accepted, then the invocation crashed; Lambda's retry has a
    fresh Progress, sees UPDATING until CloudFormation's time runs out: rollback must undo it."""
    h.kinesis.create_stream("orders", update_seconds=10_000)
    h.client.start_stream_encryption(StreamARN=ARN, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    before = h.kinesis.count("StartStreamEncryption")
    body = h.run(make_event(StreamARN=ARN, ServiceTimeout="60"), timeout=30)
    assert body["Status"] == "FAILED" and "still UPDATING" in body["Reason"]
    assert body["PhysicalResourceId"] == ARN
    assert h.kinesis.count("StartStreamEncryption") == before  # never requested again


def test_a_failed_create_on_a_stream_still_being_created_answers_the_marker(h):
    h.kinesis.create_stream("orders", status="CREATING", active_after=10_000)
    body = h.run(make_event(StreamARN=ARN, ServiceTimeout="60"), timeout=30)
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
