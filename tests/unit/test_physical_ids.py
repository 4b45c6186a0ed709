"""Every physical-id rule (SPEC "Physical resource id"), from the request and the outcome alone."""

import pytest

from stream_encryption.cfn.events import CfnRequest
from stream_encryption.cfn.physical_ids import (
    FAILED_CREATE_PREFIX,
    managed_stream_of,
    physical_id_for,
)
from stream_encryption.models.outcome import Outcome

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
OTHER = "arn:aws:kinesis:us-east-1:123456789012:stream/payments"


def request(request_type, physical_id=None):
    return CfnRequest(
        request_type=request_type,
        stack_id="arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        request_id="5e1f8e0c-0000-4000-8000-000000000000",
        logical_resource_id="Enc",
        resource_type="Custom::KinesisStreamEncryption",
        physical_resource_id=physical_id,
        properties={},
        old_properties=None,
        carried_progress=None,
    )


def succeeded(stream_arn=ARN):
    return Outcome(True, "ok", "started", stream_arn, change_requested=True)


def failed(stream_arn=ARN, change_requested=False):
    return Outcome(False, "no", "failed", stream_arn, change_requested)


@pytest.mark.parametrize(
    ("req", "outcome", "expected"),
    [
        (request("Create"), succeeded(), ARN),
        (request("Update", OTHER), succeeded(), ARN),  # a new stream: CloudFormation replaces
        (request("Update", OTHER), failed(change_requested=True), OTHER),
        (request("Create"), failed(change_requested=True), ARN),  # rollback's Delete undoes it
        (request("Delete", OTHER), succeeded(ARN), OTHER),
        (request("Delete", OTHER), failed(), OTHER),
    ],
)
def test_the_id_answered(req, outcome, expected):
    assert physical_id_for(req, outcome) == expected


@pytest.mark.parametrize(
    "outcome", [failed(change_requested=False), failed(stream_arn=None, change_requested=True)]
)
def test_a_create_that_changed_nothing_answers_a_marker_that_is_no_stream_arn(outcome):
    answered = physical_id_for(request("Create"), outcome)
    assert answered == FAILED_CREATE_PREFIX + "5e1f8e0c-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("request_type", "physical_id", "managed"),
    [
        ("Update", ARN, ARN),  # managed before: an untagged stream's prior key is UNKNOWN
        ("Update", FAILED_CREATE_PREFIX + "abc", None),
        ("Create", None, None),
        ("Delete", ARN, None),
    ],
)
def test_the_stream_a_resource_already_managed_is_an_updates_stream_arn_id(
    request_type, physical_id, managed
):
    assert managed_stream_of(request(request_type, physical_id)) == managed


def test_a_failed_create_whose_stream_may_show_an_earlier_attempts_start_answers_its_arn():
    """A Lambda retry of a crashed Create has a fresh Progress; the stream's state speaks."""
    outcome = Outcome(False, "no", "failed", ARN, earlier_attempt_may_have_changed=True)
    assert physical_id_for(request("Create"), outcome) == ARN
    assert physical_id_for(request("Update", OTHER), outcome) == OTHER  # Update: the id sent
