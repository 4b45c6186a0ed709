"""Footprint: what a stack that encrypts 1, 10 and 40 imported streams deploys, four ways.

* ``ours``: one ``KinesisStreamEncryption`` per stream (one shared provider function per stack).
* ``CDK Provider``: the same handler code as the ``onEvent`` function of
  ``custom_resources.Provider`` (which adds its framework function), one ``CustomResource`` per
  stream, the stream's permissions added to the handler's role (``add_to_role_policy``).
* ``CDK Provider + isComplete``: the same, waiting through the framework's Step Functions
  waiter (how the convergence benchmark's "CDK Provider" policy waits): a second handler, two more
  framework functions and a state machine.
* ``AwsCustomResource``: one per stream, StartStreamEncryption on create and StopStreamEncryption
  on delete, IAM from ``AwsCustomResourcePolicy.from_sdk_calls(resources=[arn])``.

A fleet section (``fleet``) puts 200 imported streams in one stack, with the AWS managed key and
with a customer managed key per stream, per-stream policies (the default) and
``stream_name_prefix``, and checks the provider role against IAM's quotas (10,240 inline
characters per role, 6,144 per managed policy, 10 managed policies per role); ``capacity`` finds
how many resources the per-stream default fits in one stack.

Everything is counted from the synthesized templates (one in-process ``App`` per variant, its
cloud assembly in a temporary directory). Functions and log groups that Lambda creates at run time
(outside the template) are not counted. Footprint only: the handler PUTs its own response, so
behind the Provider framework it would need an adapter that returns the result instead.
"""

from __future__ import annotations

import fnmatch
import io
import json
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devsupport.node_path import node_first_on_path

ROOT = Path(__file__).resolve().parents[1]
# 25, not 50: past about 29 per-stream resources (AWS managed key) synthesis fails on the IAM
# quota by design (the fleet section shows 200 with stream_name_prefix).
SIZES = (1, 10, 25)
ACCOUNT = "123456789012"
REGION = "us-east-1"
STREAM_ACTIONS_DESCRIBE = "kinesis:DescribeStreamSummary"


node_first_on_path()

import aws_cdk as cdk  # noqa: E402  (after PATH: jsii starts Node on import)
from aws_cdk import aws_iam as iam  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk import aws_ssm as ssm  # noqa: E402
from aws_cdk import custom_resources as cr  # noqa: E402

from kinesis_stream_encryption import (  # noqa: E402
    ASSET_EXCLUDE,
    FUNCTION_TIMEOUT,
    HANDLER,
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_LIMIT,
    RESOURCE_TYPE,
    ROLE_INLINE_POLICIES_LIMIT,
    STREAM_ACTIONS,
    KinesisStreamEncryption,
    lambda_code_dir,
    powertools_layer_parameter_name,
)
from kinesis_stream_encryption.provider import estimated_policy_chars  # noqa: E402

FLEET = 200
FLEET_PREFIX = "s-"
CUSTOMER_KEYS = "customer managed (one per stream)"


def key_arn(index: int) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{index:08x}-12ab-34cd-56ef-1234567890ab"


def stream_arn(index: int) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s-{index:02d}"


def _handler_function(stack: cdk.Stack, construct_id: str) -> lambda_.Function:
    """Our code as a plain Function, configured like the construct's (same asset and layer)."""
    layer = lambda_.LayerVersion.from_layer_version_arn(
        stack,
        f"{construct_id}Powertools",
        ssm.StringParameter.value_for_string_parameter(stack, powertools_layer_parameter_name()),
    )
    return lambda_.Function(
        stack,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler=HANDLER,
        code=lambda_.Code.from_asset(str(lambda_code_dir()), exclude=list(ASSET_EXCLUDE)),
        timeout=FUNCTION_TIMEOUT,
        memory_size=256,
        layers=[layer],
    )


def build_ours(stack: cdk.Stack, streams: int) -> None:
    for i in range(streams):
        KinesisStreamEncryption(stack, f"Enc{i:02d}", stream=stream_arn(i))


