"""Ownership over real HTTP against moto: the tags a Create writes, a Delete that gives back the
key the stream had before, and moto's CloudFormation answering whether a recorded owner exists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devsupport.http_receiver import ResponseReceiver
from devsupport.moto_server import emulator_client
from tests.e2e.conftest import Invoke, load_event
from tests.e2e.test_lifecycle_http import (
    ORDERS_ARN,
    create_stream,
    single_response,
    stream_encryption,
    with_properties,
)

pytestmark = pytest.mark.e2e

PREFIX = "kinesis-stream-encryption:"


def ownership_tags(kinesis: Any) -> dict[str, str]:
    tags = kinesis.list_tags_for_stream(StreamARN=ORDERS_ARN)["Tags"]
    return {t["Key"]: t["Value"] for t in tags if t["Key"].startswith(PREFIX)}


def test_create_writes_the_tags_and_delete_gives_back_the_prior_key(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any, kms: Any
) -> None:
    create_stream(kinesis)
    prior = kms.create_key(Description="the team's own key")["KeyMetadata"]["Arn"]
    ours = kms.create_key(Description="the stack's key")["KeyMetadata"]["Arn"]
    kinesis.start_stream_encryption(StreamName="orders", EncryptionType="KMS", KeyId=prior)
    kinesis.add_tags_to_stream(StreamARN=ORDERS_ARN, Tags={"team": "payments"})

    event = with_properties(load_event("create-by-arn"), KeyId=ours)
    body = single_response(receiver, invoke(event))
    assert body["Status"] == "SUCCESS", body["Reason"]
    tags = ownership_tags(kinesis)
    provider = tags.pop(f"{PREFIX}provider")
    assert tags == {
        f"{PREFIX}owner-stack": event["StackId"],
        f"{PREFIX}owner-resource": "StreamEncryption",
        f"{PREFIX}prior-key": prior,
        f"{PREFIX}key": ours,
    }
    assert provider.startswith("arn:aws:lambda:") and provider.count(":") == 6
    assert stream_encryption(kinesis) == ("KMS", ours)

    deleted = invoke(with_properties(load_event("delete"), KeyId=ours))
    body = single_response(receiver, deleted)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert "given back" in body["Reason"]
    assert stream_encryption(kinesis) == ("KMS", prior)
    assert ownership_tags(kinesis) == {}
    remaining = kinesis.list_tags_for_stream(StreamARN=ORDERS_ARN)["Tags"]
    assert remaining == [{"Key": "team", "Value": "payments"}]


def _stack(cloudformation: Any, name: str, logical_id: str) -> str:
    template = {"Resources": {logical_id: {"Type": "AWS::SQS::Queue"}}}
    return str(
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))["StackId"]
    )


@pytest.mark.parametrize("owner", ["live", "deleted", "never-existed"])
def test_moto_cloudformation_decides_whether_another_stack_keeps_the_stream(
    invoke: Invoke, receiver: ResponseReceiver, kinesis: Any, clean_moto: str, owner: str
) -> None:
    create_stream(kinesis)
    cloudformation = emulator_client("cloudformation", clean_moto)
    if owner == "never-existed":
        stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/billing/0000-1111"
    else:
        stack_id = _stack(cloudformation, "billing", "BillingEncryption")
        if owner == "deleted":
            cloudformation.delete_stack(StackName=stack_id)
    theirs = {
        f"{PREFIX}owner-stack": stack_id,
        f"{PREFIX}owner-resource": "BillingEncryption",
        f"{PREFIX}prior-key": "NONE",
    }
    kinesis.add_tags_to_stream(StreamARN=ORDERS_ARN, Tags=theirs)

    body = single_response(receiver, invoke(load_event("create-by-arn")))
    if owner == "live":
        assert body["Status"] == "FAILED"
        assert "BillingEncryption" in body["Reason"] and "billing" in body["Reason"]
        assert ownership_tags(kinesis) == theirs
        assert stream_encryption(kinesis) == ("NONE", None)
    else:
        assert body["Status"] == "SUCCESS", body["Reason"]
        assert ownership_tags(kinesis)[f"{PREFIX}owner-resource"] == "StreamEncryption"
        assert ownership_tags(kinesis)[f"{PREFIX}prior-key"] == "NONE"
