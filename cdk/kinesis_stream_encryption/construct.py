"""``KinesisStreamEncryption``: SSE-KMS on a Kinesis stream this stack does not own.

A stack that owns its stream should set ``kinesis.Stream(encryption=...)`` instead; this construct
is for streams imported by ARN or name (created by another team, tool, or by hand). It declares a
``Custom::KinesisStreamEncryption`` served by the stack's single shared provider Lambda and adds
to that Lambda's role only what this one resource needs.
"""

from __future__ import annotations

import hashlib
import json
import weakref

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
from constructs import Construct, IConstruct

from .provider import (
    DEFAULT_SERVICE_TIMEOUT,
    MAX_SERVICE_TIMEOUT,
    RESOURCE_TYPE,
    DriftCheck,
    KinesisStreamEncryptionProvider,
    key_statements,
    stream_statements,
)
from .references import (
    DEFAULT_KINESIS_KEY_ALIAS,
    KeyForm,
    StreamForm,
    StreamLocation,
    StreamName,
    arn_location,
    literal_or_none,
    parse_key,
    parse_stream,
)

_WARNING_PREFIX = "kinesis-stream-encryption"
#: Removal policies CloudFormation accepts on a custom resource (Snapshot is for a few types).
ACCEPTED_REMOVAL_POLICIES = (
    RemovalPolicy.DESTROY,
    RemovalPolicy.RETAIN,
    RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
)
# Streams claimed so far, per app (keyed by the root construct): (location, construct path).
_CLAIMS: weakref.WeakKeyDictionary[IConstruct, list[tuple[StreamLocation, str]]] = (
    weakref.WeakKeyDictionary()
)


