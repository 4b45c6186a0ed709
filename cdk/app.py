#!/usr/bin/env python3
"""Example CDK app: encrypt an existing stream, and a provider stack for plain CloudFormation.

``cdk synth`` from the repository root runs this file (see ``cdk.json``). Context:

* ``streamArn`` - the existing stream to encrypt (default: an example ARN);
* the provider stack's scope (see ``ProviderScope``): ``streamArns``, ``streamNamePrefixes``
  (comma-separated; ``streamNamePrefix`` is an alias) or ``allStreams=ALL``, and ``keyArns``,
  ``keyAliases``; with no stream scope at all, the prefix ``encrypted-``;
* ``providerStackName`` and ``exportName`` - so that several providers can share an account;
* the provider stack's drift check (off unless ``driftCheckMinutes`` is set): ``driftCheckMinutes``
  (the schedule's period), ``driftRepair=true``, ``driftAlarmTopicArn``, ``driftCheckRegions``.

cdk-nag's AwsSolutions pack validates both stacks; every acknowledged finding carries its reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import Acknowledgment, ArnFormat, CfnOutput, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, Node

from kinesis_stream_encryption import (
    STREAM_ACTIONS,
    DriftCheck,
    KinesisStreamEncryption,
    KinesisStreamEncryptionProvider,
)
from kinesis_stream_encryption.provider import key_statements

DEFAULT_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
DEFAULT_STREAM_NAME_PREFIX = "encrypted-"
EXPORT_NAME = "KinesisStreamEncryption-ServiceToken"
#: Construct id (and default stack name) of the provider stack: what `cdk deploy` selects.
PROVIDER_STACK_ID = "KinesisStreamEncryptionProviderStack"

_XRAY_REASON = (
    "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no "
    "resource-level permissions (Resource must be '*')."
)


_OWNERSHIP_REASON = (
    "Ownership: the stack owning a stream may be in any region (DescribeStackResources is "
    "read-only); the key a stream had before its first owner is known only at run time, so "
    "Kinesis may use a key of the account only on requests it makes (kms:ViaService) for a "
    "stream of the account (kms:EncryptionContext:aws:kinesis:arn), and the function can make "
    "them only for the streams it is granted."
)


def _acknowledge_ownership(provider: KinesisStreamEncryptionProvider) -> None:
    """The wildcards every provider has for ownership (see ``ownership_statements``)."""
    stack = Stack.of(provider)
    document = stack.resolve(provider.ownership_policy.document.to_json())
    for statement in document["Statement"]:
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        ):
            Validations.of(provider.ownership_policy).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{_nag_arn(stack, resource)}]",
                    reason=_OWNERSHIP_REASON,
                )
            )


def _acknowledge_xray(provider: KinesisStreamEncryptionProvider) -> None:
    """The one wildcard a provider with tracing on has: X-Ray's write actions."""
    if not provider.tracing:
        return
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
        _acknowledge_ownership(encryption.provider)

        CfnOutput(self, "StreamArn", value=encryption.attr_stream_arn)
        CfnOutput(self, "StreamName", value=encryption.attr_stream_name)
        CfnOutput(self, "KeyArn", value=key.key_arn)
        CfnOutput(self, "AppliedKeyId", value=encryption.attr_key_id)
        CfnOutput(self, "EncryptionType", value=encryption.attr_encryption_type)


_PREFIX_PATTERN = re.compile(r"[a-zA-Z0-9_.-]{1,127}")
_STREAM_ARN_PATTERN = re.compile(
    r"arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}"
)
_KEY_ARN_PATTERN = re.compile(r"arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+")
_KEY_ALIAS_PATTERN = re.compile(r"alias/(?!aws/)[a-zA-Z0-9/_-]{1,250}")
#: ``allStreams`` must say this, so that "every stream of the account" is never an accident.
ALL_STREAMS = "ALL"