def _build_provider(stack: cdk.Stack, streams: int, *, is_complete: bool) -> None:
    on_event = _handler_function(stack, "OnEvent")
    complete = _handler_function(stack, "IsComplete") if is_complete else None
    provider = cr.Provider(
        stack, "Provider", on_event_handler=on_event, is_complete_handler=complete
    )
    for i in range(streams):
        arn = stream_arn(i)
        on_event.add_to_role_policy(
            iam.PolicyStatement(actions=list(STREAM_ACTIONS), resources=[arn])
        )
        if complete is not None:
            complete.add_to_role_policy(
                iam.PolicyStatement(actions=[STREAM_ACTIONS_DESCRIBE], resources=[arn])
            )
        cdk.CustomResource(
            stack,
            f"Enc{i:02d}",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties={"StreamARN": arn},
        )


def build_provider(stack: cdk.Stack, streams: int) -> None:
    _build_provider(stack, streams, is_complete=False)


def build_provider_waiter(stack: cdk.Stack, streams: int) -> None:
    _build_provider(stack, streams, is_complete=True)


def build_aws_custom_resource(stack: cdk.Stack, streams: int) -> None:
    for i in range(streams):
        arn = stream_arn(i)

        def call(action: str, arn: str = arn) -> cr.AwsSdkCall:
            return cr.AwsSdkCall(
                service="Kinesis",
                action=action,
                parameters={
                    "StreamARN": arn,
                    "EncryptionType": "KMS",
                    "KeyId": "alias/aws/kinesis",
                },
                physical_resource_id=cr.PhysicalResourceId.of(arn),
            )

        cr.AwsCustomResource(
            stack,
            f"Enc{i:02d}",
            on_create=call("startStreamEncryption"),
            on_delete=call("stopStreamEncryption"),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[arn]),
            install_latest_aws_sdk=False,
        )


VARIANTS: dict[str, Callable[[cdk.Stack, int], None]] = {
    "ours": build_ours,
    "CDK Provider": build_provider,
    "CDK Provider + isComplete": build_provider_waiter,
    "AwsCustomResource": build_aws_custom_resource,
}


@dataclass(frozen=True)
class Footprint:
    """What one synthesized stack holds."""

    variant: str
    streams: int
    resources: int
    functions: int
    roles: int
    policies: int  # AWS::IAM::Policy + AWS::IAM::ManagedPolicy + inline Role.Policies
    log_groups: int
    state_machines: int
    busiest_role_inline_chars: int  # IAM allows 10,240 per role
    template_kb: float
    by_type: dict[str, int]
    warnings: list[str]


def count(variant: str, streams: int, template_path: Path, warnings: list[str]) -> Footprint:
    """Tally one synthesized template."""
    template = json.loads(template_path.read_text())
    resources: dict[str, Any] = template.get("Resources", {})
    by_type = Counter(str(r["Type"]) for r in resources.values())
    inline = sum(
        len(r.get("Properties", {}).get("Policies", []))
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Role"
    )
    return Footprint(
        variant=variant,
        streams=streams,
        resources=len(resources),
        functions=by_type["AWS::Lambda::Function"],
        roles=by_type["AWS::IAM::Role"],
        policies=by_type["AWS::IAM::Policy"] + by_type["AWS::IAM::ManagedPolicy"] + inline,
        log_groups=by_type["AWS::Logs::LogGroup"],
        state_machines=by_type["AWS::StepFunctions::StateMachine"],
        busiest_role_inline_chars=busiest_role_inline_chars(resources),
        template_kb=template_path.stat().st_size / 1024,
        by_type=dict(sorted(by_type.items())),
        warnings=warnings,
    )