class KinesisStreamEncryption(Construct):
    """Turn on Kinesis Data Streams server-side encryption (SSE-KMS) on an existing stream.

    :param stream: a ``kinesis.IStream`` (``Stream.from_stream_arn``, ``from_stream_attributes``,
        a stream of another stack of the app), a stream ARN (``arn:...``, tokens inside allowed),
        a stream name in the stack's own account and region, or ``StreamName(token)`` for a name
        held in a token (a string that is one whole token is refused: it could be either).
    :param key: a ``kms.IKey`` (or ``kms.IAlias``), a key ARN, alias ARN, key id, or
        ``alias/Name``; ``None`` means the AWS managed key ``alias/aws/kinesis`` (which needs no
        KMS permissions). The key must be in the stream's region, and its policy must let this
        account's IAM policies grant its use (the default key policy does).
    :param removal_policy: ``DESTROY`` gives the stream back as it was before its first owner
        when the resource is deleted (unencrypted again, or its earlier key);
        ``RETAIN`` (or ``RETAIN_ON_UPDATE_OR_DELETE``) leaves this encryption on. ``SNAPSHOT`` is
        refused.
    :param service_timeout: how long CloudFormation waits for the resource (1 s to 1 h); the
        default sits a little above the function timeout. Raise it for streams whose updates may
        take long: the function hands long waits over to itself within this budget.
    :param powertools_layer: overrides the Powertools layer resolved from the public SSM
        parameter (e.g. for partitions where it is published under other names).
    :param tracing: X-Ray active tracing and the Powertools Tracer in the shared function (off
        by default; see ``KinesisStreamEncryptionProvider``). Same value for a whole stack.
    :param stream_name_prefix: for many streams in one stack: grant the Kinesis actions once on
        streams whose names start with it instead of per stream (see the provider). Same value
        for a whole stack; every stream's name must start with it.
    :param drift_check: opt-in scheduled check (and optional repair) of the streams the stack's
        resources encrypted, with an alarm (see ``DriftCheck``). Same value for a whole stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stream: kinesis.IStream | str | StreamName,
        key: kms.IKey | str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        service_timeout: Duration | None = None,
        powertools_layer: lambda_.ILayerVersion | None = None,
        tracing: bool = False,
        stream_name_prefix: str | None = None,
        drift_check: DriftCheck | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if removal_policy not in ACCEPTED_REMOVAL_POLICIES:
            raise ValueError(
                f"removal_policy {removal_policy} is not accepted by CloudFormation on a custom "
                "resource; use DESTROY (give the stream back as it was, on delete) or RETAIN "
                "(leave the encryption on)"
            )
        stack = Stack.of(self)
        self.provider = KinesisStreamEncryptionProvider.of(
            self,
            powertools_layer=powertools_layer,
            tracing=tracing,
            stream_name_prefix=stream_name_prefix,
            drift_check=drift_check,
        )
        properties: dict[str, str] = {}

        self.stream_arn, self.location = self._resolve_stream(stack, stream, properties)
        stream_region = Arn.split(self.stream_arn, ArnFormat.SLASH_RESOURCE_NAME).region
        self._stream_region = stream_region or stack.region
        self.provider.add_drift_region(self._stream_region)
        self._check_account(stack)
        self._claim_stream()
        if self.provider.stream_name_prefix is None:
            self.policy = self._permissions_policy(stack, stream_statements(self.stream_arn))
        else:
            self._check_prefix(self.provider.stream_name_prefix)
            self.policy = self.provider.prefix_policy()
        self._resolve_key(stack, key, properties)
        if self.provider.stream_name_prefix is None:
            self.provider.add_resource_policy(self.policy)
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
        # The policies must exist before the first request; the stream's must outlive the last
        # Delete (CloudFormation deletes a resource before what it depends on).
        self.resource.node.add_dependency(
            self.policy,
            self.provider.invoke_self_policy,
            self.provider.ownership_policy,
            *self.provider.key_policies,
        )

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
        self,
        stack: Stack,
        stream: kinesis.IStream | str | StreamName,
        properties: dict[str, str],
    ) -> tuple[str, StreamLocation]:
        """Set StreamARN or StreamName; return the stream ARN for IAM and where the stream is."""
        if isinstance(stream, str | StreamName):
            reference = parse_stream(stream)
            if reference.form is StreamForm.NAME:
                properties["StreamName"] = reference.value
                arn = stack.format_arn(
                    service="kinesis",
                    resource="stream",
                    resource_name=reference.value,
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                )
                if Token.is_unresolved(reference.value):
                    return arn, StreamLocation(token=_token_key(stack, reference.value))
                return arn, StreamLocation(
                    name=reference.value,
                    account=literal_or_none(stack.account),
                    region=literal_or_none(stack.region),
                )
            stream_arn = reference.value
            location = arn_location(stream_arn) or StreamLocation(
                token=_token_key(stack, stream_arn)
            )
        else:
            if self._has_own_encryption(stream):
                Annotations.of(self).add_warning_v2(
                    f"{_WARNING_PREFIX}:streamHasOwnEncryption",
                    f"Stream {stream.node.path} is defined in this app with its own encryption "
                    "setting (kinesis.Stream encryption, which is MANAGED by default); this "
                    "resource and AWS::Kinesis::Stream.StreamEncryption would both own it and "
                    "undo each other. Set the key on the stream instead, or create it with "
                    "encryption=StreamEncryption.UNENCRYPTED.",
                )
            stream_arn = stream.stream_arn
            if isinstance(stream, kinesis.Stream):
                location = StreamLocation(token=f"construct:{stream.node.path}")
            else:
                location = arn_location(stream_arn) or StreamLocation(
                    token=_token_key(Stack.of(stream), stream_arn)
                )
        properties["StreamARN"] = stream_arn
        return stream_arn, location

    @staticmethod
    def _has_own_encryption(stream: kinesis.IStream) -> bool:
        """Whether a stream of this app sets AWS::Kinesis::Stream.StreamEncryption.

        Without an ``encryption`` argument CDK sets it to a condition (MANAGED except in the
        China regions): a token that cannot cross into Python, so unreadable means "set".
        """
        if not isinstance(stream, kinesis.Stream):
            return False
        cfn_stream = stream.node.default_child
        if not isinstance(cfn_stream, kinesis.CfnStream):
            return False
        try:
            return cfn_stream.stream_encryption is not None
        except RuntimeError:  # jsii: a conditional (Fn::If) value, i.e. CDK's default
            return True

    def _check_account(self, stack: Stack) -> None:
        """The function's role can only manage streams of the account it is deployed to."""
        account = self.location.account if self.location.token is None else None
        if account is None or account == literal_or_none(stack.account):
            return
        if Token.is_unresolved(stack.account):
            Annotations.of(self).add_warning_v2(
                f"{_WARNING_PREFIX}:streamAccountUnchecked",
                f"Stream {self.stream_arn} is in account {account}, and stack "
                f"{stack.stack_name} is environment-agnostic: the provider function can only "
                f"change streams of the account it is deployed to. Deploy it to {account} (give "
                "the stack env=Environment(account=...) to have this checked at synth).",
            )
            return
        Annotations.of(self).add_warning_v2(
            f"{_WARNING_PREFIX}:streamInOtherAccount",
            f"Stream {self.stream_arn} is in account {account}, not the stack's {stack.account}; "
            "the provider function's role cannot change another account's stream encryption.",
        )

    def _claim_stream(self) -> None:
        """Two resources on one stream, anywhere in the app, would undo each other's key and
        share the stream's 25 key changes a day: name the other one at synth."""
        claims = _CLAIMS.setdefault(self.node.root, [])
        for location, path in claims:
            if location.may_be_same(self.location):
                certain = location.is_certainly_same(self.location)
                Annotations.of(self).add_warning_v2(
                    f"{_WARNING_PREFIX}:streamEncryptedTwice",
                    f"{path} {'encrypts the same stream' if certain else 'may encrypt the same'}"
                    f" stream ({self.stream_arn}) as this resource: two resources on one stream "
                    "undo each other and use up its 25 key changes a day. Keep one of them.",
                )
                break
        claims.append((self.location, self.node.path))

    def _check_prefix(self, prefix: str) -> None:
        """With ``stream_name_prefix`` the role reaches only streams whose names start with it."""
        name = self.location.name
        if self.location.token is None and name is not None:
            if not name.startswith(prefix):
                raise ValueError(
                    f"stream {name!r} does not start with stream_name_prefix {prefix!r}: the "
                    "provider role may manage only streams whose names start with it"
                )
            return
        Annotations.of(self).add_warning_v2(
            f"{_WARNING_PREFIX}:streamNameUnchecked",
            f"The name of stream {self.stream_arn} is not known at synth; the provider role may "
            f"manage only streams whose names start with {prefix!r}.",
        )

    def _resolve_key(
        self, stack: Stack, key: kms.IKey | str | None, properties: dict[str, str]
    ) -> None:
        """Set KeyId (omitted for the default key) and grant what that key needs."""
        if key is None:
            return
        if not isinstance(key, str):
            self._check_key_region(_key_construct_region(key), key.node.path)
            self._resolve_key_construct(stack, key, properties)
            return
        reference = parse_key(key)
        self._check_key_region(reference.region, key)
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

    def _check_key_region(self, key_region: str | None, key: str) -> None:
        """Kinesis encrypts a stream only with a key of the stream's own region."""
        stream_region = self.location.region if self.location.token is None else None
        if key_region is not None and stream_region is not None and key_region != stream_region:
            raise ValueError(
                f"key {key} is in region {key_region}, but stream {self.stream_arn} is in "
                f"{stream_region}: Kinesis can use only a key of the stream's region"
            )

    def _grant_key(self, key_resource: str, *, alias_name: str | None = None) -> None:
        """KMS for starting encryption: through Kinesis in the stream's region, for this stream
        (the ``aws:kinesis:arn`` encryption context), or for the prefix's streams."""
        if self.provider.stream_name_prefix is not None:
            self.provider.grant_key_for_prefix(
                key_resource, region=self._stream_region, alias_name=alias_name
            )
            return
        self.policy.add_statements(
            *key_statements(
                key_resource,
                region=self._stream_region,
                url_suffix=Stack.of(self).url_suffix,
                alias_name=alias_name,
                stream_arn=self.stream_arn,
            )
        )

    def _permissions_policy(
        self, stack: Stack, statements: list[iam.PolicyStatement]
    ) -> iam.Policy:
        """This resource's own Kinesis policy on the shared role, named after what it grants.

        Not the role's default policy: CloudFormation updates that in place *before* it deletes a
        removed or replaced resource (cleanup comes last), so the Delete that turns encryption
        off would find its permission already gone. A separate policy that the resource depends
        on is deleted after it; and because its id carries a digest of its statements, pointing
        the resource at another stream creates a new policy and keeps the old one until the old
        stream's Delete has run. The key statements (only Start needs them) are added to it too,
        outside the digest: a key change updates the policy in place.
        """
        rendered = json.dumps(
            stack.resolve([s.to_json() for s in statements]), sort_keys=True, default=str
        )
        digest = hashlib.sha256(rendered.encode()).hexdigest()[:8]
        return iam.Policy(
            self, f"Permissions{digest}", roles=[self.provider.role], statements=statements
        )

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

    def _check_service_timeout(self, timeout: Duration) -> None:
        """ServiceTimeout must be 1..3600 s; below the function timeout it cuts waits short."""
        seconds = timeout.to_seconds()
        if Token.is_unresolved(seconds):
            return
        if seconds < 1 or seconds > MAX_SERVICE_TIMEOUT.to_seconds() or seconds != int(seconds):
            raise ValueError(
                "service_timeout must be a whole number of seconds from 1 to "
                f"{MAX_SERVICE_TIMEOUT.to_seconds():g}, got {seconds}"
            )
        if seconds <= self.provider.function_timeout.to_seconds():
            Annotations.of(self).add_warning_v2(
                f"{_WARNING_PREFIX}:serviceTimeoutBelowFunctionTimeout",
                f"service_timeout {seconds:g} s is not above the function timeout "
                f"({self.provider.function_timeout.to_seconds():g} s): CloudFormation may stop "
                "waiting while the function is still working.",
            )


def _token_key(stack: Stack, value: str) -> str:
    """Identify a stream known only by a token: its resolved form, within its stack (a Ref means
    something else in another stack) unless it is an import, which is the same everywhere."""
    text = json.dumps(stack.resolve(value), sort_keys=True, default=str)
    if '"Fn::ImportValue"' in text and '"Ref"' not in text:
        return text
    return f"{stack.node.path}|{text}"


def _key_construct_region(key: kms.IKey) -> str | None:
    """The region of a key construct when synthesis knows it: a key or alias of this app lives
    in its stack's region, an imported key in the one its ARN names. An imported alias (a name
    only) says nothing: Kinesis resolves it in the stream's region."""
    if isinstance(key, kms.Key | kms.Alias):
        return literal_or_none(Stack.of(key).region)
    if isinstance(getattr(key, "alias_name", None), str) or Token.is_unresolved(key.key_arn):
        return None
    try:
        return parse_key(key.key_arn).region
    except ValueError:
        return None
