"""The provider's grant methods return ``iam.Grant`` like CDK's own, and the stand-alone
provider's KMS grant has the same conditions as the construct's."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from kinesis_stream_encryption import STREAM_ACTIONS, KinesisStreamEncryptionProvider

from .synth_helpers import join_text

pytestmark = pytest.mark.infra

KEYS = "arn:aws:kms:us-east-1:123456789012:key/*"
STREAMS = "arn:aws:kinesis:us-east-1:123456789012:stream/encrypted-*"


def _default_policy_statements(stack: cdk.Stack) -> list[dict[str, object]]:
    (policy,) = [
        p
        for logical_id, p in Template.from_stack(stack).find_resources("AWS::IAM::Policy").items()
        if "DefaultPolicy" in logical_id
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_grant_stream_returns_a_grant_on_the_role(fresh_stack: cdk.Stack) -> None:
    provider = KinesisStreamEncryptionProvider(fresh_stack, "P")
    grant = provider.grant_stream(STREAMS)
    assert isinstance(grant, iam.Grant)
    assert grant.success
    assert grant.principal_statement is not None
    assert sorted(grant.principal_statement.actions) == sorted(STREAM_ACTIONS)
    (statement,) = [
        s for s in _default_policy_statements(fresh_stack) if "kinesis:" in str(s["Action"])
    ]
    assert statement["Resource"] == STREAMS


def test_grant_key_returns_a_grant_and_adds_each_statement_once(fresh_stack: cdk.Stack) -> None:
    provider = KinesisStreamEncryptionProvider(fresh_stack, "P")
    first = provider.grant_key(KEYS, region="us-east-1", stream_arn_pattern=STREAMS)
    again = provider.grant_key(KEYS, region="us-east-1", stream_arn_pattern=STREAMS)
    assert isinstance(first, iam.Grant)
    assert again is first
    assert first.principal_statement is not None
    assert list(first.principal_statement.actions) == ["kms:GenerateDataKey"]
    kms = [s for s in _default_policy_statements(fresh_stack) if "kms:" in str(s["Action"])]
    assert sorted(str(s["Action"]) for s in kms) == ["kms:DescribeKey", "kms:GenerateDataKey"]
    (generate,) = [s for s in kms if s["Action"] == "kms:GenerateDataKey"]
    conditions = generate["Condition"]
    assert join_text(conditions["StringEquals"]["kms:ViaService"]) == (  # type: ignore[index]
        "kinesis.us-east-1.${AWS::URLSuffix}"
    )
    assert conditions["StringLike"] == {  # type: ignore[index]
        "kms:EncryptionContext:aws:kinesis:arn": STREAMS
    }
