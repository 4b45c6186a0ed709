"""The README's provider commands: every name they use exists, and they run as written.

"Use it from plain CloudFormation" and "Across an organization" promise commands that work on a
machine with only the AWS CLI. Here every parameter, file, make target and variable they name is
checked against the packaged template and the Makefile, and the plain-CloudFormation blocks are run
with bash and the AWS CLI against moto's server (when an `aws` CLI is installed), in a directory
holding only `dist/`.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devsupport.moto_server import (
    ACCOUNT_ID,
    FAKE_CREDENTIALS,
    REGION,
    aws_environment,
    moto_endpoint,
    reset_moto,
)
from scripts import package as packaging

from .conftest import REPO
from .dist_fixtures import build_dist, load_template, seed_layer_parameter
from .test_package import rule_failures

pytestmark = [
    pytest.mark.infra,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS"),
]

SECTIONS = ("Use it from plain CloudFormation", "Across an organization")


def section(title: str) -> str:
    text = (REPO / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def shell_blocks(title: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", section(title), flags=re.DOTALL)


def commands(title: str) -> list[list[str]]:
    """Each command of the section's sh blocks, continuation lines joined, comments dropped."""
    found = []
    for block in shell_blocks(title):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                found.append(words)
    return found


def option_values(words: list[str], option: str) -> list[str]:
    """The words after ``option`` up to the next ``--option``."""
    if option not in words:
        return []
    values = []
    for word in words[words.index(option) + 1 :]:
        if word.startswith("--"):
            break
        values.append(word)
    return values


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(build_dist() / packaging.TEMPLATE_NAME)


def test_sections_have_commands() -> None:
    for title in SECTIONS:
        assert commands(title), title


def test_deploy_commands_use_the_template_and_its_parameters(template: dict[str, Any]) -> None:
    deploys = [
        w
        for title in SECTIONS
        for w in commands(title)
        if w[:3] == ["aws", "cloudformation", "deploy"]
    ]
    assert len(deploys) >= 2  # a first provider and one side by side
    stacks = set()
    exports = set()
    for words in deploys:
        assert option_values(words, "--template-file") == [f"dist/{packaging.TEMPLATE_NAME}"]
        assert option_values(words, "--capabilities") == ["CAPABILITY_IAM"]
        stacks.update(option_values(words, "--stack-name"))
        overrides = dict(o.split("=", 1) for o in option_values(words, "--parameter-overrides"))
        assert set(overrides) <= set(template["Parameters"]), overrides
        required = {k for k, v in template["Parameters"].items() if "Default" not in v}
        assert required <= set(overrides)
        assert rule_failures(template, **overrides) == [], words
        exports.add(overrides.get("ExportName", template["Parameters"]["ExportName"]["Default"]))
    assert len(stacks) == len(exports) == len(deploys), "side by side: own stack and export"


def test_stack_set_commands(template: dict[str, Any]) -> None:
    words_by_action = {
        w[2]: w for w in commands("Across an organization") if w[:2] == ["aws", "cloudformation"]
    }
    create = words_by_action["create-stack-set"]
    assert option_values(create, "--template-body") == [f"file://dist/{packaging.TEMPLATE_NAME}"]
    assert option_values(create, "--permission-model") == ["SERVICE_MANAGED"]
    assert option_values(create, "--auto-deployment")[0].startswith("Enabled=true")
    assert option_values(create, "--capabilities") == ["CAPABILITY_IAM"]
    instances = words_by_action["create-stack-instances"]
    assert option_values(instances, "--deployment-targets")[0].startswith("OrganizationalUnitIds=")
    assert len(option_values(instances, "--regions")) >= 2
    for words in words_by_action.values():
        for value in option_values(words, "--parameters"):
            key = dict(kv.split("=", 1) for kv in value.split(","))["ParameterKey"]
            assert key in template["Parameters"]
    given = dict(
        kv.split("=", 1)
        for kv in option_values(create, "--parameters")[0].split(",")
        if not kv.startswith("ParameterKey")
    )
    key = dict(kv.split("=", 1) for kv in option_values(create, "--parameters")[0].split(","))
    assert rule_failures(template, **{key["ParameterKey"]: given["ParameterValue"]}) == []


def test_zip_copies_match_the_packaged_zip() -> None:
    (code_zip,) = build_dist().glob("*.zip")
    copies = [w for title in SECTIONS for w in commands(title) if w[:3] == ["aws", "s3", "cp"]]
    assert len(copies) == 2
    for words in copies:
        assert words[3] == "dist/"
        assert "--recursive" in words
        (pattern,) = option_values(words, "--include")
        assert fnmatch.fnmatch(code_zip.name, pattern)
        assert not fnmatch.fnmatch(packaging.TEMPLATE_NAME, pattern)


