"""`make bootstrap` and `make deploy-provider`: the CDK route to a provider, without an account.

The recipe's command line is read with `make -n`; then the same recipe runs with
``PROVIDER_ACTION=synth``, so the locked CLI synthesizes exactly what `deploy` would deploy, with
the scope and names given as make variables.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kinesis_stream_encryption import STREAM_ACTIONS

from .conftest import REPO, as_list
from .test_cdk_cli import locked_cdk_cli, offline_env  # noqa: F401  (fixture)

pytestmark = pytest.mark.infra

STACK_ID = "KinesisStreamEncryptionProviderStack"
STREAM_ARNS = (
    "arn:aws:kinesis:us-east-1:123456789012:stream/payments,"
    "arn:aws:kinesis:us-east-1:123456789012:stream/refunds"
)
VARIABLES = {
    "STACK_NAME": "kinesis-stream-encryption-provider-team-a",
    "EXPORT_NAME": "TeamA-KinesisStreamEncryption-ServiceToken",
    "STREAM_ARNS": STREAM_ARNS,
    "STREAM_NAME_PREFIXES": "team-a-,shared-",
    "KEY_ALIASES": "alias/team-a",
}


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def cdk_command(target: str, *variables: str) -> list[str]:
    """The cdk invocation `make -n target` would run, as words."""
    done = make("-n", target, *variables)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.replace("\\\n", " ").splitlines()
    (line,) = [x for x in lines if "node_modules/.bin/cdk " in x]
    return shlex.split(line)


def context_of(words: list[str]) -> dict[str, str]:
    return dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "-c")


def test_bootstrap_runs_the_locked_cli() -> None:
    words = cdk_command("bootstrap")
    assert words[words.index("node_modules/.bin/cdk") + 1] == "bootstrap"
    assert "CDK_DISABLE_CLI_TELEMETRY=true" in words


def test_deploy_provider_passes_names_and_scope_as_context() -> None:
    words = cdk_command("deploy-provider", *(f"{k}={v}" for k, v in VARIABLES.items()))
    cli = words.index("node_modules/.bin/cdk")
    assert words[cli + 1 : cli + 3] == ["deploy", STACK_ID]
    assert context_of(words) == {
        "providerStackName": VARIABLES["STACK_NAME"],
        "exportName": VARIABLES["EXPORT_NAME"],
        "streamArns": STREAM_ARNS,
        "streamNamePrefixes": "team-a-,shared-",
        "keyAliases": "alias/team-a",
    }
    # No variables: no context, so cdk.json and the app's defaults decide (prefix encrypted-).
    assert context_of(cdk_command("deploy-provider")) == {}
    all_streams = cdk_command("deploy-provider", "ALL_STREAMS=ALL")
    assert context_of(all_streams) == {"allStreams": "ALL"}


def resources_of(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def arn_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(arn_text(p) for p in parts)
    return "${" + str(value["Ref"]) + "}"


@pytest.mark.usefixtures("locked_cdk_cli")
def test_deploy_provider_recipe_synthesizes_the_named_scoped_provider(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    done = make(
        "deploy-provider",
        "PROVIDER_ACTION=synth",
        f"DEPLOY_ARGS=--quiet --no-lookups --output {out}",
        *(f"{k}={v}" for k, v in VARIABLES.items()),
        env=offline_env(),
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    manifest = json.loads((out / "manifest.json").read_text())
    artifact = manifest["artifacts"][STACK_ID]
    assert artifact["properties"]["stackName"] == VARIABLES["STACK_NAME"]
    template = json.loads((out / f"{STACK_ID}.template.json").read_text())
    assert template["Outputs"]["ServiceToken"]["Export"] == {"Name": VARIABLES["EXPORT_NAME"]}

    # CloudFormation names the function, role and log group: several providers can coexist.
    (function,) = resources_of(template, "AWS::Lambda::Function")
    assert "FunctionName" not in function["Properties"]
    (role,) = resources_of(template, "AWS::IAM::Role")
    assert "RoleName" not in role["Properties"]
    (log_group,) = resources_of(template, "AWS::Logs::LogGroup")
    assert "LogGroupName" not in log_group["Properties"]

    statements = [
        s
        for policy in resources_of(template, "AWS::IAM::Policy")
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    (kinesis,) = [s for s in statements if as_list(s["Action"]) == list(STREAM_ACTIONS)]
    pattern = "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/"
    expected = [*STREAM_ARNS.split(","), f"{pattern}team-a-*", f"{pattern}shared-*"]
    assert [arn_text(r) for r in as_list(kinesis["Resource"])] == expected
    (generate,) = [s for s in statements if s["Action"] == "kms:GenerateDataKey"]
    assert generate["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": "alias/team-a"
    }
    context = generate["Condition"]["StringLike"]["kms:EncryptionContext:aws:kinesis:arn"]
    assert [arn_text(c) for c in context] == expected
