"""The example app (cdk/app.py): both stacks, cdk-nag clean, the exported ServiceToken."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from kinesis_stream_encryption import RESOURCE_TYPE, STREAM_ACTIONS

from .conftest import REPO, ExampleApp, as_list, load_example_app, statements
from .synth_helpers import join_text

pytestmark = pytest.mark.infra


def test_cdk_json_runs_the_example_app() -> None:
    config = json.loads((REPO / "cdk.json").read_text())
    assert config["app"] == "python cdk/app.py"


def test_synthesizes_both_stacks(example_app: ExampleApp) -> None:
    names = {s.stack_name for s in example_app.assembly.stacks}
    assert names == {"EncryptExistingStreamStack", "KinesisStreamEncryptionProviderStack"}


def test_cdk_nag_has_no_unacknowledged_findings(example_app: ExampleApp) -> None:
    report = AwsSolutionsChecks().validate_scope(example_app.app)
    findings = [
        (v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations
    ]
    assert findings == []
    assert report.success
    for stack in (example_app.encrypt, example_app.provider):
        assert Annotations.from_stack(stack).find_error("*", Match.any_value()) == []


def test_encrypt_existing_stream_stack(example_app: ExampleApp) -> None:
    t = Template.from_stack(example_app.encrypt)
    t.resource_count_is(RESOURCE_TYPE, 1)
    t.resource_count_is("AWS::Lambda::Function", 1)
    t.has_resource(
        "AWS::KMS::Key",
        {"Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "Retain"},
    )
    (key_id,) = t.find_resources("AWS::KMS::Key")
    (resource,) = t.find_resources(RESOURCE_TYPE).values()
    assert resource["Properties"]["StreamARN"] == example_app.module.DEFAULT_STREAM_ARN
    assert resource["Properties"]["KeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    outputs = t.to_json()["Outputs"]
    assert {"StreamArn", "StreamName", "KeyArn", "AppliedKeyId", "EncryptionType"} <= set(outputs)


def test_provider_stack_exports_the_service_token(example_app: ExampleApp) -> None:
    t = Template.from_stack(example_app.provider)
    t.resource_count_is("AWS::Lambda::Function", 1)
    t.resource_count_is(RESOURCE_TYPE, 0)
    (function_id,) = t.find_resources("AWS::Lambda::Function")
    output = t.to_json()["Outputs"]["ServiceToken"]
    assert output["Value"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert output["Export"] == {"Name": "KinesisStreamEncryption-ServiceToken"}


def test_provider_stack_role_is_scoped_by_prefix(example_app: ExampleApp) -> None:
    t = Template.from_stack(example_app.provider)
    prefixed = "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/encrypted-*"
    any_key = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"
    by_action = {}
    for statement in statements(t):
        for action in as_list(statement["Action"]):
            by_action[action] = statement
    for action in STREAM_ACTIONS:
        assert [join_text(r) for r in as_list(by_action[action]["Resource"])] == [prefixed]
    generate = by_action["kms:GenerateDataKey"]
    assert [join_text(r) for r in as_list(generate["Resource"])] == [any_key]
    assert join_text(generate["Condition"]["StringEquals"]["kms:ViaService"]) == (
        "kinesis.${AWS::Region}.${AWS::URLSuffix}"  # the partition's own suffix
    )
    context = generate["Condition"]["StringLike"]["kms:EncryptionContext:aws:kinesis:arn"]
    assert [join_text(c) for c in as_list(context)] == [prefixed]
    assert [join_text(r) for r in as_list(by_action["kms:DescribeKey"]["Resource"])] == [any_key]
    assert "lambda:InvokeFunction" in by_action


def test_context_overrides_stream_and_prefix() -> None:
    module = load_example_app()
    app = cdk.App(
        context={
            "streamArn": "arn:aws:kinesis:eu-west-1:111111111111:stream/audit",
            "streamNamePrefix": "team-a-",
        }
    )
    encrypt, provider = module.build_app(app)
    assert (
        encrypt.resolve(
            encrypt.node.find_child("StreamEncryption").stream_arn  # type: ignore[attr-defined]
        )
        == "arn:aws:kinesis:eu-west-1:111111111111:stream/audit"
    )
    policy = provider.node.find_child("Provider").role.node.find_child("DefaultPolicy")
    rendered = json.dumps(provider.resolve(policy.document.to_json()))
    assert "stream/team-a-*" in rendered


@pytest.mark.parametrize("prefix", ["", "bad prefix", "x" * 128])
def test_bad_prefix_is_rejected(prefix: str) -> None:
    module = load_example_app()
    with pytest.raises(ValueError, match="streamNamePrefix"):
        module.ProviderScope(stream_name_prefixes=[prefix])


def test_lambda_asset_holds_the_code_without_caches(example_app: ExampleApp) -> None:
    assets = [p for p in Path(example_app.outdir).glob("asset.*") if p.is_dir()]
    assert assets, "no Lambda asset staged"
    for asset in assets:
        assert not list(asset.rglob("__pycache__"))
        assert not list(asset.rglob("*.pyc"))
        assert (asset / "stream_encryption").is_dir()
