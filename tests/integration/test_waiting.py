"""SPEC "Waiting": adaptive polling, the hand-over to a fresh invocation, and its fallback."""

import itertools
import statistics

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from devsupport.harness import ACCOUNT, REGION, make_event

ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"


def client_error(code, status):
    return ClientError(
        {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Invoke",
    )


def describe_times(h):
    return [c.time for c in h.kinesis.calls if c.operation == "DescribeStreamSummary"]


def test_polling_looks_within_a_second_then_about_every_second(h):
    h.kinesis.create_stream("orders", update_seconds=15)
    h.run(make_event(StreamName="orders"))
    start = next(c.time for c in h.kinesis.calls if c.operation == "StartStreamEncryption")
    polls = [t for t in describe_times(h) if t > start]
    assert polls[0] - start <= 1.0
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert max(gaps) <= 1.0  # young wait: about once a second, never slower
    assert 0.8 <= statistics.mean(gaps) <= 1.0
    assert polls[-1] - (start + 15) <= 1.0  # a short update is noticed within a poll


def test_polling_slows_down_as_the_wait_grows_but_never_beyond_five_seconds(h):
    h.kinesis.create_stream("orders", update_seconds=240)
    h.run(make_event(StreamName="orders"), timeout=900)
    start = next(c.time for c in h.kinesis.calls if c.operation == "StartStreamEncryption")
    polls = [t for t in describe_times(h) if t > start]
    for before, after in itertools.pairwise(polls):
        waited = before - start
        assert after - before <= min(5.0, max(1.0, 0.05 * waited)) + 0.01
    assert max(b - a for a, b in itertools.pairwise(polls)) > 4.0  # it did slow down
    assert polls[-1] - (start + 240) <= 0.05 * 240  # noticed within 5 % of the window
    assert len(polls) < 240 / 2  # far fewer reads than one a second


def test_throttled_describes_back_off_further(h):
    h.kinesis.create_stream("orders", update_seconds=30)
    h.kinesis.throttle_next("DescribeStreamSummary", 4)
    body = h.run(make_event(StreamName="orders"))
    times = describe_times(h)
    assert body["Status"] == "SUCCESS"
    # Five reads through four throttles: spread over seconds (jittered doubling), not a burst.
    assert times[4] - times[0] >= 3.0
    start = next(c.time for c in h.kinesis.calls if c.operation == "StartStreamEncryption")
    later = [t for t in times if t > start]
    assert len(later) <= 33  # back to about one read a second for the 30 s window


def test_long_update_is_handed_over_and_the_second_invocation_answers(h):
    h.kinesis.create_stream("orders", update_seconds=100)
    body = h.run(make_event(StreamName="orders", ServiceTimeout="600"), timeout=60)
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == ARN
    assert h.invocations >= 2
    assert len(h.puts.requests) == 1  # the first invocation did not answer
    states = h.handovers()
    assert states[0]["hop"] == 1 and states[0]["changeAccepted"] is True
    assert h.kinesis.count("StartStreamEncryption") == 1  # never re-called after the hand-over
    assert "HandedOver" in h.metrics.names() and "EncryptionStarted" in h.metrics.names()
    waited = [value for name, unit, value in h.metrics.recorded if name == "WaitTime"]
    assert waited == [pytest.approx(h.clock.now(), abs=2.0)]  # the whole wait, across hops


def test_each_invocation_hands_over_before_its_own_deadline(h):
    h.kinesis.create_stream("orders", update_seconds=100)
    h.run(make_event(StreamName="orders"), timeout=30)
    assert len(h.handovers()) >= 3
    starts = h.invocation_starts
    for t in describe_times(h):
        began = max(s for s in starts if s <= t)
        assert t <= began + 30 - 1.0  # leaves room to respond or hand over


def test_handover_that_fails_sends_failed_saying_still_updating(h):
    h.kinesis.create_stream("orders", update_seconds=100)
    h.invokes.fail_with = client_error("AccessDeniedException", 403)
    body = h.run(make_event(StreamName="orders", ServiceTimeout="600"), timeout=30)
    assert body["Status"] == "FAILED"
    assert "still UPDATING" in body["Reason"] and "Handing the wait over" in body["Reason"]
    assert body["PhysicalResourceId"] == ARN  # Start was accepted: rollback must undo it


def test_async_invoke_that_is_not_accepted_falls_back_to_failed(h):
    h.kinesis.create_stream("orders", update_seconds=100)
    h.invokes.status = 500
    body = h.run(make_event(StreamName="orders", ServiceTimeout="600"), timeout=30)
    assert body["Status"] == "FAILED" and "still UPDATING" in body["Reason"]


def test_service_timeout_bounds_the_whole_wait(h):
    h.kinesis.create_stream("orders", update_seconds=10_000)
    body = h.run(make_event(StreamName="orders", ServiceTimeout="200"), timeout=60)
    assert body["Status"] == "FAILED"
    assert "still UPDATING" in body["Reason"] and "ServiceTimeout 200 s" in body["Reason"]
    assert h.clock.now() < 200  # answered before CloudFormation gives up
    assert h.invocations >= 3


def test_handover_waiting_before_start_never_starts_twice(h):
    h.kinesis.create_stream("orders", status="UPDATING", active_after=70)
    body = h.run(make_event(StreamName="orders", ServiceTimeout="600"), timeout=30)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("StartStreamEncryption") == 1
    assert h.handovers()[0]["changeAccepted"] is False


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com"),
        ConnectionClosedError(endpoint_url="https://lambda.us-east-1.amazonaws.com"),
    ],
    ids=["read-timeout", "connection-closed"],
)
def test_handover_with_unknown_outcome_is_tried_once_and_sends_no_failed(h, error):
    h.kinesis.create_stream("orders", update_seconds=100)
    h.invokes.script = [error]
    h.invokes.queued_despite_error = True  # Lambda did queue it; only the reply was lost
    h.invoke(make_event(StreamName="orders", ServiceTimeout="600"), timeout=30)
    assert h.invokes.attempts == 1  # a second attempt could start a second chain
    assert h.puts.requests == []  # no FAILED while a chain may be alive
    assert "may or may not have been queued" in h.logs
    assert "HandOverUnknown" in h.metrics.names()
    body = h.run(h.invokes.payloads[0], timeout=30)  # the queued chain answers alone
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("StartStreamEncryption") == 1


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com"),
        client_error("TooManyRequestsException", 429),
        client_error("ServiceException", 500),
    ],
    ids=["connect-refused", "429", "500"],
)
def test_handover_retries_errors_that_prove_nothing_was_queued(h, error):
    h.kinesis.create_stream("orders", update_seconds=100)
    h.invokes.script = [error, error]
    body = h.run(make_event(StreamName="orders", ServiceTimeout="600"), timeout=30)
    assert body["Status"] == "SUCCESS"
    assert h.invokes.attempts >= 3 and len(h.puts.requests) == 1


