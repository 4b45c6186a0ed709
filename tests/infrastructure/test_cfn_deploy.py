"""Deploy the packaged provider template into moto's CloudFormation, as a CLI user would.

moto's server on loopback stands in for the account: the zip goes to its S3, the template to its
CloudFormation with the README's parameters. Two moto 5.2 quirks shape the setup (see NOTES): it
refuses SSM parameters under ``/aws/`` and resolves an ``AWS::SSM::Parameter::Value`` parameter's
Default at create_stack, so the Powertools layer ARN is seeded under another path and that path
becomes the Default of the deployed copy. moto ignores Rules, and its Lambda model takes no Layers,
TracingConfig or Architectures from a template: test_package.py checks those in the template
(and evaluates the rules).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from devsupport.moto_server import (
    ACCOUNT_ID,
    FAKE_CREDENTIALS,
    REGION,
    moto_endpoint,
    reset_moto,
)
from kinesis_stream_encryption import HANDLER
from scripts import package as packaging

from .dist_fixtures import build_dist, build_per_region_template, load_template

pytestmark = [
    pytest.mark.infra,
    # moto has no CloudFormation model for it (the template-level test checks its settings).
    pytest.mark.filterwarnings("ignore:Tried to parse AWS"),
]

SEEDED_LAYER_PARAMETER = "/test/powertools/python/arm64/python3.14/3.37.0"
LAYER_ARN = (
    f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:20"
)
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/payments"


class Account:
    """boto3 clients bound to the moto server (fake credentials, never a real account)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )

    def deploy(self, template: dict[str, Any], stack_name: str, **parameters: str) -> str:
        """create_stack with CAPABILITY_IAM, like `aws cloudformation deploy`; the stack id."""
        copy = json.loads(json.dumps(template))
        copy["Parameters"]["PowertoolsLayerParameter"]["Default"] = SEEDED_LAYER_PARAMETER
        cfn = self.client("cloudformation")
        stack_id: str = cfn.create_stack(
            StackName=stack_name,
            TemplateBody=yaml.safe_dump(copy, sort_keys=False),
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )["StackId"]
        (stack,) = cfn.describe_stacks(StackName=stack_id)["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        return stack_id

    def physical_ids(self, stack_id: str) -> dict[str, tuple[str, str]]:
        """Logical id -> (type, physical id) of the stack's resources."""
        summaries = self.client("cloudformation").list_stack_resources(StackName=stack_id)
        return {
            r["LogicalResourceId"]: (r["ResourceType"], r["PhysicalResourceId"])
            for r in summaries["StackResourceSummaries"]
        }

    def role_policies(self, role_name: str) -> dict[str, dict[str, Any]]:
        iam = self.client("iam")
        names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        return {
            name: iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
            for name in names
        }


@pytest.fixture(scope="module")
def account() -> Iterator[Account]:
    """A moto account holding the code zip in two buckets (plain and per-region) and the layer."""
    with moto_endpoint() as endpoint:
        reset_moto(endpoint)  # moto's state is per process, shared by every server in it
        account = Account(endpoint)
        s3 = account.client("s3")
        (code_zip,) = build_dist().glob("*.zip")
        for bucket in ("my-artifacts-bucket", f"my-org-code-{REGION}"):
            s3.create_bucket(Bucket=bucket)
            s3.put_object(Bucket=bucket, Key=code_zip.name, Body=code_zip.read_bytes())
        account.client("ssm").put_parameter(
            Name=SEEDED_LAYER_PARAMETER, Type="String", Value=LAYER_ARN
        )
        yield account
        reset_moto(endpoint)


def code_sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_readme_deploy_creates_function_role_log_group_and_export(account: Account) -> None:
    template = load_template(build_dist() / packaging.TEMPLATE_NAME)
    stack_id = account.deploy(
        template,
        "kinesis-stream-encryption-provider",
        CodeS3Bucket="my-artifacts-bucket",
        StreamNamePrefixes="encrypted-,team-a-",
        StreamArns=STREAM_ARN,
    )
    resources = account.physical_ids(stack_id)
    by_type: dict[str, list[str]] = {}
    for resource_type, physical_id in resources.values():
        by_type.setdefault(resource_type, []).append(physical_id)

    (function_name,) = by_type["AWS::Lambda::Function"]
    function = account.client("lambda").get_function(FunctionName=function_name)
    configuration = function["Configuration"]
    assert configuration["Handler"] == HANDLER
    assert configuration["Runtime"] == "python3.14"
    assert configuration["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    (code_zip,) = build_dist().glob("*.zip")
    assert configuration["CodeSha256"] == code_sha256(code_zip)

    (role_name,) = by_type["AWS::IAM::Role"]
    assert configuration["Role"].endswith(f":role/{role_name}")
    policies = account.role_policies(role_name)
    granted = {
        json.dumps(statement["Resource"])
        for document in policies.values()
        for statement in document["Statement"]
        if "kinesis:StartStreamEncryption" in statement["Action"]
    }
    stream = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/"
    assert granted == {
        json.dumps([STREAM_ARN]),
        json.dumps(f"{stream}encrypted-*"),
        json.dumps(f"{stream}team-a-*"),
    }
    actions = {a for d in policies.values() for s in d["Statement"] for a in _list(s["Action"])}
    assert not [a for a in actions if a.startswith("xray:")], "tracing is off"
    assert "lambda:InvokeFunction" in actions

    (log_group_name,) = by_type["AWS::Logs::LogGroup"]
    (log_group,) = account.client("logs").describe_log_groups(logGroupNamePrefix=log_group_name)[
        "logGroups"
    ]
    assert log_group["retentionInDays"] == 30

    exports = {e["Name"]: e for e in account.client("cloudformation").list_exports()["Exports"]}
    export = exports["KinesisStreamEncryption-ServiceToken"]
    assert export["ExportingStackId"] == stack_id
    assert export["Value"] == configuration["FunctionArn"]


def test_per_region_variant_side_by_side_with_all_streams_and_tracing(account: Account) -> None:
    """The StackSets template (code from '<prefix>-<region>') next to another provider."""
    first = account.deploy(
        load_template(build_dist() / packaging.TEMPLATE_NAME),
        "provider-payments",
        CodeS3Bucket="my-artifacts-bucket",
        StreamArns=STREAM_ARN,
        KeyAliases="alias/payments",
        ExportName="Payments-ServiceToken",
    )
    second = account.deploy(
        load_template(build_per_region_template()),  # bucket default my-org-code + region
        "provider-everything",
        AllStreams="ALL",
        Tracing="Active",
        LogRetentionInDays="7",
        ExportName="Everything-ServiceToken",
    )
    functions = {}
    for stack_id in (first, second):
        (name,) = [
            physical
            for resource_type, physical in account.physical_ids(stack_id).values()
            if resource_type == "AWS::Lambda::Function"
        ]
        functions[stack_id] = account.client("lambda").get_function_configuration(FunctionName=name)
    assert functions[first]["FunctionName"] != functions[second]["FunctionName"]
    traced = functions[second]
    assert traced["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "false"
    (code_zip,) = build_dist().glob("*.zip")
    assert traced["CodeSha256"] == code_sha256(code_zip)

    resources = account.physical_ids(second)
    role_name = next(physical for kind, physical in resources.values() if kind == "AWS::IAM::Role")
    policies = account.role_policies(role_name)
    statements = [s for d in policies.values() for s in d["Statement"]]
    kinesis = [s for s in statements if "kinesis:StartStreamEncryption" in s["Action"]]
    assert [s["Resource"] for s in kinesis] == [f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/*"]
    assert any("xray:PutTraceSegments" in _list(s["Action"]) for s in statements)

    payments_role = next(
        physical
        for kind, physical in account.physical_ids(first).values()
        if kind == "AWS::IAM::Role"
    )
    generate = [
        s
        for d in account.role_policies(payments_role).values()
        for s in d["Statement"]
        if "kms:GenerateDataKey" in _list(s["Action"])
    ]
    (only,) = generate
    assert only["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": ["alias/payments"]
    }
    assert only["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:kinesis:arn": [STREAM_ARN]
    }

    exports = {
        e["Name"]: e["Value"] for e in account.client("cloudformation").list_exports()["Exports"]
    }
    assert exports["Payments-ServiceToken"] == functions[first]["FunctionArn"]
    assert exports["Everything-ServiceToken"] == functions[second]["FunctionArn"]
    log_groups = {
        g["logGroupName"]: g.get("retentionInDays")
        for g in account.client("logs").describe_log_groups()["logGroups"]
    }
    (everything_log_group,) = [
        physical for kind, physical in resources.values() if kind == "AWS::Logs::LogGroup"
    ]
    assert log_groups[everything_log_group] == 7


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
