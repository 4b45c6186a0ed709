"""SPEC "Response to CloudFormation" and "Bad input", through the whole process() flow."""

import json
import urllib.error

import pytest

from devsupport.harness import RESPONSE_URL, SIGNATURE, make_event


def test_response_is_a_put_of_json_with_empty_content_type_to_the_exact_url(h):
    h.kinesis.create_stream("orders")
    h.run(make_event(StreamName="orders"))
    request = h.puts.requests[-1]
    assert request["method"] == "PUT" and request["url"] == RESPONSE_URL
    assert request["content_type"] == ""
    assert len(request["body"]) <= 4096
    json.loads(request["body"])


def test_5xx_and_resets_from_the_response_url_are_retried_until_accepted(h):
    h.kinesis.create_stream("orders")
    h.puts.script = [500, ConnectionResetError(), 503, 200]
    h.invoke(make_event(StreamName="orders"))
    assert len(h.puts.requests) == 4
    assert "ResponseFailed" not in h.metrics.names()


@pytest.mark.parametrize("status", [403, 404])
def test_a_4xx_from_the_response_url_is_a_failure_not_retried(h, status):
    h.kinesis.create_stream("orders")
    h.puts.script = [status]
    h.invoke(make_event(StreamName="orders"))
    assert len(h.puts.requests) == 1
    assert "ResponseFailed" in h.metrics.names()
    assert "did not accept the response" in h.logs


def test_a_response_url_that_never_answers_gives_up_before_the_deadline(h):
    h.kinesis.create_stream("orders")
    h.puts.script = [urllib.error.URLError("timed out")] * 50
    h.invoke(make_event(StreamName="orders"), timeout=20)
    assert 1 < len(h.puts.requests) <= 6
    assert h.clock.now() < 20


def test_no_response_url_means_no_response_and_no_crash(h):
    event = make_event(StreamName="orders")
    del event["ResponseURL"]
    h.invoke(event)
    assert h.puts.requests == []
    assert "no usable response URL" in h.logs


@pytest.mark.parametrize("request_type", ["Upsert", None])
def test_unknown_request_type_fails_naming_it(h, request_type):
    event = make_event(StreamName="orders")
    event["RequestType"] = request_type
    h.invoke(event)
    body = h.puts.bodies[-1]
    assert body["Status"] == "FAILED" and "RequestType" in body["Reason"]
    assert h.kinesis.count() == 0


def test_log_lines_carry_the_request_keys_and_never_the_event(h):
    h.kinesis.create_stream("orders")
    event = make_event(StreamName="orders")
    h.run(event)
    lines = [json.loads(line) for line in h.logs.splitlines()]
    assert lines
    for line in lines:
        assert line["RequestType"] == "Create"
        assert line["LogicalResourceId"] == "StreamEncryption"
        assert line["StackId"] == event["StackId"]
        assert SIGNATURE not in json.dumps(line)
        assert "ResponseURL" not in json.dumps(line)


def test_update_log_lines_carry_the_physical_id(h):
    h.kinesis.create_stream("orders")
    h.run(
        make_event(
            "Update",
            physical_id="arn:aws:kinesis:us-east-1:123456789012:stream/orders",
            StreamName="orders",
        )
    )
    first = json.loads(h.logs.splitlines()[0])
    assert first["PhysicalResourceId"] == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"


def test_an_internal_error_still_answers_failed(h, monkeypatch):
    import stream_encryption.handlers.invocation as invocation

    def broken(*args):
        raise RuntimeError(f"bug with {RESPONSE_URL}")

    monkeypatch.setattr(invocation, "apply_encryption", broken)
    h.invoke(make_event(StreamName="orders"))
    body = h.puts.bodies[-1]
    assert body["Status"] == "FAILED" and "RuntimeError" in body["Reason"]
    assert SIGNATURE not in body["Reason"]


def test_the_log_tells_what_was_seen_and_done(h):
    h.kinesis.create_stream("orders")
    h.run(make_event(StreamName="orders"))
    lines = [json.loads(line) for line in h.logs.splitlines()]
    seen = [(line["message"], line.get("StreamStatus")) for line in lines if "StreamStatus" in line]
    assert seen[0] == ("Stream is ACTIVE, encryption NONE: start", "ACTIVE")
    assert seen[-1] == ("Stream is ACTIVE, encryption KMS: done", "ACTIVE")
    accepted = [line for line in lines if line["message"] == "StartStreamEncryption accepted"]
    assert accepted and accepted[0]["KeyId"] == "alias/aws/kinesis"