def test_per_region_buckets_are_named_as_the_template_reads_them() -> None:
    """`make package BUCKET_PREFIX=p` and buckets "p-$region": the template's ${CodeS3Bucket}-
    ${AWS::Region} (the variant's Default is the prefix, with the suffix switched on)."""
    org = commands("Across an organization")
    (package,) = [w for w in org if w[:2] == ["make", "package"]]
    prefix = dict(w.split("=", 1) for w in package[2:])["BUCKET_PREFIX"]
    block = "\n".join(shell_blocks("Across an organization"))
    assert f'bucket="{prefix}-$region"' in block
    assert 's3://$bucket/"' in block


def test_make_commands_use_existing_targets_and_variables() -> None:
    makefile = (REPO / "Makefile").read_text()
    makes = [w for title in SECTIONS for w in commands(title) if w[0] == "make"]
    assert {w[1] for w in makes} >= {"package", "bootstrap", "deploy-provider"}
    for words in makes:
        assert re.search(rf"^{re.escape(words[1])}:", makefile, flags=re.MULTILINE), words[1]
        for assignment in words[2:]:
            name = assignment.split("=", 1)[0]
            assert f"$({name})" in makefile, name


# --- run the plain-CloudFormation block with the AWS CLI ----------------------------------


@pytest.fixture
def moto_account() -> Iterator[str]:
    with moto_endpoint() as endpoint:
        reset_moto(endpoint)  # moto's state is per process, shared by every server in it
        seed_layer_parameter(ACCOUNT_ID, REGION)
        yield endpoint
        reset_moto(endpoint)


def test_plain_cloudformation_blocks_run_as_written(moto_account: str, tmp_path: Path) -> None:
    aws = shutil.which("aws")
    if aws is None:
        pytest.skip("no AWS CLI installed: the commands' names are checked above")
    client_args = {
        "endpoint_url": moto_account,
        "region_name": REGION,
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    blocks = [b for b in shell_blocks("Use it from plain CloudFormation") if "make " not in b]
    assert len(blocks) == 2  # upload + first provider, then a second provider beside it
    first = blocks[0]
    bucket = re.search(r"^BUCKET=(\S+)", first, flags=re.MULTILINE)
    assert bucket is not None
    boto3.client("s3", **client_args).create_bucket(Bucket=bucket.group(1))
    shutil.copytree(build_dist(), tmp_path / "dist")

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(blocks)],
        cwd=tmp_path,
        env=aws_environment(moto_account),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"

    cfn = boto3.client("cloudformation", **client_args)
    (stack,) = cfn.describe_stacks(StackName="kinesis-stream-encryption-provider")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    # (moto's change sets, which `deploy` uses, fill in no Outputs: find the function.)
    resources = cfn.list_stack_resources(StackName=stack["StackId"])["StackResourceSummaries"]
    (function_name,) = [
        r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::Function"
    ]
    function = boto3.client("lambda", **client_args).get_function_configuration(
        FunctionName=function_name
    )
    assert function["Handler"] == "handler.lambda_handler"
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    stacks = {s["StackName"]: s for s in cfn.describe_stacks()["Stacks"]}
    assert set(stacks) == {
        "kinesis-stream-encryption-provider",
        "kinesis-stream-encryption-provider-payments",
    }
    functions = boto3.client("lambda", **client_args).list_functions()["Functions"]
    assert len(functions) == 2, "two providers side by side, each with its own function"
    (code_zip,) = build_dist().glob("*.zip")
    uploaded = boto3.client("s3", **client_args).list_objects_v2(Bucket=bucket.group(1))
    assert [o["Key"] for o in uploaded["Contents"]] == [code_zip.name]


def test_parameter_table_lists_every_parameter_with_its_default(template: dict[str, Any]) -> None:
    rows = re.findall(
        r"^\| `(\w+)` \| (.*?) \|", section("Use it from plain CloudFormation"), flags=re.MULTILINE
    )
    documented = dict(rows)
    assert set(documented) == set(template["Parameters"])
    for name, default in documented.items():
        spec = template["Parameters"][name]
        if default.startswith("`"):
            assert default.strip("`") == str(spec["Default"]), name
        elif default == "empty":
            assert spec["Default"] == "", name
        elif default == "(required)":
            assert "Default" not in spec, name
