"""The CloudFormation protocol: event parsing, the response body, and delivering it."""

import io
import json
import urllib.error

import pytest

from stream_encryption.cfn.events import (
    HANDOVER_KEY,
    BadEvent,
    CfnRequest,
    ResponseTarget,
    parse_event,
)
from stream_encryption.cfn.physical_ids import FAILED_CREATE_PREFIX, failed_create_marker
from stream_encryption.cfn.response import compose_response, send_response
from stream_encryption.cfn.text import clean_text
from stream_encryption.identifiers import parse_stream_arn
from stream_encryption.models.progress import Progress

URL = "https://bucket.s3.amazonaws.com/arn%3Aaws%3Acloudformation%7CRes%7Cid?X-Amz-Signature=abc123secret"
TARGET = ResponseTarget(
    URL, "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "req-1", "Enc"
)


def event(**overrides):
    base = {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResponseURL": URL,
        "StackId": TARGET.stack_id,
        "RequestId": "req-1",
        "LogicalResourceId": "Enc",
        "ResourceType": "Custom::KinesisStreamEncryption",
        "ResourceProperties": {"ServiceToken": "t", "StreamName": "orders"},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


class TestParseEvent:
    def test_a_create_becomes_a_typed_request_and_keeps_the_url_verbatim(self):
        parsed = parse_event(event())
        assert isinstance(parsed.request, CfnRequest)
        assert parsed.request.request_type == "Create"
        assert parsed.request.properties == {"ServiceToken": "t", "StreamName": "orders"}
        assert parsed.target is not None and parsed.target.url == URL

    def test_the_url_never_shows_in_a_repr(self):
        parsed = parse_event(event())
        assert "abc123secret" not in repr(parsed)

    def test_update_and_delete_need_a_physical_id(self):
        parsed = parse_event(event(RequestType="Update"))
        assert isinstance(parsed.request, BadEvent)
        assert "PhysicalResourceId" in parsed.request.reason
        ok = parse_event(event(RequestType="Delete", PhysicalResourceId="x"))
        assert isinstance(ok.request, CfnRequest) and ok.request.physical_resource_id == "x"

    @pytest.mark.parametrize("request_type", ["Upsert", None, 3])
    def test_unknown_request_types_are_bad_events_with_a_reason(self, request_type):
        parsed = parse_event(event(RequestType=request_type))
        assert isinstance(parsed.request, BadEvent)
        assert "RequestType" in parsed.request.reason
        assert parsed.target is not None  # we can still answer

    def test_missing_fields_are_named_without_echoing_values(self):
        parsed = parse_event(event(StackId=None, LogicalResourceId=12))
        assert isinstance(parsed.request, BadEvent)
        assert "StackId" in parsed.request.reason and "LogicalResourceId" in parsed.request.reason
        assert "abc123secret" not in parsed.request.reason

    @pytest.mark.parametrize("url", [None, 42, "ftp://host/x", "not a url"])
    def test_without_a_usable_url_there_is_no_target(self, url):
        assert parse_event(event(ResponseURL=url)).target is None

    def test_non_object_events_are_bad(self):
        parsed = parse_event(["Create"])
        assert parsed.target is None and isinstance(parsed.request, BadEvent)

    def test_handover_state_round_trips_and_bad_state_is_ignored(self):
        state = Progress(1_800_000_000.5, 2, True, True)
        parsed = parse_event(event(**{HANDOVER_KEY: state.to_json()}))
        assert isinstance(parsed.request, CfnRequest) and parsed.request.carried_progress == state
        for bad in ({"version": 2}, {"version": 1, "hop": "1"}, "x", {"version": 1, "hop": True}):
            again = parse_event(event(**{HANDOVER_KEY: bad}))
            assert isinstance(again.request, CfnRequest) and again.request.carried_progress is None


class TestBody:
    def body(self, **kwargs):
        args = {"status": "SUCCESS", "reason": "ok", "physical_resource_id": "pid"} | kwargs
        return json.loads(compose_response(TARGET, **args).encoded)

    def test_fields_cloudformation_needs(self):
        body = self.body(data={"StreamARN": "a"}, log_hint="Details: group g, stream s.")
        assert body == {
            "Status": "SUCCESS",
            "Reason": "ok Details: group g, stream s.",
            "PhysicalResourceId": "pid",
            "StackId": TARGET.stack_id,
            "RequestId": "req-1",
            "LogicalResourceId": "Enc",
            "NoEcho": False,
            "Data": {"StreamARN": "a"},
        }

    def test_huge_reasons_are_truncated_to_4096_bytes_keeping_the_log_pointer(self):
        raw = compose_response(
            TARGET,
            status="FAILED",
            reason='é"\\' * 5000,
            physical_resource_id="p",
            log_hint="Details: group g, stream s.",
        ).encoded
        assert len(raw) <= 4096
        reason = json.loads(raw)["Reason"]
        assert reason.endswith("... Details: group g, stream s.")
        assert len(reason) > 500

    def test_control_characters_never_reach_the_reason(self):
        reason = self.body(reason="a\nb\x00c\x1b[31md\x85e\tf")["Reason"]
        assert all(ord(ch) >= 32 and not 0x7F <= ord(ch) <= 0x9F for ch in reason)
        assert clean_text("a\r\nb") == "a b"

    def test_the_url_is_redacted_from_reasons(self):
        reason = self.body(reason=f"oops {URL} and X-Amz-Signature=abc123secret")["Reason"]
        assert "abc123secret" not in reason

    def test_the_bare_signature_is_redacted_wherever_it_turns_up(self):
        reason = self.body(reason="ServiceTimeout 'abc123secret' must be a whole number")["Reason"]
        assert "abc123secret" not in reason and "<redacted>" in reason

    def test_oversized_data_is_dropped_and_the_response_fails(self):
        body = self.body(data={"KeyId": "k" * 5000})
        assert body["Status"] == "FAILED" and "Data" not in body
        assert "4096" in body["Reason"]

    @pytest.mark.parametrize("status", ["SUCCESS", "FAILED"])
    def test_oversized_echoed_ids_still_fit_and_keep_the_status(self, status):
        # CloudFormation never sends such ids; the body still fits and is valid JSON, and the
        # status is the outcome's (a Delete is never answered FAILED).
        target = ResponseTarget(URL, "s" * 5000, "r" * 5000, "l" * 5000)
        raw = compose_response(
            target, status=status, reason="x", physical_resource_id="p" * 900
        ).encoded
        assert len(raw) <= 4096
        assert json.loads(raw)["Status"] == status

    def test_oversized_echoed_ids_still_leave_the_log_stream_in_the_reason(self):
        # SPEC: the Reason always names the CloudWatch log stream, whatever else is cut.
        target = ResponseTarget(URL, "s" * 5000, "r" * 5000, "l" * 5000)
        hint = "Details: CloudWatch Logs group /aws/lambda/f, stream 2026/11/30/[$LATEST]abc."
        response = compose_response(
            target, status="FAILED", reason="x", physical_resource_id="p", log_hint=hint
        )
        assert len(response.encoded) <= 4096
        assert json.loads(response.encoded)["Reason"].endswith(hint)
        assert response.reason.endswith(hint)

    def test_an_absurdly_long_log_hint_is_cut_so_the_body_still_fits(self):
        target = ResponseTarget(URL, "s" * 5000, "r" * 5000, "l" * 5000)
        response = compose_response(
            target, status="FAILED", reason="x", physical_resource_id="p", log_hint="é" * 9000
        )
        assert len(response.encoded) <= 4096
        assert json.loads(response.encoded)["Reason"].startswith("... é")

    def test_physical_ids_are_capped_at_1kb(self):
        assert len(self.body(physical_resource_id="p" * 3000)["PhysicalResourceId"]) == 1024


def test_failed_create_marker_is_not_a_stream_arn():
    marker = failed_create_marker("5d2f-uuid")
    assert marker.startswith(FAILED_CREATE_PREFIX)
    assert parse_stream_arn(marker) is None
    assert len(failed_create_marker("x" * 5000)) < 200


class FakeClock:
    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def now(self):
        return self.t

    def wall(self):
        return 1_800_000_000 + self.t

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


class FakeResponse:
    def __init__(self, status):
        self.status = status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class ScriptedOpener:
    """Answers each PUT from a script: an int status, or an exception to raise."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests = []

    def __call__(self, request, timeout):
        self.requests.append((request, timeout))
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        if step >= 400:
            raise urllib.error.HTTPError(request.full_url, step, "x", {}, io.BytesIO())
        return FakeResponse(step)


def send(opener, clock=None, time_left=lambda: 100.0):
    return send_response(
        TARGET, b'{"x":1}', clock=clock or FakeClock(), time_left=time_left, opener=opener
    )


class TestSend:
    def test_put_to_exactly_the_given_url_with_empty_content_type(self):
        opener = ScriptedOpener(200)
        result = send(opener)
        assert result.accepted and result.attempts == 1
        request = opener.requests[0][0]
        assert request.get_method() == "PUT"
        assert request.full_url == URL
        assert request.selector == URL.split(".com", 1)[1]
        assert request.get_header("Content-type") == ""
        assert request.data == b'{"x":1}'

    def test_5xx_and_connection_errors_are_retried_with_backoff(self):
        clock = FakeClock()
        opener = ScriptedOpener(503, ConnectionResetError(), urllib.error.URLError("refused"), 200)
        result = send(opener, clock)
        assert result.accepted and result.attempts == 4
        assert len(clock.sleeps) == 3 and clock.sleeps[0] < clock.sleeps[2]

    @pytest.mark.parametrize("status", [400, 403, 404, 301])
    def test_4xx_and_3xx_are_final_failures_never_success(self, status):
        opener = ScriptedOpener(status, 200)
        result = send(opener)
        assert not result.accepted and result.attempts == 1 and result.status_code == status

    def test_persistent_5xx_gives_up_after_bounded_attempts(self):
        opener = ScriptedOpener(*([500] * 10))
        result = send(opener)
        assert not result.accepted and result.attempts == 6

    def test_no_time_left_means_no_endless_retry(self):
        clock = FakeClock()
        opener = ScriptedOpener(*([500] * 10))
        result = send(opener, clock, time_left=lambda: 3.0 - clock.t)
        assert not result.accepted and result.attempts < 6

    def test_even_with_no_time_left_one_attempt_is_made(self):
        opener = ScriptedOpener(500, 200)
        result = send(opener, time_left=lambda: -1.0)
        assert not result.accepted and result.attempts == 1
        assert opener.requests[0][1] >= 1.0  # a usable timeout, not zero

    def test_errors_are_reported_by_type_never_by_message(self):
        opener = ScriptedOpener(ValueError(f"unknown url type: {URL}"))
        result = send(opener)
        assert not result.accepted and result.error == "ValueError"
        assert "abc123secret" not in repr(result)