class ProviderScope:
    """What a stand-alone provider's role may touch.

    Streams: explicit ARNs and/or name prefixes, or every stream of the account and region (only
    on purpose, never as a fallback). Keys: explicit key ARNs, or keys with one of the aliases
    (``alias/Name``), or (neither) any key of the account and region, but only through Kinesis
    (``kms:ViaService``) for the streams above (``kms:EncryptionContext:aws:kinesis:arn``).
    """

    def __init__(
        self,
        *,
        stream_arns: Sequence[str] = (),
        stream_name_prefixes: Sequence[str] = (),
        all_streams: bool = False,
        key_arns: Sequence[str] = (),
        key_aliases: Sequence[str] = (),
    ) -> None:
        # A plain class, not a dataclass: tests load this file by path, outside sys.modules.
        self.stream_arns = tuple(stream_arns)
        self.stream_name_prefixes = tuple(stream_name_prefixes)
        self.all_streams = all_streams
        self.key_arns = tuple(key_arns)
        self.key_aliases = tuple(key_aliases)
        self._validate()

    def _validate(self) -> None:
        if self.key_arns and self.key_aliases:
            # As in the packaged template: one key rule, never an intersection or a union.
            raise ValueError("keyArns or keyAliases, not both")
        if self.all_streams and (self.stream_arns or self.stream_name_prefixes):
            raise ValueError("all streams, or stream ARNs / streamNamePrefixes: not both")
        if not (self.all_streams or self.stream_arns or self.stream_name_prefixes):
            raise ValueError(
                "the provider needs a stream scope: streamArns, streamNamePrefixes, or "
                f"allStreams={ALL_STREAMS} (an empty prefix would silently grant every stream)"
            )
        _check(
            "streamNamePrefixes",
            self.stream_name_prefixes,
            _PREFIX_PATTERN,
            "1-127 stream-name characters (a-z, A-Z, 0-9, '_', '.', '-')",
        )
        _check("streamArns", self.stream_arns, _STREAM_ARN_PATTERN, "Kinesis stream ARNs")
        _check(
            "keyArns",
            self.key_arns,
            _KEY_ARN_PATTERN,
            "KMS key ARNs (arn:...:kms:<region>:<account>:key/<id>)",
        )
        _check(
            "keyAliases",
            self.key_aliases,
            _KEY_ALIAS_PATTERN,
            "alias/Name (alias/aws/kinesis needs no grant)",
        )

    @classmethod
    def from_context(cls, node: Node) -> ProviderScope:
        """The scope from CDK context (``-c name=a,b``); no stream scope at all: ``encrypted-``."""

        def values(*names: str) -> tuple[str, ...]:
            found: list[str] = []
            for name in names:
                raw = node.try_get_context(name)
                if raw is not None:
                    found.extend(_split(raw))
            return tuple(found)

        all_streams = str(node.try_get_context("allStreams") or "")
        if all_streams not in ("", ALL_STREAMS):
            raise ValueError(f"allStreams must be {ALL_STREAMS!r} (or absent), not {all_streams!r}")
        arns = values("streamArns")
        prefixes = values("streamNamePrefixes", "streamNamePrefix")
        scoped = any(
            node.try_get_context(name) is not None
            for name in ("streamArns", "streamNamePrefixes", "streamNamePrefix", "allStreams")
        )
        if not scoped:
            prefixes = (DEFAULT_STREAM_NAME_PREFIX,)
        return cls(
            stream_arns=arns,
            stream_name_prefixes=prefixes,
            all_streams=bool(all_streams),
            key_arns=values("keyArns"),
            key_aliases=values("keyAliases"),
        )


def _split(raw: object) -> list[str]:
    """Context values arrive as ``a,b`` strings from the CLI, or as JSON lists from cdk.json."""
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _check(name: str, values: tuple[str, ...], pattern: re.Pattern[str], expected: str) -> None:
    bad = [v for v in values if not pattern.fullmatch(v)]
    if bad:
        raise ValueError(f"{name} {bad!r}: expected {expected}")


