"""Key and stream identifier parsing, and the key-equivalence rule of SPEC "Create / Update" 3."""

import pytest

from stream_encryption.identifiers import (
    StreamArn,
    StreamRef,
    keys_equivalent,
    parse_key_id,
    parse_stream_arn,
)

STREAM = StreamArn("aws", "us-east-1", "123456789012", "orders")
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
        "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-1",
        "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/x",
    ],
)
def test_stream_arns_parse_in_every_partition(value):
    parsed = parse_stream_arn(value)
    assert parsed is not None
    assert parsed.arn == value


@pytest.mark.parametrize(
    "value",
    [
        "orders",
        "arn:aws:kinesis:us-east-1:123456789012:orders",
        "arn:aws:kinesis:us-east-1:12345:stream/orders",
        "arn:aws:sqs:us-east-1:123456789012:stream/orders",
        "arn:aws:kinesis:us-east-1:123456789012:stream/bad name",
        "kinesis-stream-encryption-failed-create:abc",
    ],
)
def test_non_stream_arns_are_rejected(value):
    assert parse_stream_arn(value) is None


@pytest.mark.parametrize(
    ("value", "kind", "name"),
    [
        (UUID, "key", UUID),
        (UUID.upper(), "key", UUID),
        ("mrk-1234abcd12ab34cd56ef1234567890ab", "key", "mrk-1234abcd12ab34cd56ef1234567890ab"),
        (f"arn:aws:kms:us-east-1:123456789012:key/{UUID}", "key", UUID),
        ("alias/orders", "alias", "alias/orders"),
        ("alias/aws/kinesis", "alias", "alias/aws/kinesis"),
        ("arn:aws:kms:us-east-1:123456789012:alias/orders", "alias", "alias/orders"),
    ],
)
def test_every_key_form_kinesis_accepts_parses(value, kind, name):
    ref = parse_key_id(value)
    assert ref is not None
    assert (ref.kind, ref.name) == (kind, name)


@pytest.mark.parametrize(
    "value", ["", "orders", "alias/", "key/" + UUID, "arn:aws:kms:us-east-1:1:key/x", "alias/a b"]
)
def test_other_strings_are_not_keys(value):
    assert parse_key_id(value) is None


@pytest.mark.parametrize(
    ("wanted", "current"),
    [
        (UUID, f"arn:aws:kms:us-east-1:123456789012:key/{UUID}"),
        (f"arn:aws:kms:us-east-1:123456789012:key/{UUID}", UUID),
        (UUID.upper(), UUID),
        ("alias/orders", "arn:aws:kms:us-east-1:123456789012:alias/orders"),
        ("arn:aws:kms:us-east-1:123456789012:alias/orders", "alias/orders"),
        ("alias/aws/kinesis", "alias/aws/kinesis"),
    ],
)
def test_equivalent_forms_of_one_key_match(wanted, current):
    assert keys_equivalent(wanted, current, STREAM)


@pytest.mark.parametrize(
    ("wanted", "current"),
    [
        (UUID, None),
        (UUID, "alias/orders"),  # not comparable without KMS: counts as different
        (UUID, f"arn:aws:kms:us-east-1:999999999999:key/{UUID}"),  # another account's key
        (UUID, f"arn:aws:kms:eu-west-1:123456789012:key/{UUID}"),  # another region
        ("alias/orders", "alias/Orders"),
        ("alias/aws/kinesis", "alias/orders"),
    ],
)
def test_different_keys_do_not_match(wanted, current):
    assert not keys_equivalent(wanted, current, STREAM)


def test_stream_ref_calls_kinesis_with_the_form_the_user_gave():
    assert StreamRef(STREAM).api_params() == {"StreamARN": STREAM.arn}
    assert StreamRef(STREAM, by_name=True).api_params() == {"StreamName": "orders"}
