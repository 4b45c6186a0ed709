"""``KinesisStreamEncryption``: SSE-KMS on a Kinesis stream this stack does not own.

A stack that owns its stream should set ``kinesis.Stream(encryption=...)`` instead; this construct
is for streams imported by ARN or name (created by another team, tool, or by hand). It declares a
``Custom::KinesisStreamEncryption`` served by the stack's single shared provider Lambda and adds
to that Lambda's role only what this one resource needs.
"""

from __future__ import annotations

import hashlib
import json

from aws_cdk import (
    Annotations,
    Arn,
    ArnFormat,
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .provider import (
    DEFAULT_SERVICE_TIMEOUT,
    MAX_SERVICE_TIMEOUT,
    RESOURCE_TYPE,
    KinesisStreamEncryptionProvider,
    stream_statements,
)
from .references import (
    DEFAULT_KINESIS_KEY_ALIAS,
    KeyForm,
    StreamForm,
    parse_key,
    parse_stream,
    stream_arn_parts,
)

_WARNING_PREFIX = "kinesis-stream-encryption"


class KinesisStreamEncryption(Construct):
    """Turn on Kinesis Data Streams server-side encryption (SSE-KMS) on an existing stream.

    :param stream: a ``kinesis.IStream``, a stream ARN (``arn:...``), or a stream name in the
        stack's own account and region. A string that is one whole token (a parameter, an
        import) is taken as an ARN.
    :param key: a ``kms.IKey`` (or ``kms.IAlias``), a key ARN, alias ARN, key id, or
        ``alias/Name``; ``None`` means the AWS managed key ``alias/aws/kinesis`` (which needs no
        KMS permissions). The key policy must let this account's IAM policies grant its use
        (the default key policy does).
    :param removal_policy: ``DESTROY`` turns encryption off when the resource is deleted;
        ``RETAIN`` leaves it on.
    :param service_timeout: how long CloudFormation waits for the resource (1 s to 1 h); the
        default sits a little above the function timeout. Raise it for streams whose updates may
        take long: the function hands long waits over to itself within this budget.
    :param powertools_layer: overrides the Powertools layer resolved from the public SSM
        parameter (e.g. for partitions where it is published under other names).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stream: kinesis.IStream | str,
        key: kms.IKey | str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        service_timeout: Duration | None = None,
        powertools_layer: lambda_.ILayerVersion | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.provider = KinesisStreamEncryptionProvider.of(self, powertools_layer=powertools_layer)
        properties: dict[str, str] = {}

        self.stream_arn = self._resolve_stream(stack, stream, properties)
        stream_region = Arn.split(self.stream_arn, ArnFormat.SLASH_RESOURCE_NAME).region
        self._stream_region = stream_region or stack.region
        self.policy = self._permissions_policy(stack, stream_statements(self.stream_arn))
        self._resolve_key(stack, key, properties)
        properties["EncryptionType"] = "KMS"

        timeout = service_timeout or DEFAULT_SERVICE_TIMEOUT
        self._check_service_timeout(timeout)

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            removal_policy=removal_policy,
            service_timeout=timeout,
        )
        # Both policies must exist before the first request and outlive the last Delete.
        self.resource.node.add_dependency(self.policy, self.provider.invoke_self_policy)

    @property
    def function(self) -> lambda_.Function:
        """The shared provider function (one per stack)."""
        return self.provider.function

    @property
    def attr_stream_arn(self) -> str:
        """``Fn::GetAtt StreamARN``: the stream's ARN as Kinesis reports it."""
        return self.resource.get_att_string("StreamARN")

    @property
    def attr_stream_name(self) -> str:
        """``Fn::GetAtt StreamName``."""
        return self.resource.get_att_string("StreamName")

    @property
    def attr_key_id(self) -> str:
        """``Fn::GetAtt KeyId``: the key as applied to the stream."""
        return self.resource.get_att_string("KeyId")

    @property
    def attr_encryption_type(self) -> str:
        """``Fn::GetAtt EncryptionType`` (``KMS``)."""
        return self.resource.get_att_string("EncryptionType")

    def _resolve_stream(
        self, stack: Stack, stream: kinesis.IStream | str, properties: dict[str, str]
    ) -> str:
        """Set StreamARN or StreamName and return the stream ARN for IAM."""
        if isinstance(stream, str):
            reference = parse_stream(stream)
            if reference.form is StreamForm.NAME:
                properties["StreamName"] = reference.value
                return stack.format_arn(
                    service="kinesis",
                    resource="stream",
                    resource_name=reference.value,
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                )
            stream_arn = reference.value
        else:
            self._warn_if_owned_and_encrypted(stream)
            stream_arn = stream.stream_arn
        self._warn_if_elsewhere(stack, stream_arn)
        properties["StreamARN"] = stream_arn
        return stream_arn

    def _resolve_key(
        self, stack: Stack, key: kms.IKey | str | None, properties: dict[str, str]
    ) -> None:
        """Set KeyId (omitted for the default key) and grant what that key needs."""
        if key is None:
            return
        if not isinstance(key, str):
            self._resolve_key_construct(stack, key, properties)
            return
        reference = parse_key(key)
        if reference.form is KeyForm.DEFAULT:
            # alias/aws/kinesis: Kinesis' own default; the docs say it needs no IAM from callers.
            return
        properties["KeyId"] = reference.value
        if reference.form is KeyForm.KEY_ARN:
            self._grant_key(reference.value)
        elif reference.form is KeyForm.KEY_ID:
            self._grant_key(self._key_arn(stack, reference.value))
        elif reference.form is KeyForm.ALIAS_NAME:
            self._grant_key(self._key_arn(stack, "*"), alias_name=reference.value)
        else:  # ALIAS_ARN: the alias lives in the account and region its ARN names.
            any_key = f"arn:{reference.partition}:kms:{reference.region}:{reference.account}:key/*"
            self._grant_key(any_key, alias_name=reference.alias_name)

    def _resolve_key_construct(
        self, stack: Stack, key: kms.IKey, properties: dict[str, str]
    ) -> None:
        """A ``kms.IKey``; an alias is one too, but its ``key_arn`` is the alias ARN."""
        if isinstance(key, kms.Alias):
            # An alias of this app: its target key is known, so grant on that key alone.
            if key.alias_name == DEFAULT_KINESIS_KEY_ALIAS:
                return
            properties["KeyId"] = key.alias_name
            self._grant_key(key.alias_target_key.key_arn)
            return
        alias_name = getattr(key, "alias_name", None)  # an imported kms.IAlias
        if not isinstance(alias_name, str):
            properties["KeyId"] = key.key_arn
            self._grant_key(key.key_arn)
            return
        if alias_name == DEFAULT_KINESIS_KEY_ALIAS:
            return
        if Token.is_unresolved(alias_name):
            raise ValueError(
                "key: an imported alias whose name is a token cannot be scoped in IAM; "
                "pass the key (kms.Key.from_key_arn) instead"
            )
        properties["KeyId"] = alias_name
        self._grant_key(self._key_arn(stack, "*"), alias_name=alias_name)

    def _grant_key(self, key_resource: str, *, alias_name: str | None = None) -> None:
        """KMS for starting encryption, through Kinesis in the stream's region."""
        self.provider.grant_key(key_resource, region=self._stream_region, alias_name=alias_name)

    def _permissions_policy(
        self, stack: Stack, statements: list[iam.PolicyStatement]
    ) -> iam.Policy:
        """This resource's own Kinesis policy on the shared role, named after what it grants.

        Not the role's default policy: CloudFormation updates that in place *before* it deletes a
        removed or replaced resource (cleanup comes last), so the Delete that turns encryption
        off would find its permission already gone. A separate policy that the resource depends
        on is deleted after it; and because its id carries a digest of its statements, pointing
        the resource at another stream creates a new policy and keeps the old one until the old
        stream's Delete has run. (Key permissions are only needed to start encryption, so they
        go to the provider's default policy: see ``KinesisStreamEncryptionProvider.grant_key``.)
        """
        rendered = json.dumps(
            stack.resolve([s.to_json() for s in statements]), sort_keys=True, default=str
        )
        digest = hashlib.sha256(rendered.encode()).hexdigest()[:8]
        policy = iam.Policy(
            self, f"Permissions{digest}", roles=[self.provider.role], statements=statements
        )
        self.provider.add_resource_policy(policy)
        return policy

    def _key_arn(self, stack: Stack, key_id: str) -> str:
        """A key ARN (or ``key/*`` for an alias grant) for a key named without an ARN.

        Kinesis resolves a bare key id or ``alias/Name`` in the stream's account and region, which
        for a stream given by ARN may differ from the stack's region.
        """
        return stack.format_arn(
            service="kms",
            resource="key",
            resource_name=key_id,
            region=self._stream_region,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )

    def _warn_if_owned_and_encrypted(self, stream: kinesis.IStream) -> None:
        """Two owners of one setting: the stream's own StreamEncryption and this resource."""
        if not isinstance(stream, kinesis.Stream):
            return
        cfn_stream = stream.node.default_child
        if isinstance(cfn_stream, kinesis.CfnStream) and cfn_stream.stream_encryption is not None:
            Annotations.of(self).add_warning_v2(
                f"{_WARNING_PREFIX}:streamHasOwnEncryption",
                f"Stream {stream.node.path} is defined in this app with its own encryption "
                "setting (kinesis.Stream encryption, which is MANAGED by default); this resource "
                "and AWS::Kinesis::Stream.StreamEncryption would both own it and undo each other. "
                "Set the key on the stream instead, or create it with "
                "encryption=StreamEncryption.UNENCRYPTED.",
            )

    def _warn_if_elsewhere(self, stack: Stack, stream_arn: str) -> None:
        """The function's role can only manage streams of its own account.

        (Another region is fine: the handler calls Kinesis in the region the stream ARN names.)
        """
        parts = stream_arn_parts(stream_arn)
        if parts is None:
            return
        _, account = parts
        if not Token.is_unresolved(stack.account) and account != stack.account:
            Annotations.of(self).add_warning_v2(
                f"{_WARNING_PREFIX}:streamInOtherAccount",
                f"Stream {stream_arn} is in account {account}, not the stack's {stack.account}; "
                "the provider function's role cannot change another account's stream encryption.",
            )

    def _check_service_timeout(self, timeout: Duration) -> None:
        """ServiceTimeout must be 1..3600 s; below the function timeout it cuts waits short."""
        seconds = timeout.to_seconds()
        if Token.is_unresolved(seconds):
            return
        if seconds < 1 or seconds > MAX_SERVICE_TIMEOUT.to_seconds() or seconds != int(seconds):
            raise ValueError(
                f"service_timeout must be a whole number of seconds from 1 to 3600, got {seconds}"
            )
        if seconds <= self.provider.function_timeout.to_seconds():
            Annotations.of(self).add_warning_v2(
                f"{_WARNING_PREFIX}:serviceTimeoutBelowFunctionTimeout",
                f"service_timeout {seconds:g} s is not above the function timeout "
                f"({self.provider.function_timeout.to_seconds():g} s): CloudFormation may stop "
                "waiting while the function is still working.",
            )
