"""Property-based fuzzing of whole events and properties (hypothesis).

Invariants, whatever arrives: exactly one response when a usable ResponseURL exists (none
otherwise), a body within 4096 bytes with a valid status, no unhandled exception, a Delete that
never fails, and the ResponseURL's signature in no log line and no Reason.
"""

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devsupport import leak_guard
from devsupport.harness import FUNCTION_ARN, RESPONSE_URL, SIGNATURE, STACK_ID, Harness

KNOWN = ["ServiceToken", "ServiceTimeout", "StreamARN", "StreamName", "KeyId", "EncryptionType"]
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"

nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda t: t * 500),
    st.sampled_from(
        ["", " ", "\x00", "\n\r\t", "\x1b[31m", "orders", ARN, "alias/aws/kinesis", "KMS"]
    ),
    st.just(RESPONSE_URL),
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
property_values = st.one_of(
    nasty_text,
    st.sampled_from(["orders", ARN, "300", "0", "3601", "KMS", "NONE", "alias/aws/kinesis"]),
    json_value,
)
properties = st.one_of(
    st.dictionaries(st.sampled_from(KNOWN) | st.text(max_size=12), property_values, max_size=6),
    json_value,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "RequestType": st.sampled_from(["Create", "Update", "Delete"]) | json_value,
        "ResponseURL": st.just(RESPONSE_URL) | json_value,
        "ServiceToken": st.just(FUNCTION_ARN) | json_value,
        "StackId": st.just(STACK_ID) | json_value,
        "RequestId": st.uuids().map(str) | json_value,
        "LogicalResourceId": st.just("Enc") | json_value,
        "ResourceType": st.just("Custom::KinesisStreamEncryption") | json_value,
        "PhysicalResourceId": st.sampled_from([ARN, "x"]) | json_value,
        "ResourceProperties": properties,
        "OldResourceProperties": properties,
        "KinesisStreamEncryptionHandover": json_value,
    },
)

# One harness for all examples (hypothesis runs many per test). It is not registered with the
# leak guard as a whole: only an event's own ResponseURL is a secret, the same text elsewhere in
# an event is just data and may be logged. What invocations with the secret URL produced is
# collected below and handed to the guard for every test.
HARNESS = Harness(guard_leaks=False)
HARNESS.kinesis.create_stream("orders")
SECRET_URL_OUTPUT: list[str] = []


@pytest.fixture(autouse=True)
def guard_fuzzed_output(no_response_url_leaks):
    """Runs after the suite-wide guard reset: registers this module's output for the check."""
    SECRET_URL_OUTPUT.clear()
    leak_guard.watch_secret(RESPONSE_URL)
    leak_guard.watch_output("fuzzed invocations", lambda: SECRET_URL_OUTPUT)


def invoke_once(event):
    h = HARNESS
    before_puts, before_logs = len(h.puts.requests), len(h.logs)
    h.invoke(event, timeout=120)  # must not raise
    sent = h.puts.requests[before_puts:]
    if isinstance(event, dict) and event.get("ResponseURL") == RESPONSE_URL:
        logs = h.logs[before_logs:]
        SECRET_URL_OUTPUT.append(logs)
        SECRET_URL_OUTPUT.extend(json.loads(request["body"])["Reason"] for request in sent)
        assert SIGNATURE not in logs  # fails the very example, so hypothesis can shrink it
    return sent


def test_the_leak_guard_scans_what_fuzzed_invocations_logged():
    # Without the fixture above, the guard's reset before each test would leave nothing watched.
    SECRET_URL_OUTPUT.append(f"a leaked {RESPONSE_URL}")
    assert leak_guard.leaks()
    SECRET_URL_OUTPUT.clear()
    assert leak_guard.leaks() == []


def usable_url(event):
    url = event.get("ResponseURL") if isinstance(event, dict) else None
    return isinstance(url, str) and url.startswith(("https://", "http://"))


def check_responses(event, sent):
    assert len(sent) == (1 if usable_url(event) else 0)
    for request in sent:
        assert len(request["body"]) <= 4096
        body = json.loads(request["body"])
        assert body["Status"] in {"SUCCESS", "FAILED"}
        assert SIGNATURE not in body["Reason"]
        assert all(ord(ch) >= 32 for ch in body["Reason"])
        assert len(body["PhysicalResourceId"]) <= 1024
        if event.get("RequestType") == "Delete":
            assert body["Status"] == "SUCCESS", body["Reason"]


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


REGRESSIONS = [
    # Echoed ids too large to fit even escaped-and-capped: a Delete is still answered SUCCESS.
    {
        "RequestType": "Delete",
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "RequestId": "5e1f8e0c-0000-4000-8000-000000000000",
        "ResourceType": "Custom::KinesisStreamEncryption",
        "ServiceToken": FUNCTION_ARN,
        "PhysicalResourceId": ARN,
        "LogicalResourceId": '"\x1f' * 500,
        "ResourceProperties": {"ServiceToken": FUNCTION_ARN, "StreamARN": ARN},
    },
    # Control characters JSON-escape to six bytes each: echoed ids must still fit 4096 bytes.
    {
        "RequestType": "Create",
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "ResourceType": "Custom::KinesisStreamEncryption",
        "ServiceToken": FUNCTION_ARN,
        "PhysicalResourceId": ARN,
        "LogicalResourceId": "\x1f\x1f" * 500,
    },
    # A field echoing the ResponseURL must not carry it into a log line.
    {
        "RequestType": "Create",
        "ResponseURL": RESPONSE_URL,
        "ServiceToken": FUNCTION_ARN,
        "ResourceProperties": {},
        "PhysicalResourceId": RESPONSE_URL,
    },
]


@FUZZ
@given(events)
@example(REGRESSIONS[0])
@example(REGRESSIONS[1])
def test_any_event_gets_at_most_one_well_formed_response(event):
    check_responses(event, invoke_once(event))


@FUZZ
@given(
    request_type=st.sampled_from(["Create", "Update", "Delete"]),
    props=properties,
)
def test_any_properties_in_an_otherwise_valid_event(request_type, props):
    event = {
        "RequestType": request_type,
        "ServiceToken": FUNCTION_ARN,
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "RequestId": "5e1f8e0c-0000-4000-8000-000000000000",
        "LogicalResourceId": "Enc",
        "ResourceType": "Custom::KinesisStreamEncryption",
        "ResourceProperties": props,
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "kinesis-stream-encryption-failed-create:x"
    check_responses(event, invoke_once(event))


@FUZZ
@given(st.one_of(json_value, st.binary().map(repr)))
def test_events_that_are_not_objects_never_crash(event):
    assert invoke_once(event) == []
