"""The Lambda that serves ``Custom::KinesisStreamEncryption``, with its role and log group.

One provider per stack serves any number of resources (see ``KinesisStreamEncryptionProvider.of``);
each resource adds only the IAM it needs (its stream in a policy of its own, its key through
``grant_key``), so the role never holds ``Resource: "*"`` for Kinesis. The same class backs the
plain-CloudFormation provider stack, whose role is scoped by a stream-name prefix instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

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
#: unlike DescribeStream's 10 TPS).
STREAM_ACTIONS = (
    "kinesis:DescribeStreamSummary",
    "kinesis:StartStreamEncryption",
    "kinesis:StopStreamEncryption",
)

#: IAM quota: all inline policies of one role together, in non-whitespace characters.
ROLE_INLINE_POLICIES_LIMIT = 10_240

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


class KinesisStreamEncryptionProvider(Construct):
    """The function, role and log group behind ``Custom::KinesisStreamEncryption``.

    Use ``KinesisStreamEncryptionProvider.of(scope)`` to share one per stack; instantiate it
    directly only for a stand-alone provider (e.g. one exported for plain CloudFormation).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        powertools_layer: lambda_.ILayerVersion | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
    ) -> None:
        super().__init__(scope, construct_id)
        self._powertools_layer_override = powertools_layer
        self._resource_policies: list[iam.Policy] = []
        self._warned_policy_size = False
        self._key_statements_granted: set[str] = set()

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
            tracing=lambda_.Tracing.ACTIVE,
            layers=[self.powertools_layer],
            environment={
                "POWERTOOLS_SERVICE_NAME": "kinesis-stream-encryption",
                "POWERTOOLS_METRICS_NAMESPACE": "KinesisStreamEncryption",
                "POWERTOOLS_LOG_LEVEL": "INFO",
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

    @classmethod
    def of(
        cls,
        scope: Construct,
        *,
        powertools_layer: lambda_.ILayerVersion | None = None,
    ) -> KinesisStreamEncryptionProvider:
        """Find or create the stack's single provider (like ``lambda.SingletonFunction``)."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if existing is None:
            return cls(stack, PROVIDER_ID, powertools_layer=powertools_layer)
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
        return existing

    @property
    def service_token(self) -> str:
        """The ServiceToken for ``Custom::KinesisStreamEncryption`` (the function ARN)."""
        return self.function.function_arn

    @property
    def function_timeout(self) -> Duration:
        """The function's own timeout (the default ServiceTimeout sits a little above it)."""
        return FUNCTION_TIMEOUT

    def add_resource_policy(self, policy: iam.Policy) -> None:
        """Record a resource's own policy on the role; warn once the role's quota is in reach.

        Every resource's policy is inline on the one shared role, and IAM caps a role's inline
        policies at 10,240 characters together: roughly 15 resources with customer managed keys,
        or about 40 with the default key. The estimate is rough (intrinsics are sized as
        typical ARNs) and errs high.
        """
        self._resource_policies.append(policy)
        if self._warned_policy_size:
            return
        stack = Stack.of(self)
        documents = [p.document for p in self._resource_policies] + [
            self.invoke_self_policy.document
        ]
        default_policy = self.role.node.try_find_child("DefaultPolicy")
        if isinstance(default_policy, iam.Policy):
            documents.append(default_policy.document)
        total = sum(estimated_policy_chars(stack.resolve(d.to_json())) for d in documents)
        if total > ROLE_INLINE_POLICIES_LIMIT:
            self._warned_policy_size = True
            Annotations.of(self).add_warning_v2(
                "kinesis-stream-encryption:rolePolicySize",
                f"The {len(self._resource_policies)} KinesisStreamEncryption resources of stack "
                f"{stack.stack_name} need about {total} characters of inline IAM policy on the "
                f"shared provider role; IAM allows {ROLE_INLINE_POLICIES_LIMIT}. Spread them over "
                "more stacks (each stack has its own provider).",
            )

    def grant_stream(self, stream_arn: str) -> None:
        """Add ``stream_statements`` to the role's default policy (for a stand-alone provider)."""
        for statement in stream_statements(stream_arn):
            self.role.add_to_principal_policy(statement)

    def grant_key(
        self,
        key_resource: str,
        *,
        region: str,
        alias_name: str | None = None,
        stream_arn_pattern: str | None = None,
    ) -> None:
        """Add ``key_statements`` to the role's default policy.

        Key permissions are needed only to start encryption, never to stop it, so they can live
        in the default policy (which the function depends on, and which CDK splits into
        overflow managed policies when it grows). Identical statements, e.g. one key used for
        several streams, are added once.
        """
        stack = Stack.of(self)
        for statement in key_statements(
            key_resource,
            region=region,
            alias_name=alias_name,
            stream_arn_pattern=stream_arn_pattern,
        ):
            rendered = json.dumps(stack.resolve(statement.to_json()), sort_keys=True, default=str)
            if rendered not in self._key_statements_granted:
                self._key_statements_granted.add(rendered)
                self.role.add_to_principal_policy(statement)


def stream_statements(stream_arn: str) -> list[iam.PolicyStatement]:
    """The Kinesis calls the handler makes, on one stream ARN (or ARN pattern) only."""
    return [iam.PolicyStatement(actions=list(STREAM_ACTIONS), resources=[stream_arn])]


def key_statements(
    key_resource: str,
    *,
    region: str,
    alias_name: str | None = None,
    stream_arn_pattern: str | None = None,
) -> list[iam.PolicyStatement]:
    """What Kinesis needs of a customer managed key when it enables SSE for the caller.

    ``key_resource`` is a key ARN or a ``key/*`` pattern; with ``alias_name`` the grant holds only
    for keys that carry that alias (``kms:ResourceAliases``, which matches however the request
    names the key, unlike ``kms:RequestAlias``). ``kms:GenerateDataKey`` is limited to requests
    Kinesis makes in the stream's ``region`` (``kms:ViaService``): the function cannot use the
    key directly, and Kinesis acts only on streams the role may start encryption on. A
    ``stream_arn_pattern`` (the provider stack's prefix) adds the ``aws:kinesis:arn``
    encryption context Kinesis sends on every KMS call. ``kms:DescribeKey`` returns metadata
    only and stays unconditioned so the function can also describe the key itself.
    """
    alias_condition: dict[str, dict[str, str]] = (
        {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias_name}}
        if alias_name is not None
        else {}
    )
    generate_conditions: dict[str, dict[str, str]] = {
        "StringEquals": {"kms:ViaService": f"kinesis.{region}.amazonaws.com"},
        **alias_condition,
    }
    if stream_arn_pattern is not None:
        generate_conditions["StringLike"] = {
            "kms:EncryptionContext:aws:kinesis:arn": stream_arn_pattern
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


_PSEUDO_PARAMETER_LENGTHS = {"AWS::Partition": 3, "AWS::AccountId": 12, "AWS::Region": 14}
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
                    return "x" * _PSEUDO_PARAMETER_LENGTHS.get(argument, _UNKNOWN_VALUE_LENGTH)
                if name.startswith("Fn::"):
                    return "x" * _UNKNOWN_VALUE_LENGTH
            return {k: flatten(v) for k, v in value.items()}
        return value

    rendered = json.dumps(flatten(document), separators=(",", ":"))
    return sum(1 for character in rendered if not character.isspace())
