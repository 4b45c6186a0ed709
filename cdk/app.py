#!/usr/bin/env python3
"""Example CDK app: encrypt an existing stream, and a provider stack for plain CloudFormation.

``cdk synth`` from the repository root runs this file (see ``cdk.json``). Context:

* ``streamArn`` - the existing stream to encrypt (default: an example ARN);
* ``streamNamePrefix`` - which streams the exported provider may manage (default ``encrypted-``).

cdk-nag's AwsSolutions pack validates both stacks; every acknowledged finding carries its reason.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import Acknowledgment, ArnFormat, CfnOutput, RemovalPolicy, Stack, Validations
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from kinesis_stream_encryption import KinesisStreamEncryption, KinesisStreamEncryptionProvider

DEFAULT_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
DEFAULT_STREAM_NAME_PREFIX = "encrypted-"
EXPORT_NAME = "KinesisStreamEncryption-ServiceToken"

_XRAY_REASON = (
    "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no "
    "resource-level permissions (Resource must be '*')."
)


def _acknowledge_xray(provider: KinesisStreamEncryptionProvider) -> None:
    """The one wildcard every provider has: X-Ray's write actions."""
    Validations.of(provider.role).acknowledge(
        Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=_XRAY_REASON)
    )


class EncryptExistingStreamStack(Stack):
    """Encrypts a stream this stack does not own with a customer managed key it creates."""

    def __init__(self, scope: Construct, construct_id: str, *, stream_arn: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Turns on SSE-KMS for an existing Kinesis stream",
        )
        stream = kinesis.Stream.from_stream_arn(self, "ExistingStream", stream_arn)
        key = kms.Key(
            self,
            "StreamKey",
            description=f"SSE-KMS key for Kinesis stream {stream.stream_name}",
            enable_key_rotation=True,
            # Records written while encrypted stay encrypted until they expire from the stream:
            # deleting the key with the stack would make them unreadable.
            removal_policy=RemovalPolicy.RETAIN,
        )
        encryption = KinesisStreamEncryption(self, "StreamEncryption", stream=stream, key=key)
        _acknowledge_xray(encryption.provider)

        CfnOutput(self, "StreamArn", value=encryption.attr_stream_arn)
        CfnOutput(self, "StreamName", value=encryption.attr_stream_name)
        CfnOutput(self, "KeyArn", value=key.key_arn)
        CfnOutput(self, "AppliedKeyId", value=encryption.attr_key_id)
        CfnOutput(self, "EncryptionType", value=encryption.attr_encryption_type)


class KinesisStreamEncryptionProviderStack(Stack):
    """The provider alone, exported for plain CloudFormation templates.

    Its role is scoped by a stream-name prefix, since the streams are not known in advance: the
    Kinesis actions on ``stream/<prefix>*``, KMS on the account's keys in this region but only
    through Kinesis (``kms:ViaService``) for those streams (``aws:kinesis:arn`` context).
    """

    def __init__(self, scope: Construct, construct_id: str, *, stream_name_prefix: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Custom::KinesisStreamEncryption provider for CloudFormation templates",
        )
        if not re.fullmatch(r"[a-zA-Z0-9_.-]{1,127}", stream_name_prefix):
            raise ValueError(
                f"streamNamePrefix {stream_name_prefix!r} must be 1-127 stream-name characters "
                "(a-z, A-Z, 0-9, '_', '.', '-'); an empty prefix would grant every stream"
            )
        provider = KinesisStreamEncryptionProvider(self, "Provider")
        streams = self.format_arn(
            service="kinesis",
            resource="stream",
            resource_name=f"{stream_name_prefix}*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        keys = self.format_arn(
            service="kms",
            resource="key",
            resource_name="*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        provider.grant_stream(streams)
        provider.grant_key(keys, region=self.region, stream_arn_pattern=streams)

        _acknowledge_xray(provider)
        Validations.of(provider.role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kinesis:<AWS::Region>:"
                f"<AWS::AccountId>:stream/{stream_name_prefix}*]",
                reason="Streams are named by the templates that use this provider; the role is "
                f"limited to streams whose names start with {stream_name_prefix!r}.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:"
                "<AWS::AccountId>:key/*]",
                reason="Keys are chosen by the templates that use this provider. DescribeKey "
                "returns metadata only; GenerateDataKey is allowed only via Kinesis "
                "(kms:ViaService) for the prefixed streams "
                "(kms:EncryptionContext:aws:kinesis:arn).",
            ),
        )

        CfnOutput(
            self,
            "ServiceToken",
            value=provider.service_token,
            description="ServiceToken for Custom::KinesisStreamEncryption resources",
            export_name=EXPORT_NAME,
        )
        CfnOutput(self, "StreamNamePrefix", value=stream_name_prefix)


def build_app(
    app: cdk.App,
) -> tuple[EncryptExistingStreamStack, KinesisStreamEncryptionProviderStack]:
    """Add both example stacks and the cdk-nag AwsSolutions checks to ``app``."""
    stream_arn = app.node.try_get_context("streamArn") or DEFAULT_STREAM_ARN
    prefix = app.node.try_get_context("streamNamePrefix") or DEFAULT_STREAM_NAME_PREFIX
    encrypt = EncryptExistingStreamStack(
        app, "EncryptExistingStreamStack", stream_arn=str(stream_arn)
    )
    provider = KinesisStreamEncryptionProviderStack(
        app, "KinesisStreamEncryptionProviderStack", stream_name_prefix=str(prefix)
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return encrypt, provider


def main() -> None:
    """Entry point for ``cdk synth``."""
    app = cdk.App()
    build_app(app)
    app.synth()


if __name__ == "__main__":
    main()
