"""The drift check's infrastructure: the construct option and the packaged template's parameters.

Off by default; on, it adds a schedule that invokes the function with the check event, the
permission for EventBridge, an alarm on EncryptionDrift with the ``service`` dimension Powertools
emits (and an SNS action when a topic is given), ListStreams on ``*`` (acknowledged: it cannot be
scoped) and ListTagsForStream only on the streams the provider is granted.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from kinesis_stream_encryption import DriftCheck, KinesisStreamEncryption
from scripts import package as packaging

from . import test_cfn_deploy as cfn_deploy
from .dist_fixtures import build_dist, load_template
from .synth_helpers import join_text

pytestmark = pytest.mark.infra

# The moto account of the deploy tests (a module-scoped fixture named ``account``).
account = cfn_deploy.account

ENV = cdk.Environment(account="123456789012", region="us-east-1")
FAR_STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/far"


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for policy in _of_type(template, "AWS::IAM::Policy")
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _synth(drift_check: DriftCheck | None, *, topic: bool = False) -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    if drift_check is not None and topic:
        drift_check.alarm_topic = sns.Topic(stack, "Alerts")
    KinesisStreamEncryption(stack, "Near", stream="orders", drift_check=drift_check)
    KinesisStreamEncryption(stack, "Far", stream=FAR_STREAM, drift_check=drift_check)
    return Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


def test_off_by_default() -> None:
    template = _synth(None)
    assert _of_type(template, "AWS::Events::Rule") == []
    assert _of_type(template, "AWS::CloudWatch::Alarm") == []
    assert not any("kinesis:ListStreams" in str(s["Action"]) for s in _statements(template))


def test_on_it_schedules_the_check_event_with_its_permission() -> None:
    template = _synth(DriftCheck(schedule=cdk.Duration.minutes(30), repair=True))
    (rule,) = _of_type(template, "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == "rate(30 minutes)"
    (target,) = rule["Properties"]["Targets"]
    assert json.loads(target["Input"]) == {"kinesis-stream-encryption": "check", "repair": True}
    assert "ResponseURL" not in target["Input"]
    (permission,) = _of_type(template, "AWS::Lambda::Permission")
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    (function,) = _of_type(template, "AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["DRIFT_CHECK_PERIOD_SECONDS"] == "1800"
    assert variables["DRIFT_CHECK_REGIONS"] == "us-east-1,eu-west-1"  # its streams' regions


def test_the_alarm_watches_the_metric_as_powertools_emits_it() -> None:
    template = _synth(DriftCheck(), topic=True)
    (alarm,) = _of_type(template, "AWS::CloudWatch::Alarm")
    props = alarm["Properties"]
    assert props["MetricName"] == "EncryptionDrift"
    assert props["Namespace"] == "KinesisStreamEncryption"
    assert props["Dimensions"] == [{"Name": "service", "Value": "kinesis-stream-encryption"}]
    assert (props["Statistic"], props["Threshold"]) == ("Sum", 1)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    assert props["Period"] == 3600
    (action,) = props["AlarmActions"]
    assert "Ref" in action  # the topic
    (function,) = _of_type(template, "AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "kinesis-stream-encryption"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "KinesisStreamEncryption"


def test_only_list_streams_is_unscoped_and_list_tags_stays_per_stream() -> None:
    template = _synth(DriftCheck())
    wildcard = [s for s in _statements(template) if s["Resource"] == "*"]
    assert [_actions(s) for s in wildcard] == [["kinesis:ListStreams"]]
    tag_readers = [s for s in _statements(template) if "kinesis:ListTagsForStream" in _actions(s)]
    resources = sorted(join_text(s["Resource"]) for s in tag_readers)
    assert resources == [
        "arn:${AWS::Partition}:kinesis:us-east-1:123456789012:stream/orders",
        FAR_STREAM,
    ]


def test_a_stack_shares_one_drift_check() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    KinesisStreamEncryption(stack, "A", stream="a", drift_check=DriftCheck())
    with pytest.raises(ValueError, match="drift_check"):
        KinesisStreamEncryption(stack, "B", stream="b", drift_check=DriftCheck(repair=True))
    KinesisStreamEncryption(stack, "C", stream="c", drift_check=DriftCheck())  # equal: fine


@pytest.mark.parametrize("minutes", [0, 24 * 60 + 1])
def test_the_schedule_must_be_a_minute_to_a_day(minutes: int) -> None:
    with pytest.raises(ValueError, match="1 minute to 1 day"):
        DriftCheck(schedule=cdk.Duration.minutes(minutes))


# --- the packaged template ------------------------------------------------------------------


@pytest.fixture(scope="module")
def packaged() -> dict[str, Any]:
    return load_template(build_dist() / packaging.TEMPLATE_NAME)


def test_packaged_parameters_default_to_off(packaged: dict[str, Any]) -> None:
    parameters = packaged["Parameters"]
    assert parameters["DriftCheckSchedule"]["Default"] == "NONE"
    assert parameters["DriftRepair"]["AllowedValues"] == ["false", "true"]
    assert parameters["DriftAlarmTopicArn"]["Default"] == ""
    assert parameters["DriftCheckRegions"]["Default"] == ""


def test_packaged_drift_resources_exist_only_when_the_schedule_is_set(
    packaged: dict[str, Any],
) -> None:
    kinds = ("AWS::Events::Rule", "AWS::CloudWatch::Alarm", "AWS::Lambda::Permission")
    for kind in kinds:
        (resource,) = _of_type(packaged, kind)
        assert resource["Condition"] == "DriftCheckOn"
    (list_policy,) = [
        p
        for p in _of_type(packaged, "AWS::IAM::Policy")
        if "kinesis:ListStreams" in str(p["Properties"]["PolicyDocument"])
    ]
    assert list_policy["Condition"] == "DriftCheckOn"
    (rule,) = _of_type(packaged, "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "DriftCheckSchedule"}
    inputs = rule["Properties"]["Targets"][0]["Input"]["Fn::If"]
    assert inputs[0] == "DriftRepairOn"
    assert [json.loads(i)["repair"] for i in inputs[1:]] == [True, False]
    (alarm,) = _of_type(packaged, "AWS::CloudWatch::Alarm")
    assert alarm["Properties"]["AlarmActions"]["Fn::If"][0] == "HasDriftAlarmTopic"


def test_packaged_list_tags_is_scoped_like_the_other_stream_actions(
    packaged: dict[str, Any],
) -> None:
    for policy in _of_type(packaged, "AWS::IAM::Policy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "kinesis:ListTagsForStream" in _actions(statement):
                assert "kinesis:StartStreamEncryption" in _actions(statement)
                assert statement["Resource"] != "*"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("NONE", True),
        ("rate(1 hour)", True),
        ("rate(15 minutes)", True),
        ("rate(1 day)", True),
        ("rate(1 hours)", False),
        ("rate(0 minutes)", False),
        ("cron(0 * * * ? *)", False),
        ("", False),
    ],
)
def test_the_schedule_parameter_takes_rate_expressions(value: str, ok: bool) -> None:
    import re

    assert bool(re.fullmatch(packaging.DRIFT_SCHEDULE_PATTERN, value)) is ok


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_packaged_template_deploys_with_the_drift_check_on(account: cfn_deploy.Account) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:drift-alerts"
    stack_id = account.deploy(
        load_template(build_dist() / packaging.TEMPLATE_NAME),
        "provider-with-drift-check",
        CodeS3Bucket="my-artifacts-bucket",
        StreamNamePrefixes="encrypted-",
        ExportName="Drift-ServiceToken",
        DriftCheckSchedule="rate(1 hour)",
        DriftRepair="true",
        DriftAlarmTopicArn=topic,
    )
    by_type: dict[str, list[str]] = {}
    for resource_type, physical_id in account.physical_ids(stack_id).values():
        by_type.setdefault(resource_type, []).append(physical_id)
    (function_name,) = by_type["AWS::Lambda::Function"]
    variables = account.client("lambda").get_function(FunctionName=function_name)["Configuration"][
        "Environment"
    ]["Variables"]
    assert variables["DRIFT_CHECK_SCHEDULE"] == "rate(1 hour)"
    assert variables["DRIFT_CHECK_REGIONS"] == "us-east-1"

    (rule_name,) = by_type["AWS::Events::Rule"]
    rule = account.client("events").describe_rule(Name=rule_name)
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    (target,) = account.client("events").list_targets_by_rule(Rule=rule_name)["Targets"]
    assert json.loads(target["Input"]) == {"kinesis-stream-encryption": "check", "repair": True}

    # moto 5.2's CloudFormation does not create AWS::CloudWatch::Alarm (it records no type for
    # it); the alarm's properties are checked in the template above.

    (role_name,) = by_type["AWS::IAM::Role"]
    statements = [s for d in account.role_policies(role_name).values() for s in d["Statement"]]
    listing = [s for s in statements if "kinesis:ListStreams" in str(s["Action"])]
    assert [s["Resource"] for s in listing] == ["*"]
    tag_reads = [s for s in statements if "kinesis:ListTagsForStream" in str(s["Action"])]
    assert [s["Resource"] for s in tag_reads] == [
        "arn:aws:kinesis:us-east-1:123456789012:stream/encrypted-*"
    ]
