"""The Lambda that serves ``Custom::KinesisStreamEncryption``, with its role and log group.

One provider per stack serves any number of resources (see ``KinesisStreamEncryptionProvider.of``);
each resource adds only the IAM it needs (its stream and its key, for that stream, in a policy of
its own), so the role never holds ``Resource: "*"`` for Kinesis or KMS. IAM's quotas are checked
at synth; past them ``stream_name_prefix`` grants by prefix instead. The same class backs the
plain-CloudFormation provider stack (``grant_stream``/``grant_key`` on a prefix pattern).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jsii
from aws_cdk import (
    Acknowledgment,
    Annotations,
    ArnFormat,
    Duration,
    IStableStringProducer,
    Lazy,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct, IValidation

#: Powertools for AWS Lambda (Python) version pinned in uv.lock; the layer must match it.
POWERTOOLS_VERSION = "3.37.0"
#: CloudFormation resource type served by the provider.
RESOURCE_TYPE = "Custom::KinesisStreamEncryption"
#: Construct id of the per-stack singleton provider.
PROVIDER_ID = "KinesisStreamEncryptionProvider"
#: Handler string inside the asset (``lambda_src/handler.py``, function ``lambda_handler``).
HANDLER = "handler.lambda_handler"
#: Function timeout: long waits are handed to a fresh async invocation before this deadline.
FUNCTION_TIMEOUT = Duration.minutes(5)
#: Default CloudFormation ServiceTimeout: a little above the function timeout, so a crashed
#: invocation fails the stack in minutes instead of CloudFormation's default hour.
DEFAULT_SERVICE_TIMEOUT = Duration.minutes(6)
#: CloudFormation accepts ServiceTimeout from 1 to 3600 seconds.
MAX_SERVICE_TIMEOUT = Duration.hours(1)

#: What the function calls on a stream (Create/Update/Delete, waits via the summary: 20 TPS,
#: unlike DescribeStream's 10 TPS; the ownership tags: read before any change, written on
#: Create/Update, removed on Delete).
STREAM_ACTIONS = (
    "kinesis:DescribeStreamSummary",
    "kinesis:StartStreamEncryption",
    "kinesis:StopStreamEncryption",
    "kinesis:ListTagsForStream",
    "kinesis:AddTagsToStream",
    "kinesis:RemoveTagsFromStream",
)
#: Read-only: does the stack that owns a stream still have the owning resource?
OWNER_LOOKUP_ACTIONS = ("cloudformation:DescribeStackResources",)
#: What Kinesis needs of a stream's prior customer managed key to give it back on Delete.
PRIOR_KEY_ACTIONS = ("kms:DescribeKey", "kms:GenerateDataKey")

#: IAM quota: all inline policies of one role together, in non-whitespace characters.
ROLE_INLINE_POLICIES_LIMIT = 10_240
#: IAM quota: one customer managed policy, in non-whitespace characters.
MANAGED_POLICY_LIMIT = 6_144
#: IAM quota: managed policies attached to one role (the default; it can be raised to 20).
MANAGED_POLICIES_PER_ROLE = 10
#: The warning comes at this share of the inline quota, before synthesis has to fail.
_WARN_SHARE = 0.8

#: Left out of the Lambda asset: bytecode caches would change its hash on every test run.
ASSET_EXCLUDE = (
    "__pycache__",
    "**/__pycache__",
    "*.pyc",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
)


def powertools_layer_parameter_name(version: str = POWERTOOLS_VERSION) -> str:
    """Public SSM parameter holding the Powertools layer ARN for arm64 / Python 3.14."""
    return f"/aws/service/powertools/python/arm64/python3.14/{version}"


def lambda_code_dir() -> Path:
    """Locate the Lambda source: next to this module in a wheel, at the repo root otherwise."""
    here = Path(__file__).resolve().parent
    candidates = (here / "lambda_src", here.parent.parent / "lambda_src")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"Lambda source directory not found (looked in {searched})")


class PolicySizes(NamedTuple):
    """IAM characters the provider role needs, as computed at synth (see ``policy_sizes``).

    (A NamedTuple, not a dataclass: this module is also loaded stand-alone from a wheel layout.)
    """

    inline: int  # all inline policies of the role together
    managed: tuple[int, ...]  # each customer managed policy attached to it


class KinesisStreamEncryptionProvider(Construct):
    """The function, role and log group behind ``Custom::KinesisStreamEncryption``.

    Use ``KinesisStreamEncryptionProvider.of(scope)`` to share one per stack; instantiate it
    directly only for a stand-alone provider (e.g. one exported for plain CloudFormation).

    :param tracing: Lambda active tracing plus the Powertools Tracer (X-Ray SDK) in the function,
        and the ``xray:*`` write permissions (which take no resource scope). Off by default: the
        SDK is then never imported (a third of the cold start), and it reaches end of support on
        2027-02-25.
    :param stream_name_prefix: for fleets: grant the Kinesis actions once on the account's streams
        whose names start with this prefix (any region), and the customer managed keys' KMS
        statements in managed policies of at most 6,144 characters, instead of one policy per
        resource. Per-stream policies are the default; synthesis fails and names this option when
        they would not fit the role's 10,240-character inline quota.
    :param drift_check: opt-in: a schedule that makes the function check the streams it encrypted
        (and, with ``repair``, restore their key), an alarm on ``EncryptionDrift``, and the IAM
        for it (``kinesis:ListStreams`` on ``*``, which cannot be scoped; ListTagsForStream on
        each stream as granted for the others). See ``DriftCheck``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        powertools_layer: lambda_.ILayerVersion | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        tracing: bool = False,
        stream_name_prefix: str | None = None,
        restore_prior_keys: bool = True,
        drift_check: DriftCheck | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if stream_name_prefix is not None and not re.fullmatch(
            r"[a-zA-Z0-9_.-]{1,127}", stream_name_prefix
        ):
            raise ValueError(
                f"stream_name_prefix {stream_name_prefix!r} must be 1-127 stream-name characters "
                "(a-z, A-Z, 0-9, '_', '.', '-'); an empty prefix would grant every stream"
            )
        self._powertools_layer_override = powertools_layer
        self.tracing = tracing
        self.stream_name_prefix = stream_name_prefix
        self._resource_policies: list[iam.Policy] = []
        self._warned_policy_size = False
        self._key_grants: dict[str, iam.Grant] = {}
        self._shared_kms: dict[str, list[iam.PolicyStatement]] = {}
        self.key_policies: list[iam.ManagedPolicy] = []
        self._prefix_policy: iam.Policy | None = None
        self.drift_check = drift_check
        self._drift_regions: list[str] = []
        self.drift_check_policy: iam.Policy | None = None
        self.drift_alarm: cloudwatch.Alarm | None = None
        self.drift_schedule: events.Rule | None = None

        # A role of our own rather than AWSLambdaBasicExecutionRole: logs are granted on this
        # function's log group only, and every other statement is added per resource.
        self.role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Kinesis stream encryption custom resource provider",
        )
        self.log_group = logs.LogGroup(self, "LogGroup", retention=log_retention)
        self.log_group.grant_write(self.role)

        self.powertools_layer = powertools_layer or lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            # Resolved at deploy time in the stack's own region and partition.
            ssm.StringParameter.value_for_string_parameter(self, powertools_layer_parameter_name()),
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description="Turns on Kinesis Data Streams SSE-KMS (Custom::KinesisStreamEncryption)",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(lambda_code_dir()), exclude=list(ASSET_EXCLUDE)),
            timeout=FUNCTION_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
            # Active tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role.
            tracing=lambda_.Tracing.ACTIVE if tracing else None,
            layers=[self.powertools_layer],
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # The handler imports the X-Ray SDK only when this says tracing is on.
                "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
            },
            # CloudFormation invokes asynchronously, and so does the hand-over. A crashed
            # invocation is retried (the handler is idempotent); an event older than the
            # longest ServiceTimeout is useless because CloudFormation has stopped waiting.
            retry_attempts=2,
            max_event_age=MAX_SERVICE_TIMEOUT,
        )

        # The hand-over invokes the function itself. A separate policy (not the role's default
        # policy, which the function depends on) can reference the function's ARN without a
        # cycle; resources depend on it so the permission exists before their first request.
        self.invoke_self_policy = iam.Policy(
            self,
            "InvokeSelfPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=[self.function.function_arn],
                )
            ],
        )
        self.ownership_policy = iam.Policy(
            self,
            "OwnershipPolicy",
            roles=[self.role],
            statements=ownership_statements(self, restore_prior_keys=restore_prior_keys),
        )
        if drift_check is not None:
            self._add_drift_check(drift_check)
        self.node.add_validation(_QuotaCheck(self))

    @classmethod
    def of(
        cls,
        scope: Construct,
        *,
        powertools_layer: lambda_.ILayerVersion | None = None,
        tracing: bool = False,
        stream_name_prefix: str | None = None,
        drift_check: DriftCheck | None = None,
    ) -> KinesisStreamEncryptionProvider:
        """Find or create the stack's single provider (like ``lambda.SingletonFunction``).

        Every resource of a stack shares it, so every resource must ask for the same options.
        """
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if existing is None:
            return cls(
                stack,
                PROVIDER_ID,
                powertools_layer=powertools_layer,
                tracing=tracing,
                stream_name_prefix=stream_name_prefix,
                drift_check=drift_check,
            )
        if not isinstance(existing, cls):
            raise ValueError(
                f"construct id {PROVIDER_ID!r} in stack {stack.stack_name!r} is taken by "
                f"{type(existing).__name__}; it is reserved for the shared provider"
            )
        if (
            powertools_layer is not None
            and existing._powertools_layer_override is not powertools_layer
        ):
            raise ValueError(
                "the stack's shared KinesisStreamEncryption provider already exists with another "
                "Powertools layer; pass the same powertools_layer to every resource in a stack"
            )
        for option, wanted, present in (
            ("tracing", tracing, existing.tracing),
            ("stream_name_prefix", stream_name_prefix, existing.stream_name_prefix),
            ("drift_check", drift_check, existing.drift_check),
        ):
            if wanted != present:
                raise ValueError(
                    f"the stack's shared KinesisStreamEncryption provider already exists with "
                    f"{option}={present!r}; pass the same {option} to every resource in a stack "
                    f"(got {wanted!r})"
                )
        return existing

    @property
    def service_token(self) -> str:
        """The ServiceToken for ``Custom::KinesisStreamEncryption`` (the function ARN)."""
        return self.function.function_arn

    @property
    def function_timeout(self) -> Duration:
        """The function's own timeout (the default ServiceTimeout sits a little above it)."""
        return FUNCTION_TIMEOUT

    @property
    def prefix_stream_arn(self) -> str | None:
        """With ``stream_name_prefix``: the stream ARN pattern the role may manage."""
        if self.stream_name_prefix is None:
            return None
        return Stack.of(self).format_arn(
            service="kinesis",
            region="*",
            resource="stream",
            resource_name=f"{self.stream_name_prefix}*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )

    def prefix_policy(self) -> iam.Policy:
        """With ``stream_name_prefix``: the one policy holding the Kinesis actions on the pattern.

        It never changes when a resource is added or removed, so a removed resource's Delete
        (which CloudFormation runs in the cleanup phase, after every policy update) still has it.
        """
        pattern = self.prefix_stream_arn
        if pattern is None or self.stream_name_prefix is None:
            raise ValueError("prefix_policy needs stream_name_prefix")
        if self._prefix_policy is None:
            # Named after the prefix: a new prefix is a new policy, and the old one stays until
            # the cleanup phase, where the Deletes of resources removed with it run first.
            digest = hashlib.sha256(self.stream_name_prefix.encode()).hexdigest()[:8]
            self._prefix_policy = iam.Policy(
                self,
                f"PrefixStreamsPolicy{digest}",
                roles=[self.role],
                statements=stream_statements(pattern),
            )
        return self._prefix_policy

    def add_resource_policy(self, policy: iam.Policy) -> None:
        """Record a resource's own policy on the role; warn once the role's quota is near.

        Every resource's policy is inline on the one shared role, and IAM caps a role's inline
        policies at 10,240 characters together. The warning comes at 80 %; past 100 % synthesis
        fails (``_QuotaCheck``) and names ``stream_name_prefix``.
        """
        self._resource_policies.append(policy)
        if self._warned_policy_size:
            return
        total = self.policy_sizes().inline
        if total > _WARN_SHARE * ROLE_INLINE_POLICIES_LIMIT:
            self._warned_policy_size = True
            stack = Stack.of(self)
            Annotations.of(self).add_warning_v2(
                "kinesis-stream-encryption:rolePolicySize",
                f"The {len(self._resource_policies)} KinesisStreamEncryption resources of stack "
                f"{stack.stack_name} need about {total} characters of inline IAM policy on the "
                f"shared provider role; IAM allows {ROLE_INLINE_POLICIES_LIMIT}. Past that, "
                "synthesis fails: pass stream_name_prefix= (one grant on the streams whose names "
                "start with it) or spread the resources over more stacks.",
            )

    def policy_sizes(self) -> PolicySizes:
        """Characters IAM will count on the role: inline policies together, each managed one.

        Intrinsics are sized as ARNs (``estimated_policy_chars``), so the figure errs high.
        """
        stack = Stack.of(self)
        inline_documents = [p.document for p in self._resource_policies]
        inline_documents.append(self.invoke_self_policy.document)
        inline_documents.append(self.ownership_policy.document)
        if self._prefix_policy is not None:
            inline_documents.append(self._prefix_policy.document)
        if self.drift_check_policy is not None:
            inline_documents.append(self.drift_check_policy.document)
        default_policy = self.role.node.try_find_child("DefaultPolicy")
        if isinstance(default_policy, iam.Policy):
            inline_documents.append(default_policy.document)
        inline = sum(estimated_policy_chars(stack.resolve(d.to_json())) for d in inline_documents)
        managed = tuple(
            estimated_policy_chars(stack.resolve(p.document.to_json())) for p in self.key_policies
        )
        return PolicySizes(inline, managed)

    # -- drift check ---------------------------------------------------------------------------

    def add_drift_region(self, region: str) -> None:
        """A stream of this region is encrypted through the provider: the check serves it."""
        if region not in self._drift_regions:
            self._drift_regions.append(region)

    def _drift_regions_value(self) -> str:
        regions = self._drift_regions or [Stack.of(self).region]
        return ",".join(regions)

    def _add_drift_check(self, check: DriftCheck) -> None:
        """The schedule, the alarm, the function's settings and the unscopable ListStreams."""
        schedule = events.Schedule.rate(check.schedule)
        self.function.add_environment(DRIFT_PERIOD_ENV, str(int(check.schedule.to_seconds())))
        self.function.add_environment(
            DRIFT_REGIONS_ENV,
            ",".join(check.regions) if check.regions else Lazy.string(_DriftRegions(self)),
        )
        self.drift_check_policy = iam.Policy(
            self,
            "DriftCheckPolicy",
            roles=[self.role],
            statements=[iam.PolicyStatement(actions=["kinesis:ListStreams"], resources=["*"])],
        )
        Validations.of(self.drift_check_policy).acknowledge(
            Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=LIST_STREAMS_REASON)
        )
        self.drift_schedule = events.Rule(
            self,
            "DriftCheckSchedule",
            description="Checks that the streams this provider encrypted still are",
            schedule=schedule,
            targets=[
                events_targets.LambdaFunction(
                    self.function,
                    event=events.RuleTargetInput.from_object(drift_check_event(check.repair)),
                    # The next scheduled check comes soon enough: never two at once.
                    retry_attempts=0,
                )
            ],
        )
        self.drift_alarm = cloudwatch.Alarm(
            self,
            "EncryptionDriftAlarm",
            alarm_description="A stream encrypted by Custom::KinesisStreamEncryption lost its "
            "encryption or key outside CloudFormation; the function's log names it.",
            metric=drift_metric(check.schedule),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if check.alarm_topic is not None:
            self.drift_alarm.add_alarm_action(cloudwatch_actions.SnsAction(check.alarm_topic))

    def grant_stream(self, stream_arn: str) -> iam.Grant:
        """Grant ``STREAM_ACTIONS`` on a stream ARN (or pattern) in the role's default policy.

        For a stand-alone provider, whose streams are not resources of its own stack.
        """
        return iam.Grant.add_to_principal(
            grantee=self.role, actions=list(STREAM_ACTIONS), resource_arns=[stream_arn]
        )

    def grant_key(
        self,
        key_resource: str,
        *,
        region: str,
        alias_name: str | None = None,
        stream_arn_pattern: str | None = None,
    ) -> iam.Grant:
        """Grant ``key_statements`` in the role's default policy (for a stand-alone provider).

        Identical statements are added once; the returned grant covers the GenerateDataKey
        statement (the one Kinesis uses on the role's behalf).
        """
        stack = Stack.of(self)
        grants = []
        for statement in key_statements(
            key_resource,
            region=region,
            url_suffix=stack.url_suffix,
            alias_name=alias_name,
            stream_arn=stream_arn_pattern,
        ):
            rendered = json.dumps(stack.resolve(statement.to_json()), sort_keys=True, default=str)
            if rendered not in self._key_grants:  # the same grant again: return the first one
                self._key_grants[rendered] = iam.Grant.add_to_principal(
                    grantee=self.role,
                    actions=list(statement.actions),
                    resource_arns=list(statement.resources),
                    conditions=statement.conditions or None,
                )
            grants.append(self._key_grants[rendered])
        return grants[-1]

    def grant_key_for_prefix(
        self, key_resource: str, *, region: str, alias_name: str | None = None
    ) -> None:
        """With ``stream_name_prefix``: add a key to the shared KMS statements.

        One DescribeKey and one GenerateDataKey statement per (region, alias) hold every key's
        ARN, in customer managed policies of at most 6,144 characters (a new one is started
        when the next key ARN would not fit). Key permissions are needed only to start
        encryption, never by a Delete, so they may move between these policies freely.
        """
        pattern = self.prefix_stream_arn
        if pattern is None:
            raise ValueError("grant_key_for_prefix needs stream_name_prefix")
        stack = Stack.of(self)
        rendered_key = json.dumps(stack.resolve(key_resource), default=str)
        group = f"{json.dumps(stack.resolve(region), default=str)}|{alias_name}"
        for index, _policy in enumerate(self.key_policies):
            statements = self._shared_kms.get(f"{index}|{group}")
            if statements is not None and rendered_key in json.dumps(
                stack.resolve([list(s.resources) for s in statements]), default=str
            ):
                return  # this key is granted already
        arn_chars = estimated_policy_chars(stack.resolve(key_resource)) + 3  # quotes and comma
        index = len(self.key_policies) - 1
        statements = self._shared_kms.get(f"{index}|{group}") if index >= 0 else None
        if index >= 0:
            used = estimated_policy_chars(
                stack.resolve(self.key_policies[index].document.to_json())
            )
            needed = 2 * arn_chars if statements is not None else _NEW_KEY_STATEMENTS_CHARS
            if used + needed > MANAGED_POLICY_LIMIT:
                index, statements = -1, None
        if index < 0:
            index = len(self.key_policies)
            self.key_policies.append(
                iam.ManagedPolicy(self, f"KeyPolicy{index + 1}", roles=[self.role])
            )
        if statements is None:
            statements = key_statements(
                key_resource,
                region=region,
                url_suffix=stack.url_suffix,
                alias_name=alias_name,
                stream_arn=pattern,
            )
            self.key_policies[index].add_statements(*statements)
            self._shared_kms[f"{index}|{group}"] = statements
            return
        for statement in statements:
            statement.add_resources(key_resource)


#: Room kept for a new pair of KMS statements (conditions included) in a managed policy.
_NEW_KEY_STATEMENTS_CHARS = 900


@jsii.implements(IValidation)
class _QuotaCheck:
    """Fails synthesis when the role's IAM would not fit IAM's quotas (before any deploy)."""

    def __init__(self, provider: KinesisStreamEncryptionProvider) -> None:
        self._provider = provider

    def validate(self) -> list[str]:
        sizes = self._provider.policy_sizes()
        errors: list[str] = []
        if sizes.inline > ROLE_INLINE_POLICIES_LIMIT:
            errors.append(
                f"The KinesisStreamEncryption provider role needs about {sizes.inline} characters "
                f"of inline IAM policy; IAM allows {ROLE_INLINE_POLICIES_LIMIT} per role. Pass "
                "stream_name_prefix= to every KinesisStreamEncryption of the stack (one grant on "
                "the streams whose names start with it, keys in managed policies), or spread the "
                "resources over more stacks."
            )
        for index, size in enumerate(sizes.managed, start=1):
            if size > MANAGED_POLICY_LIMIT:
                errors.append(
                    f"KeyPolicy{index} needs about {size} characters; IAM allows "
                    f"{MANAGED_POLICY_LIMIT} per managed policy."
                )
        if len(sizes.managed) > MANAGED_POLICIES_PER_ROLE:
            errors.append(
                f"The provider role needs {len(sizes.managed)} managed policies for its keys; IAM "
                f"allows {MANAGED_POLICIES_PER_ROLE} per role by default. Use fewer distinct keys "
                "or spread the resources over more stacks."
            )
        return errors


def ownership_statements(
    scope: Construct, *, restore_prior_keys: bool = True
) -> list[iam.PolicyStatement]:
    """What ownership needs beyond a resource's own stream, the same for every resource.

    The stack that owns a stream may be in any region of the account, so DescribeStackResources
    is on the account's stacks everywhere (read-only). With ``restore_prior_keys``: the key a
    stream had before its first owner is known only at run time, so Kinesis may use any key of the
    account, but only on a request it makes (``kms:ViaService``) for a stream of the account (the
    ``aws:kinesis:arn`` encryption context), and the function can make such a request only for
    the streams it is granted. Without it, only the keys granted otherwise can be given back (a
    Delete leaves encryption on, with a warning, when it cannot). Constant, so a removed
    resource's Delete (in the cleanup phase) still has it.
    """
    stack = Stack.of(scope)

    def anywhere_in_account(service: str, resource: str, name: str) -> str:
        return stack.format_arn(
            service=service,
            region="*",
            resource=resource,
            resource_name=name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )

    stacks = anywhere_in_account("cloudformation", "stack", "*/*")
    any_key = anywhere_in_account("kms", "key", "*")
    any_stream = anywhere_in_account("kinesis", "stream", "*")
    owner_lookup = iam.PolicyStatement(actions=list(OWNER_LOOKUP_ACTIONS), resources=[stacks])
    if not restore_prior_keys:
        return [owner_lookup]
    return [
        owner_lookup,
        iam.PolicyStatement(
            actions=list(PRIOR_KEY_ACTIONS),
            resources=[any_key],
            conditions={
                "StringLike": {
                    "kms:ViaService": f"kinesis.*.{stack.url_suffix}",
                    "kms:EncryptionContext:aws:kinesis:arn": any_stream,
                }
            },
        ),
    ]


def stream_statements(stream_arn: str) -> list[iam.PolicyStatement]:
    """The Kinesis calls the handler makes, on one stream ARN (or ARN pattern) only."""
    return [iam.PolicyStatement(actions=list(STREAM_ACTIONS), resources=[stream_arn])]


def key_statements(
    key_resource: str,
    *,
    region: str,
    url_suffix: str,
    alias_name: str | None = None,
    stream_arn: str | None = None,
) -> list[iam.PolicyStatement]:
    """What Kinesis needs of a customer managed key when it enables SSE for the caller.

    ``key_resource`` is a key ARN or a ``key/*`` pattern; with ``alias_name`` the grant holds only
    for keys that carry that alias (``kms:ResourceAliases``, which matches however the request
    names the key, unlike ``kms:RequestAlias``). ``kms:GenerateDataKey`` is limited to requests
    Kinesis makes in the stream's ``region`` (``kms:ViaService`` = ``kinesis.<region>.<URL suffix
    of the partition>``) for the stream itself: ``stream_arn`` (an ARN, or a pattern with ``*``)
    becomes the ``aws:kinesis:arn`` encryption context Kinesis sends on every KMS call.
    ``kms:DescribeKey`` returns metadata only and stays unconditioned (but for the alias) so the
    function can also describe the key itself.
    """
    alias_condition: dict[str, dict[str, str]] = (
        {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias_name}}
        if alias_name is not None
        else {}
    )
    generate_conditions: dict[str, dict[str, str]] = {
        "StringEquals": {"kms:ViaService": f"kinesis.{region}.{url_suffix}"},
        **alias_condition,
    }
    if stream_arn is not None:
        context = {"kms:EncryptionContext:aws:kinesis:arn": stream_arn}
        if "*" in stream_arn:
            generate_conditions["StringLike"] = context
        else:
            generate_conditions["StringEquals"] = {
                **generate_conditions["StringEquals"],
                **context,
            }
    return [
        iam.PolicyStatement(
            actions=["kms:DescribeKey"],
            resources=[key_resource],
            conditions=alias_condition or None,
        ),
        iam.PolicyStatement(
            actions=["kms:GenerateDataKey"],
            resources=[key_resource],
            conditions=generate_conditions,
        ),
    ]