def busiest_role_inline_chars(resources: dict[str, Any]) -> int:
    """The most inline-policy characters on one role (IAM counts every inline policy of a role
    together, whitespace excluded; intrinsics sized as the construct's own estimate does)."""
    chars: Counter[str] = Counter()
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource.get("Properties", {}).get("Policies", []):
                chars[logical_id] += estimated_policy_chars(policy["PolicyDocument"])
        elif resource["Type"] == "AWS::IAM::Policy":
            size = estimated_policy_chars(resource["Properties"]["PolicyDocument"])
            for role in resource["Properties"].get("Roles", []):
                if isinstance(role, dict) and "Ref" in role:
                    chars[str(role["Ref"])] += size
    return max(chars.values(), default=0)


def synthesize(variant: str, streams: int, outdir: Path) -> Footprint:
    """One App, one stack, synthesized into ``outdir``; warnings as CDK reports them."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(
        app,
        f"Footprint{streams}",
        env=cdk.Environment(account=ACCOUNT, region=REGION),
        # Modern synthesis needs a bootstrap version check; irrelevant for counting.
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    )
    VARIANTS[variant](stack, streams)
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    # From the assembly's manifest: jsii cannot hand ``artifact.messages`` entries to Python.
    manifest = json.loads((outdir / "manifest.json").read_text())
    entry = manifest["artifacts"][stack.artifact_id]
    metadata = dict(entry.get("metadata", {}))
    if "additionalMetadataFile" in entry:  # newer assemblies keep it beside the template
        metadata.update(json.loads((outdir / entry["additionalMetadataFile"]).read_text()))
    warnings = [
        f"{path}: {entry['data']}"
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:warning"
    ]
    return count(variant, streams, Path(artifact.template_full_path), warnings)


def asset_zip_bytes(directory: Path | None = None) -> tuple[int, int, int]:
    """Zipped size, unzipped size and file count of the Lambda asset, as the construct ships it.

    Excludes what ``ASSET_EXCLUDE`` excludes (bytecode and tool caches); deflate at level 9,
    like CDK's asset bundling.
    """
    root = directory or lambda_code_dir()
    files = sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and not any(
            fnmatch.fnmatch(part, pattern)
            for part in path.relative_to(root).parts
            for pattern in ASSET_EXCLUDE
        )
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return len(buffer.getvalue()), sum(p.stat().st_size for p in files), len(files)


@dataclass(frozen=True)
class FleetRow:
    """One stack of ``streams`` resources: did it synthesize, and what the role needs."""

    keys: str  # "AWS managed" or "customer managed (one per stream)"
    scope: str  # "per stream" or "stream_name_prefix"
    streams: int
    synthesized: bool
    inline_chars: int  # the role's inline policies together (IAM allows 10,240)
    managed_policies: int  # customer managed policies on the role (IAM allows 10)
    largest_managed_chars: int  # IAM allows 6,144 each
    iam_policy_resources: int
    error: str


def _fleet_stack(
    streams: int, *, customer_keys: bool, prefix: str | None, outdir: Path | None = None
) -> tuple[cdk.App, cdk.Stack, list[KinesisStreamEncryption]]:
    app = cdk.App(outdir=str(outdir)) if outdir else cdk.App()
    stack = cdk.Stack(
        app,
        f"Fleet{streams}",
        env=cdk.Environment(account=ACCOUNT, region=REGION),
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    )
    made = [
        KinesisStreamEncryption(
            stack,
            f"Enc{i:03d}",
            stream=stream_arn(i),
            key=key_arn(i) if customer_keys else None,
            stream_name_prefix=prefix,
        )
        for i in range(streams)
    ]
    return app, stack, made


def fleet(streams: int = FLEET) -> list[FleetRow]:
    """200 imported streams in one stack, four ways; synthesis either passes the quota checks
    or fails naming ``stream_name_prefix`` (a failed synthesis is a row, not an exception)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleet-") as tmp:
        for customer_keys in (False, True):
            for prefix in (None, FLEET_PREFIX):
                outdir = Path(tmp) / f"{customer_keys}-{prefix}"
                app, stack, made = _fleet_stack(
                    streams, customer_keys=customer_keys, prefix=prefix, outdir=outdir
                )
                sizes = made[0].provider.policy_sizes()
                error = ""
                try:
                    assembly = app.synth()
                    template = json.loads(
                        Path(
                            assembly.get_stack_artifact(stack.artifact_id).template_full_path
                        ).read_text()
                    )
                    policies = sum(
                        r["Type"] == "AWS::IAM::Policy" for r in template["Resources"].values()
                    )
                except RuntimeError as failure:
                    error = str(failure).splitlines()[1].strip() if "\n" in str(failure) else ""
                    error = error or str(failure)[:300]
                    policies = 0
                rows.append(
                    FleetRow(
                        keys="customer managed (one per stream)"
                        if customer_keys
                        else "AWS managed",
                        scope="stream_name_prefix" if prefix else "per stream",
                        streams=streams,
                        synthesized=not error,
                        inline_chars=sizes.inline,
                        managed_policies=len(sizes.managed),
                        largest_managed_chars=max(sizes.managed, default=0),
                        iam_policy_resources=policies,
                        error=error,
                    )
                )
    return rows