class KinesisStreamEncryptionProviderStack(Stack):
    """The provider alone, exported for plain CloudFormation templates.

    Its role is scoped by ``ProviderScope``: the Kinesis actions on the listed streams (ARNs,
    ``stream/<prefix>*`` patterns, or ``stream/*`` when chosen), KMS on the listed keys or on the
    account's keys in this region but only through Kinesis (``kms:ViaService``) for those streams
    (``aws:kinesis:arn`` context). The function, role and log group are named by CloudFormation,
    so several providers with other scopes (and export names) can share an account and region.
    ``scripts/package.py`` turns this stack into the packaged, parameterized template.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        provider_scope: ProviderScope,
        export_name: str = EXPORT_NAME,
        drift_check: DriftCheck | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Custom::KinesisStreamEncryption provider for CloudFormation templates",
            **kwargs,
        )
        if not re.fullmatch(r"[a-zA-Z0-9:-]{1,255}", export_name):
            raise ValueError(f"exportName {export_name!r}: 1-255 of a-z, A-Z, 0-9, ':', '-'")
        self.provider_scope = provider_scope
        drift_check = drift_check or drift_check_from_context(self)
        # Its key scope (key ARNs, aliases, or any key through Kinesis) also bounds which key a
        # Delete can give back: no grant beyond it.
        provider = KinesisStreamEncryptionProvider(
            self, "Provider", restore_prior_keys=False, drift_check=drift_check
        )
        self.provider = provider

        def stream_arn(name: str) -> str:
            return self.format_arn(
                service="kinesis",
                resource="stream",
                resource_name=name,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )

        streams = (
            [stream_arn("*")]
            if provider_scope.all_streams
            else [
                *provider_scope.stream_arns,
                *(stream_arn(f"{p}*") for p in provider_scope.stream_name_prefixes),
            ]
        )
        any_key = self.format_arn(
            service="kms",
            resource="key",
            resource_name="*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        provider.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(STREAM_ACTIONS), resources=streams)
        )
        key_grants: list[tuple[str, str | None]] = [(k, None) for k in provider_scope.key_arns]
        key_grants += [(any_key, a) for a in provider_scope.key_aliases]
        if not key_grants:
            key_grants = [(any_key, None)]
        for key_resource, alias_name in key_grants:
            for statement in key_statements(
                key_resource, region=self.region, url_suffix=self.url_suffix, alias_name=alias_name
            ):
                if "kms:GenerateDataKey" in statement.actions:
                    # Kinesis names the stream in the encryption context of every KMS call.
                    statement.add_condition(
                        "StringLike", {"kms:EncryptionContext:aws:kinesis:arn": streams}
                    )
                provider.role.add_to_principal_policy(statement)

        _acknowledge_xray(provider)
        _acknowledge_ownership(provider)
        wildcards = [s for s in streams if s.endswith("*")]
        if any_key in (k for k, _ in key_grants):
            wildcards.append(any_key)
        Validations.of(provider.role).acknowledge(
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{_nag_arn(self, w)}]",
                    reason="Streams and keys are named by the templates that use this provider; "
                    "the role is limited to the streams of its scope (name prefixes, or all "
                    "streams when chosen explicitly), and GenerateDataKey to requests Kinesis "
                    "makes (kms:ViaService) for those streams "
                    "(kms:EncryptionContext:aws:kinesis:arn). DescribeKey returns metadata only.",
                )
                for w in wildcards
            )
        )

        CfnOutput(
            self,
            "ServiceToken",
            value=provider.service_token,
            description="ServiceToken for Custom::KinesisStreamEncryption resources",
            export_name=export_name,
        )


def drift_check_from_context(stack: Stack) -> DriftCheck | None:
    """The provider stack's drift check from CDK context; None unless ``driftCheckMinutes``."""
    node = stack.node
    minutes = node.try_get_context("driftCheckMinutes")
    if minutes is None or str(minutes).upper() == "NONE":
        return None
    if not str(minutes).isdigit():
        raise ValueError(f"driftCheckMinutes must be a whole number of minutes, not {minutes!r}")
    repair = str(node.try_get_context("driftRepair") or "false").lower()
    if repair not in ("true", "false"):
        raise ValueError(f"driftRepair must be true or false, not {repair!r}")
    topic_arn = node.try_get_context("driftAlarmTopicArn")
    topic = (
        sns.Topic.from_topic_arn(stack, "DriftAlarmTopic", str(topic_arn)) if topic_arn else None
    )
    regions = _split(node.try_get_context("driftCheckRegions") or "")
    return DriftCheck(
        schedule=cdk.Duration.minutes(int(str(minutes))),
        repair=repair == "true",
        alarm_topic=topic,
        regions=regions,
    )


def _nag_arn(stack: Stack, arn: str) -> str:
    """cdk-nag's rendering of a resolved ARN: ``<AWS::Region>`` for each pseudo parameter."""
    rendered = stack.resolve(arn)
    if isinstance(rendered, str):
        return rendered
    sep, parts = rendered["Fn::Join"]
    return str(sep).join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)


def build_app(
    app: cdk.App,
) -> tuple[EncryptExistingStreamStack, KinesisStreamEncryptionProviderStack]:
    """Add both example stacks and the cdk-nag AwsSolutions checks to ``app``."""
    stream_arn = app.node.try_get_context("streamArn") or DEFAULT_STREAM_ARN
    encrypt = EncryptExistingStreamStack(
        app, "EncryptExistingStreamStack", stream_arn=str(stream_arn)
    )
    stack_name = app.node.try_get_context("providerStackName")
    provider = KinesisStreamEncryptionProviderStack(
        app,
        PROVIDER_STACK_ID,
        provider_scope=ProviderScope.from_context(app.node),
        export_name=str(app.node.try_get_context("exportName") or EXPORT_NAME),
        stack_name=str(stack_name) if stack_name else None,
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