def test_handover_refused_every_time_falls_back_to_failed(h):
    h.kinesis.create_stream("orders", update_seconds=100)
    h.invokes.fail_with = client_error("TooManyRequestsException", 429)
    body = h.run(make_event(StreamName="orders", ServiceTimeout="600"), timeout=30)
    assert body["Status"] == "FAILED" and "still UPDATING" in body["Reason"]
    assert h.invokes.attempts == 3


def test_a_handed_over_wait_keeps_its_polling_cadence(h):
    """The gap grows with the age of the wait, not of the invocation: the next hop does not
    start polling once a second again."""
    h.kinesis.create_stream("orders", update_seconds=200)
    body = h.run(make_event(StreamName="orders", ServiceTimeout="600"), timeout=60)
    assert body["Status"] == "SUCCESS"
    assert len(h.invocation_starts) >= 2
    second = h.invocation_starts[1]
    third = h.invocation_starts[2] if len(h.invocation_starts) > 2 else float("inf")
    polls = [t for t in describe_times(h) if second <= t < third]
    # The hop reads once at once (to decide), then polls at the grown gap of a ~50-s-old wait.
    gaps = [b - a for a, b in itertools.pairwise(polls[1:])]
    assert gaps and min(gaps) >= 0.8 * 0.05 * 45
    assert h.handovers()[0]["waitBeganAt"] is not None