def capacity(limit: int = 120) -> dict[str, int]:
    """How many resources the per-stream default fits on one role (inline quota), per key kind.

    Counted from the construct's own synth-time estimate, the one its quota check uses."""
    found = {}
    for customer_keys in (False, True):
        _app, _stack, made = _fleet_stack(limit, customer_keys=customer_keys, prefix=None)
        provider = made[0].provider
        resource_policies = list(provider._resource_policies)
        fits = 0
        for count in range(1, limit + 1):
            provider._resource_policies = resource_policies[:count]
            if provider.policy_sizes().inline > ROLE_INLINE_POLICIES_LIMIT:
                break
            fits = count
        provider._resource_policies = resource_policies
        found["customer managed keys" if customer_keys else "AWS managed key"] = fits
    return found


def quotas() -> dict[str, int]:
    return {
        "role inline chars": ROLE_INLINE_POLICIES_LIMIT,
        "managed policy chars": MANAGED_POLICY_LIMIT,
        "managed policies per role": MANAGED_POLICIES_PER_ROLE,
    }


def measure(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    """Every variant at every size, plus our asset's size and the fixed/per-stream split."""
    rows: list[Footprint] = []
    with tempfile.TemporaryDirectory(prefix="footprint-") as tmp:
        for variant in VARIANTS:
            for streams in sizes:
                rows.append(synthesize(variant, streams, Path(tmp) / f"{variant}-{streams}"))
    zipped, unzipped, files = asset_zip_bytes()
    return {
        "rows": rows,
        "linear": {variant: linear_split(rows, variant) for variant in VARIANTS},
        "asset": {"zipped_kb": zipped / 1024, "unzipped_kb": unzipped / 1024, "files": files},
        "fleet": fleet(),
        "capacity": capacity(),
        "quotas": quotas(),
    }


def linear_split(rows: list[Footprint], variant: str) -> dict[str, dict[str, float]]:
    """Per resource type: the fixed part and the part per stream (from the smallest and largest
    sizes; ``exact`` says whether every size in between fits the same line)."""
    mine = sorted((r for r in rows if r.variant == variant), key=lambda r: r.streams)
    low, high = mine[0], mine[-1]
    split: dict[str, dict[str, float]] = {}
    for kind in sorted(set(low.by_type) | set(high.by_type)):
        a, b = low.by_type.get(kind, 0), high.by_type.get(kind, 0)
        per = (b - a) / (high.streams - low.streams) if high.streams != low.streams else 0.0
        fixed = a - per * low.streams
        exact = all(abs(r.by_type.get(kind, 0) - (fixed + per * r.streams)) < 1e-9 for r in mine)
        split[kind] = {"fixed": fixed, "per_stream": per, "exact": float(exact)}
    return split


if __name__ == "__main__":
    result = measure()
    for row in result["rows"]:
        print(row)
    print(result["linear"], result["asset"])
    for fleet_row in result["fleet"]:
        print(fleet_row)
    print("per-stream capacity of one stack:", result["capacity"], "quotas:", result["quotas"])
