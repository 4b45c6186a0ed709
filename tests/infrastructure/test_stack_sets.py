"""The packaged template as a service-managed StackSets template, in moto's organization.

The README's "Across an organization" route: `make package BUCKET_PREFIX=...` (the template reads
the zip from `<prefix>-<region>`), one bucket per region holding the zip, then create-stack-set
(SERVICE_MANAGED, auto-deployment) and create-stack-instances for an OU and the README's regions.
moto deploys a hidden stack per account and region; each must get its function with the code from
its own region's bucket. (moto's organizations model needs the in-process mock, not the server.)
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from kinesis_stream_encryption import HANDLER
from scripts import package as packaging

from .dist_fixtures import (
    build_dist,
    build_per_region_template,
    load_template,
    seed_layer_parameter,
)
from .test_readme_commands import commands, option_values

pytestmark = [
    pytest.mark.infra,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS"),
]

BUCKET_PREFIX = "my-org-code"  # what build_per_region_template() was packaged with


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    with mock_aws():
        yield


def readme_stack_set() -> tuple[str, dict[str, str], list[str]]:
    """Stack set name, parameters and regions as the README's commands give them."""
    by_action = {
        w[2]: w for w in commands("Across an organization") if w[:2] == ["aws", "cloudformation"]
    }
    create, instances = by_action["create-stack-set"], by_action["create-stack-instances"]
    (name,) = option_values(create, "--stack-set-name")
    parameters = {}
    for value in option_values(create, "--parameters"):
        fields = dict(kv.split("=", 1) for kv in value.split(","))
        parameters[fields["ParameterKey"]] = fields["ParameterValue"]
    return name, parameters, option_values(instances, "--regions")


@pytest.mark.usefixtures("aws")
def test_service_managed_stack_set_deploys_a_provider_per_account_and_region() -> None:
    from moto.awslambda.models import lambda_backends

    name, parameters, regions = readme_stack_set()
    assert len(regions) >= 2
    template = build_per_region_template()
    assert load_template(template)["Parameters"]["CodeS3Bucket"]["Default"] == BUCKET_PREFIX
    (code_zip,) = build_dist().glob("*.zip")

    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="streams")["OrganizationalUnit"]["Id"]
    accounts = []
    for index in range(2):
        status = org.create_account(Email=f"team{index}@example.com", AccountName=f"team{index}")
        account = status["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        accounts.append(account)
        for region in regions:
            seed_layer_parameter(account, region)
    for region in regions:  # one bucket per region, as the README's loop makes them
        s3 = boto3.client("s3", region_name=region)
        location: dict[str, Any] = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=f"{BUCKET_PREFIX}-{region}", **location)
        s3.put_object(
            Bucket=f"{BUCKET_PREFIX}-{region}", Key=code_zip.name, Body=code_zip.read_bytes()
        )

    cfn = boto3.client("cloudformation")
    cfn.create_stack_set(
        StackSetName=name,
        TemplateBody=template.read_text(),
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    cfn.create_stack_instances(
        StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [ou]}, Regions=regions
    )
    instances = cfn.list_stack_instances(StackSetName=name)["Summaries"]
    assert sorted((i["Account"], i["Region"]) for i in instances) == sorted(
        (a, r) for a in accounts for r in regions
    )
    assert {i["StackInstanceStatus"]["DetailedStatus"] for i in instances} == {"SUCCEEDED"}

    sha = base64.b64encode(hashlib.sha256(code_zip.read_bytes()).digest()).decode()
    for account in accounts:
        for region in regions:
            (function,) = lambda_backends[account][region].list_functions()
            configuration = function.get_configuration()
            assert configuration["Handler"] == HANDLER
            assert configuration["CodeSha256"] == sha
            assert function.code["S3Bucket"] == f"{BUCKET_PREFIX}-{region}"
            assert function.code["S3Key"] == code_zip.name
    assert packaging.TEMPLATE_NAME in str(template)