# The longest value each can take (aws-us-gov, us-isof-south-1, amazonaws.com.cn): a test holds
# these to botocore's partition data.
PSEUDO_PARAMETER_LENGTHS = {
    "AWS::Partition": 10,
    "AWS::AccountId": 12,
    "AWS::Region": 15,
    "AWS::URLSuffix": 16,
}
_UNKNOWN_VALUE_LENGTH = 100  # a GetAtt, parameter or Fn::Select: size it like an ARN


def estimated_policy_chars(document: Any) -> int:
    """Characters IAM would count for a resolved policy document (whitespace excluded)."""

    def flatten(value: Any) -> Any:
        if isinstance(value, list):
            return [flatten(v) for v in value]
        if isinstance(value, dict):
            if len(value) == 1:
                ((name, argument),) = value.items()
                if name == "Fn::Join":
                    separator, parts = argument
                    return str(separator).join(str(flatten(p)) for p in parts)
                if name == "Ref":
                    return "x" * PSEUDO_PARAMETER_LENGTHS.get(argument, _UNKNOWN_VALUE_LENGTH)
                if name.startswith("Fn::"):
                    return "x" * _UNKNOWN_VALUE_LENGTH
            return {k: flatten(v) for k, v in value.items()}
        return value

    rendered = json.dumps(flatten(document), separators=(",", ":"))
    return sum(1 for character in rendered if not character.isspace())


