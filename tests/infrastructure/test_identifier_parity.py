"""The construct (synth) and the Lambda (deploy) accept the same stream and key identifiers, and
agree on ServiceTimeout's maximum: what synthesizes is what the function will accept."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import pytest

from kinesis_stream_encryption import MAX_SERVICE_TIMEOUT
from kinesis_stream_encryption.references import parse_key, parse_stream
from stream_encryption import identifiers
from stream_encryption.properties import MAX_SERVICE_TIMEOUT as LAMBDA_MAX_SERVICE_TIMEOUT

pytestmark = pytest.mark.infra

ACCOUNT = "123456789012"
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def _partitions() -> list[tuple[str, str]]:
    """Every (partition, region) botocore knows, from its own partition data."""
    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    return sorted(
        (partition["id"], region)
        for partition in data["partitions"]
        for region in partition["regions"]
        if region != f"{partition['id']}-global"
    )


REAL = _partitions()


def _construct_accepts_stream(value: str) -> bool:
    try:
        parse_stream(value)
    except ValueError:
        return False
    return True


def _construct_accepts_key(value: str) -> bool:
    try:
        parse_key(value)
    except ValueError:
        return False
    return True


def test_botocore_knows_the_partitions_we_test() -> None:
    partitions = {partition for partition, _ in REAL}
    assert {"aws", "aws-cn", "aws-us-gov", "aws-eusc"} <= partitions
    assert ("aws-eusc", "eusc-de-east-1") in REAL


STREAM_CASES = [
    f"arn:{partition}:kinesis:{region}:{ACCOUNT}:stream/s" for partition, region in REAL
] + [
    f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/a.b_c-1",
    f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{'x' * 128}",
    f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{'x' * 129}",
    f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/",
    f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/bad name",
    "arn:aws:kinesis:us-east-1:12345:stream/s",
    f"arn:aws:kinesis:useast1:{ACCOUNT}:stream/s",
    f"arn:aws:kinesis:US-EAST-1:{ACCOUNT}:stream/s",
    f"arn:aws:kinesis::{ACCOUNT}:stream/s",
    f"arn:AWS:kinesis:us-east-1:{ACCOUNT}:stream/s",
    f"arn:azure:kinesis:us-east-1:{ACCOUNT}:stream/s",
    f"arn:aws:sqs:us-east-1:{ACCOUNT}:stream/s",
    f"arn:aws:kinesis:us-east-1:{ACCOUNT}:s",
]


@pytest.mark.parametrize("value", STREAM_CASES)
def test_stream_arns_same_verdict(value: str) -> None:
    assert _construct_accepts_stream(value) == (identifiers.parse_stream_arn(value) is not None)


@pytest.mark.parametrize(
    "value", ["orders", "a.b_c-1", "x" * 128, "x" * 129, "bad name", "ü", "a/b", "a:b"]
)
def test_stream_names_same_verdict(value: str) -> None:
    assert _construct_accepts_stream(value) == identifiers.is_stream_name(value)


KEY_CASES = [f"arn:{partition}:kms:{region}:{ACCOUNT}:key/{UUID}" for partition, region in REAL] + [
    UUID,
    UUID.upper(),
    "mrk-1234abcd12ab34cd56ef1234567890ab",
    "alias/orders",
    "alias/team/orders_1-x",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/orders",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:key/not-a-uuid",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:secret/x",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/",
    f"arn:aws:kms:useast1:{ACCOUNT}:key/{UUID}",
    "1234abcd-12ab-34cd-56ef",
    "alias/",
    "alias/bad name",
    "not-a-key",
]


@pytest.mark.parametrize("value", KEY_CASES)
def test_key_ids_same_verdict(value: str) -> None:
    assert _construct_accepts_key(value) == (identifiers.parse_key_id(value) is not None)


@pytest.mark.parametrize(("partition", "region"), REAL)
def test_every_real_region_is_accepted(partition: str, region: str) -> None:
    stream = f"arn:{partition}:kinesis:{region}:{ACCOUNT}:stream/s"
    key = f"arn:{partition}:kms:{region}:{ACCOUNT}:key/{UUID}"
    assert _construct_accepts_stream(stream)
    assert _construct_accepts_key(key)
    assert identifiers.parse_stream_arn(stream) is not None
    assert identifiers.parse_key_id(key) is not None


def test_service_timeout_maximum_is_one_number() -> None:
    """CloudFormation's 3600 s: the construct's constant and the Lambda's properties model."""
    assert MAX_SERVICE_TIMEOUT.to_seconds() == LAMBDA_MAX_SERVICE_TIMEOUT == 3600


def test_policy_size_estimate_covers_every_partition() -> None:
    """The quota check sizes pseudo parameters at their longest real value: it may err high,
    never low."""
    from kinesis_stream_encryption.provider import PSEUDO_PARAMETER_LENGTHS

    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    partitions = data["partitions"]
    assert PSEUDO_PARAMETER_LENGTHS["AWS::Partition"] >= max(len(p["id"]) for p in partitions)
    assert PSEUDO_PARAMETER_LENGTHS["AWS::Region"] >= max(len(r) for _, r in REAL)
    assert PSEUDO_PARAMETER_LENGTHS["AWS::URLSuffix"] >= max(
        len(p["outputs"]["dnsSuffix"]) for p in partitions
    )
    assert PSEUDO_PARAMETER_LENGTHS["AWS::AccountId"] == 12
