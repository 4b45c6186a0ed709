"""`make package`: the code zip and the packaged provider template (scripts/package.py).

The template must deploy with nothing but the AWS CLI, so it may not refer to CDK assets or the
bootstrap stack, and it must come from the same construct code as the CDK provider stack.
"""

from __future__ import annotations

import copy
import io
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from kinesis_stream_encryption import HANDLER, powertools_layer_parameter_name
from scripts import package as packaging

from .conftest import REPO, ExampleApp, as_list
from .dist_fixtures import (
    build_dist,
    build_per_region_template,
    build_synthesized,
    load_template,
)

pytestmark = pytest.mark.infra

CACHES = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
#: `aws cloudformation deploy` and `create-stack-set --template-body` take at most this many bytes
#: inline (larger templates need an S3 upload, which the README does not ask for).
TEMPLATE_BODY_LIMIT = 51_200


def lambda_src_files() -> dict[str, bytes]:
    """What the zip must hold: lambda_src/ without caches."""
    source = REPO / "lambda_src"
    return {
        p.relative_to(source).as_posix(): p.read_bytes()
        for p in sorted(source.rglob("*"))
        if p.is_file()
        and p.suffix != ".pyc"
        and not CACHES.intersection(p.relative_to(source).parts)
    }


def all_statements(template: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """(condition of the policy, statement) for every statement of every IAM policy."""
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                found.append((resource.get("Condition"), statement))
    return found


def function_of(template: dict[str, Any]) -> dict[str, Any]:
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    return function


# --- a tiny evaluator for the template's Rules and Conditions (moto ignores Rules) ---


def evaluate(expression: Any, parameters: dict[str, Any]) -> Any:
    if not isinstance(expression, (dict, list)):
        return expression
    if isinstance(expression, list):
        return [evaluate(e, parameters) for e in expression]
    ((name, argument),) = expression.items()
    if name == "Ref":
        return parameters[argument]
    args = [evaluate(a, parameters) for a in argument]
    if name == "Fn::Or":
        return any(args)
    if name == "Fn::And":
        return all(args)
    if name == "Fn::Not":
        return not args[0]
    if name == "Fn::Equals":
        return args[0] == args[1]
    if name == "Fn::EachMemberEquals":
        return all(member == args[1] for member in args[0])
    if name == "Fn::Contains":
        return args[1] in args[0]
    if name == "Fn::Join":
        return args[0].join(args[1])
    if name == "Fn::Split":
        return args[1].split(args[0])
    if name == "Fn::Select":
        return args[1][int(args[0])]
    raise AssertionError(f"unexpected function {name}")


def parameter_values(template: dict[str, Any], **given: str) -> dict[str, Any]:
    """Parameter values as CloudFormation passes them (lists split), defaults filled in."""
    parameters: dict[str, Any] = {}
    for name, spec in template["Parameters"].items():
        value = given.get(name, spec.get("Default"))
        parameters[name] = str(value).split(",") if spec["Type"] == "CommaDelimitedList" else value
    return parameters


def true_conditions(template: dict[str, Any], **given: str) -> set[str]:
    parameters = parameter_values(template, **given)
    return {n for n, c in template["Conditions"].items() if evaluate(c, parameters)}


def rule_failures(template: dict[str, Any], **given: str) -> list[str]:
    """The AssertDescriptions that fail for these parameter values (defaults otherwise)."""
    parameters = parameter_values(template, **given)
    failures = []
    for rule in template["Rules"].values():
        for assertion in rule["Assertions"]:
            if not evaluate(assertion["Assert"], parameters):
                failures.append(assertion["AssertDescription"])
    return failures


@pytest.fixture(scope="session")
def dist() -> Path:
    return build_dist()


@pytest.fixture(scope="session")
def packaged(dist: Path) -> dict[str, Any]:
    return load_template(dist / packaging.TEMPLATE_NAME)


@pytest.fixture(scope="session")
def synthesized() -> tuple[dict[str, Any], Path]:
    return build_synthesized()


# --- the zip ---------------------------------------------------------------------------------


def test_dist_holds_the_template_and_one_content_named_zip(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    (zip_name,) = [n for n in names if n.endswith(".zip")]
    assert names == sorted([packaging.TEMPLATE_NAME, zip_name])
    content = (dist / zip_name).read_bytes()
    assert zip_name == packaging.zip_name(content)
    assert re.fullmatch(r"kinesis-stream-encryption-lambda-[0-9a-f]{16}\.zip", zip_name)


def test_zip_holds_exactly_lambda_src_without_caches(dist: Path) -> None:
    (code_zip,) = dist.glob("*.zip")
    with zipfile.ZipFile(code_zip) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
        infos = archive.infolist()
    assert entries == lambda_src_files()
    assert "handler.py" in entries  # HANDLER's module at the root of the zip
    assert {info.date_time for info in infos} == {packaging.ZIP_EPOCH}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_zip_is_reproducible_and_skips_caches(
    dist: Path, synthesized: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    """Same bytes from another process (the CDK-staged asset), and caches never get in."""
    _, asset = synthesized
    (code_zip,) = dist.glob("*.zip")
    assert packaging.zip_directory(asset) == code_zip.read_bytes()
    tree = tmp_path / "src"
    (tree / "pkg" / "__pycache__").mkdir(parents=True)
    (tree / "handler.py").write_text("x = 1\n")
    (tree / "pkg" / "__pycache__" / "m.cpython-314.pyc").write_bytes(b"\0")
    (tree / "stray.pyc").write_bytes(b"\0")
    with zipfile.ZipFile(io.BytesIO(packaging.zip_directory(tree))) as archive:
        assert archive.namelist() == ["handler.py"]


# --- the template ----------------------------------------------------------------------------


def test_template_is_self_contained(dist: Path, packaged: dict[str, Any]) -> None:
    text = (dist / packaging.TEMPLATE_NAME).read_text()
    assert len(text.encode()) < TEMPLATE_BODY_LIMIT
    for cdk_only in ("cdk-hnb659fds", "BootstrapVersion", "aws:asset", "aws:cdk", "CDKMetadata"):
        assert cdk_only not in text
    assert "Transform" not in packaged
    code = function_of(packaged)["Properties"]["Code"]
    assert code == {
        "S3Bucket": {
            "Fn::If": [
                "CodeBucketPerRegion",
                {"Fn::Sub": "${CodeS3Bucket}-${AWS::Region}"},
                {"Ref": "CodeS3Bucket"},
            ]
        },
        "S3Key": {"Ref": "CodeS3Key"},
    }
    (zip_name,) = [p.name for p in dist.glob("*.zip")]
    parameters = packaged["Parameters"]
    assert parameters["CodeS3Key"]["Default"] == zip_name
    assert "Default" not in parameters["CodeS3Bucket"]  # the deployer names the bucket
    assert parameters["CodeS3BucketRegionSuffix"]["Default"] == "false"


def test_parameters_have_safe_defaults(packaged: dict[str, Any]) -> None:
    parameters = packaged["Parameters"]
    assert parameters["AllStreams"]["Default"] == "NO"
    assert parameters["AllStreams"]["AllowedValues"] == ["NO", "ALL"]
    for name in ("StreamArns", "StreamNamePrefixes", "KeyArns", "KeyAliases"):
        assert parameters[name] == {**parameters[name], "Type": "CommaDelimitedList", "Default": ""}
    assert parameters["Tracing"]["Default"] == "PassThrough"
    assert parameters["ExportName"]["Default"] == "KinesisStreamEncryption-ServiceToken"
    assert parameters["LogRetentionInDays"]["Default"] == 30
    layer = parameters["PowertoolsLayerParameter"]
    assert layer["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert layer["Default"] == powertools_layer_parameter_name()
    function = function_of(packaged)["Properties"]
    assert function["Layers"] == [{"Ref": "PowertoolsLayerParameter"}]
    assert packaged["Outputs"]["ServiceToken"]["Export"] == {"Name": {"Ref": "ExportName"}}


def test_rules_demand_a_deliberate_stream_scope(packaged: dict[str, Any]) -> None:
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    assert len(rule_failures(packaged)) == 1, "defaults alone must not deploy a provider"
    assert rule_failures(packaged, StreamNamePrefixes="team-a-,team-b-") == []
    assert rule_failures(packaged, StreamArns=arn) == []
    assert rule_failures(packaged, AllStreams="ALL") == []
    assert rule_failures(packaged, StreamArns=arn, StreamNamePrefixes="x-") == []
    assert rule_failures(packaged, AllStreams="ALL", StreamNamePrefixes="x-") != []
    assert rule_failures(packaged, StreamNamePrefixes="team-a-,") != []  # "" = every stream
    assert rule_failures(packaged, StreamArns=arn, KeyArns="k", KeyAliases="alias/a") != []


def test_tracing_is_off_by_default_and_xray_only_with_it(packaged: dict[str, Any]) -> None:
    function = function_of(packaged)["Properties"]
    assert function["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingActive", "false", "true"]
    }
    xray = [(c, s) for c, s in all_statements(packaged) if "xray" in str(s["Action"])]
    assert [c for c, _ in xray] == ["TracingActive"]
    assert packaged["Conditions"]["TracingActive"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}


def test_every_stream_grant_is_conditional_on_its_scope(packaged: dict[str, Any]) -> None:
    by_condition: dict[str | None, list[dict[str, Any]]] = {}
    for condition, statement in all_statements(packaged):
        by_condition.setdefault(condition, []).append(statement)
    unconditional = [a for s in by_condition[None] for a in as_list(s["Action"])]
    assert not [a for a in unconditional if a.startswith("kinesis:")]
    assert "kms:GenerateDataKey" not in unconditional
    # The drift check's ListStreams (it cannot be scoped) is tested in test_drift_check_infra.
    scopes = {c for c in by_condition if c not in (None, "TracingActive", "DriftCheckOn")}
    assert scopes == {
        "HasStreamArns",
        "AllStreamsChosen",
        *(f"HasStreamNamePrefix{i}" for i in range(packaging.PREFIX_SLOTS)),
    }
    for condition in scopes:
        kinesis, generate = by_condition[condition]
        context = generate["Condition"]["StringLike"]["kms:EncryptionContext:aws:kinesis:arn"]
        assert context == kinesis["Resource"], "KMS only for requests about the same streams"
        assert generate["Condition"]["StringEquals"]["kms:ViaService"] == {
            "Fn::Join": ["", ["kinesis.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]
        }, "the partition's own URL suffix (amazonaws.com.cn in China)"


def test_same_function_and_actions_as_the_cdk_provider(
    packaged: dict[str, Any], example_app: ExampleApp
) -> None:
    """One source of truth: the CDK provider stack and the packaged template agree."""
    cdk_template = Template.from_stack(example_app.provider).to_json()
    ours, theirs = function_of(packaged)["Properties"], function_of(cdk_template)["Properties"]
    assert ours["Handler"] == theirs["Handler"] == HANDLER
    for key in ("Runtime", "Architectures", "MemorySize", "Timeout", "Description"):
        assert ours[key] == theirs[key], key

    def environment(function: dict[str, Any]) -> dict[str, Any]:
        variables = dict(function["Environment"]["Variables"])
        variables.pop("POWERTOOLS_TRACE_DISABLED", None)  # a parameter in the packaged template
        for drift_setting in ("DRIFT_CHECK_SCHEDULE", "DRIFT_CHECK_REGIONS"):  # parameters too
            variables.pop(drift_setting, None)
        return variables

    assert environment(ours) == environment(theirs)

    def actions(template: dict[str, Any]) -> set[str]:
        return {a for _, s in all_statements(template) for a in as_list(s["Action"])}

    xray = set(packaging.XRAY_ACTIONS)
    # The drift check's actions come with DriftCheckSchedule (see test_drift_check_infra).
    drift = {"kinesis:ListStreams", "kinesis:ListTagsForStream"}
    assert actions(packaged) - xray - drift == actions(cdk_template) - xray - drift
    assert xray <= actions(packaged)
    event_config = [
        r["Properties"]
        for r in packaged["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    ]
    assert [{k: v for k, v in c.items() if k != "FunctionName"} for c in event_config] == [
        {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2, "Qualifier": "$LATEST"}
    ]


def test_per_region_bucket_variant(packaged: dict[str, Any]) -> None:
    variant = load_template(build_per_region_template())
    assert variant["Parameters"]["CodeS3Bucket"]["Default"] == "my-org-code"
    assert variant["Parameters"]["CodeS3BucketRegionSuffix"]["Default"] == "true"
    assert variant["Resources"] == packaged["Resources"]


def test_transform_refuses_a_shape_it_does_not_know(
    synthesized: tuple[dict[str, Any], Path],
) -> None:
    template, _ = synthesized
    code = packaging.CodeLocation(key="k.zip")
    extra = copy.deepcopy(template)
    extra.setdefault("Parameters", {})["Surprise"] = {"Type": "String"}
    with pytest.raises(ValueError, match="Surprise"):
        packaging.parameterize(extra, code=code)
    no_key_grant = copy.deepcopy(template)
    for resource in no_key_grant["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            document = resource["Properties"]["PolicyDocument"]
            document["Statement"] = [
                s for s in document["Statement"] if "kms:GenerateDataKey" not in str(s["Action"])
            ]
    with pytest.raises(ValueError, match="key statements"):
        packaging.parameterize(no_key_grant, code=code)


def test_package_refuses_bad_bucket_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        packaging.package(tmp_path, bucket="a-bucket", bucket_prefix="a-prefix")
    with pytest.raises(ValueError, match="not an S3 bucket name"):
        packaging.package(tmp_path, bucket_prefix="Bad_Prefix")


def test_make_package_passes_the_bucket_options() -> None:
    def dry_run(*variables: str) -> str:
        done = subprocess.run(
            ["make", "-n", "package", *variables],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        commands = done.stdout.replace("\\\n", " ").splitlines()  # join continued lines
        (line,) = [x for x in commands if "scripts/package.py" in x]
        return " ".join(line.split())

    assert dry_run().endswith("scripts/package.py --out dist")
    assert dry_run("BUCKET_PREFIX=my-org-code").endswith("--bucket-prefix my-org-code")
    assert dry_run("BUCKET=my-code").endswith("--bucket my-code")


def test_dist_is_not_committed() -> None:
    assert "dist/" in (REPO / ".gitignore").read_text().splitlines()


SCOPE_SAMPLES = {
    "StreamArns": (
        "stream_arns",
        [
            "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
            "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d",
            "arn:aws:kinesis:us-east-1:123456789012:stream/*",
            "orders",
            "arn:aws:kinesis:us-east-1:1234:stream/orders",
        ],
    ),
    "StreamNamePrefixes": ("stream_name_prefixes", ["team-a-", "a.b_c", "*", "team a", "x" * 128]),
    "KeyArns": (
        "key_arns",
        [
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:alias/orders",
            "arn:aws:kms:us-east-1:123456789012:key/*",
        ],
    ),
    "KeyAliases": ("key_aliases", ["alias/orders", "alias/team/orders", "orders", "alias/"]),
}


@pytest.mark.parametrize("parameter", sorted(SCOPE_SAMPLES))
def test_list_parameters_accept_what_the_cdk_scope_accepts(
    packaged: dict[str, Any], parameter: str, example_app: ExampleApp
) -> None:
    """Each entry is checked by CloudFormation (AllowedPattern) as ProviderScope checks it."""
    pattern = packaged["Parameters"][parameter]["AllowedPattern"]
    assert re.fullmatch(pattern, ""), "the empty default must pass"
    keyword, samples = SCOPE_SAMPLES[parameter]
    scope = example_app.module.ProviderScope
    base = {} if keyword in ("stream_arns", "stream_name_prefixes") else {"all_streams": True}
    for value in samples:
        try:
            scope(**base, **{keyword: [value]})
            accepted = True
        except ValueError:
            accepted = False
        assert (re.fullmatch(pattern, value) is not None) == accepted, value


def test_each_prefix_gets_a_slot_and_one_too_many_fails_by_name(packaged: dict[str, Any]) -> None:
    def prefix_conditions(count: int) -> set[str]:
        prefixes = ",".join(f"team-{i}-" for i in range(count))
        found = true_conditions(packaged, StreamNamePrefixes=prefixes)
        return {c for c in found if "StreamNamePrefix" in c}

    slots = packaging.PREFIX_SLOTS
    assert prefix_conditions(0) == set()
    assert prefix_conditions(1) == {"HasStreamNamePrefix0"}
    assert prefix_conditions(slots) == {f"HasStreamNamePrefix{i}" for i in range(slots)}
    assert "TooManyStreamNamePrefixes" in prefix_conditions(slots + 1)
    guards = {
        logical_id: resource
        for logical_id, resource in packaged["Resources"].items()
        if resource.get("Condition") == "TooManyStreamNamePrefixes"
    }
    assert f"AtMost{slots}StreamNamePrefixesAllowed" in guards
    assert {r["Type"] for r in guards.values()} == {
        "AWS::CloudFormation::WaitCondition",
        "AWS::CloudFormation::WaitConditionHandle",
    }
    # The prefix lands in its slot's policy: the slot selects the i-th entry.
    parameters = parameter_values(packaged, StreamNamePrefixes="a-,b-,c-")
    pattern = packaged["Resources"]["StreamNamePrefix2Policy"]["Properties"]["PolicyDocument"][
        "Statement"
    ][0]["Resource"]["Fn::Sub"][1]["Prefix"]
    assert evaluate(pattern, parameters) == "c-"