# --------------------------------------------------------------------------------------------
# Drift check (opt-in)
# --------------------------------------------------------------------------------------------

#: The function's settings for the check (read by ``lambda_src/.../handlers/check.py``).
DRIFT_PERIOD_ENV = "DRIFT_CHECK_PERIOD_SECONDS"
DRIFT_REGIONS_ENV = "DRIFT_CHECK_REGIONS"
DRIFT_SCHEDULE_ENV = "DRIFT_CHECK_SCHEDULE"
#: The metric the function emits per drifted stream (EMF; Powertools adds the ``service``
#: dimension) and the alarm watches.
METRICS_NAMESPACE = "KinesisStreamEncryption"
SERVICE_NAME = "kinesis-stream-encryption"
DRIFT_METRIC = "EncryptionDrift"
LIST_STREAMS_REASON = (
    "The drift check lists the account's streams to find those this provider encrypted: "
    "kinesis:ListStreams supports no resource-level permissions (Resource must be '*'). It "
    "returns stream names only; every per-stream action stays scoped to the provider's streams."
)


class DriftCheck:
    """Opt-in drift check of a provider (see SPEC "Drift check").

    :param schedule: how often the check runs (whole minutes, 1 minute to 1 day; default hourly).
        A check stops at the end of its period, so two never overlap.
    :param repair: restore the tagged key on a drifted ACTIVE stream (StartStreamEncryption; one
        of the stream's 25 daily key changes). Off by default: report only.
    :param alarm_topic: an SNS topic the ``EncryptionDrift`` alarm notifies.
    :param regions: regions whose streams the check lists; default: the regions of the streams
        the stack's resources encrypt (the stack's own region when none is known).
    """

    def __init__(
        self,
        *,
        schedule: Duration | None = None,
        repair: bool = False,
        alarm_topic: sns.ITopic | None = None,
        regions: Sequence[str] | None = None,
    ) -> None:
        # A plain class, not a dataclass: this module is also loaded stand-alone.
        self.schedule = schedule or Duration.hours(1)
        minutes = self.schedule.to_minutes()  # raises unless whole minutes
        if not 1 <= minutes <= 24 * 60:
            raise ValueError(f"drift check schedule must be 1 minute to 1 day, not {minutes} min")
        self.repair = repair
        self.alarm_topic = alarm_topic
        self.regions = tuple(regions or ())

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DriftCheck)
            and self.schedule.to_seconds() == other.schedule.to_seconds()
            and self.repair == other.repair
            and self.alarm_topic is other.alarm_topic
            and self.regions == other.regions
        )

    def __hash__(self) -> int:
        return hash((self.schedule.to_seconds(), self.repair, id(self.alarm_topic), self.regions))

    def __repr__(self) -> str:
        return (
            f"DriftCheck(schedule={int(self.schedule.to_minutes())} min, repair={self.repair}, "
            f"alarm_topic={'set' if self.alarm_topic else None}, regions={list(self.regions)})"
        )


@jsii.implements(IStableStringProducer)
class _DriftRegions:
    """The regions of the streams the provider's resources encrypt, known only at synth."""

    def __init__(self, provider: KinesisStreamEncryptionProvider) -> None:
        self._provider = provider

    def produce(self) -> str:
        return self._provider._drift_regions_value()


def drift_check_event(repair: bool) -> dict[str, Any]:
    """The event the schedule sends the function."""
    return {"kinesis-stream-encryption": "check", "repair": repair}


def drift_metric(period: Duration) -> cloudwatch.Metric:
    """``EncryptionDrift`` summed over one check period (at most a day, CloudWatch's limit)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=DRIFT_METRIC,
        dimensions_map={"service": SERVICE_NAME},
        statistic="Sum",
        period=period,
    )
