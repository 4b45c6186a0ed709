"""SPEC "Resource type and properties": validation, defaults, and Reasons that name the problem."""

import pytest

from stream_encryption.identifiers import DEFAULT_KEY_ID
from stream_encryption.properties import PropertiesError, parse_properties, resolve_target

TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:provider"
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"


def props(**extra):
    return {"ServiceToken": TOKEN, **extra}


def test_defaults_are_the_aws_managed_key_kms_and_an_hour():
    parsed = parse_properties(props(StreamName="orders"))
    assert parsed.key_id == DEFAULT_KEY_ID == "alias/aws/kinesis"
    assert parsed.encryption_type == "KMS"
    assert parsed.service_timeout == 3600


def test_cloudformation_strings_are_accepted():
    parsed = parse_properties(props(StreamARN=ARN, ServiceTimeout="300", EncryptionType="KMS"))
    assert parsed.service_timeout == 300
    assert parsed.stream_arn == ARN


def reason_for(raw) -> str:
    with pytest.raises(PropertiesError) as caught:
        parse_properties(raw)
    return str(caught.value)


def test_unknown_properties_are_named_with_a_suggestion():
    reason = reason_for(props(StreamArn=ARN, Colour="blue"))
    assert "unknown properties" in reason
    assert "StreamArn (did you mean StreamARN?)" in reason
    assert "Colour" in reason


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (props(StreamName="orders", EncryptionType="NONE"), "EncryptionType"),
        (props(StreamName="orders", EncryptionType="kms"), "EncryptionType"),
        (props(StreamARN="arn:aws:kinesis:us-east-1:1:stream/x"), "StreamARN"),
        (props(StreamName="bad name!"), "StreamName"),
        (props(StreamName="orders", KeyId="my-key"), "KeyId"),
        (props(StreamName="orders", KeyId=""), "KeyId"),
        (props(StreamName="orders", ServiceTimeout="0"), "ServiceTimeout"),
        (props(StreamName="orders", ServiceTimeout="3601"), "ServiceTimeout"),
        (props(StreamName="orders", ServiceTimeout="5m"), "ServiceTimeout"),
        (props(StreamName=["orders"]), "StreamName"),
        ({"StreamName": "orders"}, "ServiceToken"),
        (props(), "StreamARN or StreamName"),
    ],
)
def test_each_bad_property_is_named(raw, named):
    assert named in reason_for(raw)


def test_arn_and_name_for_different_streams_fail():
    reason = reason_for(props(StreamARN=ARN, StreamName="payments"))
    assert "'orders'" in reason and "'payments'" in reason


def test_properties_must_be_an_object():
    assert "ResourceProperties" in reason_for(None)


def test_long_values_are_shortened_in_the_reason():
    reason = reason_for(props(StreamName="x" * 5000))
    assert len(reason) < 400


def test_a_name_resolves_in_the_function_account_and_region():
    ref = resolve_target(
        parse_properties(props(StreamName="orders")), "aws", "eu-west-1", "111122223333"
    )
    assert ref.by_name
    assert ref.arn.arn == "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"


def test_arn_and_name_must_agree_on_account_and_region():
    parsed = parse_properties(props(StreamARN=ARN, StreamName="orders"))
    with pytest.raises(PropertiesError, match="account 123456789012"):
        resolve_target(parsed, "aws", "us-east-1", "999999999999")
    same = resolve_target(parsed, "aws", "us-east-1", "123456789012")
    assert not same.by_name and same.arn.arn == ARN
