"""KinesisStreamEncryption: one shared Lambda, least-privilege IAM per resource, CFN contract."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesis as kinesis
from aws_cdk.assertions import Annotations, Match

from kinesis_stream_encryption import (
    FUNCTION_TIMEOUT,
    HANDLER,
    POWERTOOLS_VERSION,
    RESOURCE_TYPE,
    STREAM_ACTIONS,
    KinesisStreamEncryption,
    KinesisStreamEncryptionProvider,
    lambda_code_dir,
    powertools_layer_parameter_name,
)

from .conftest import (
    ALIAS_NAME,
    ALIASED_STREAM_ARN,
    IMPORTED_ALIAS,
    IMPORTED_STREAM_ARN,
    KEY_ARN,
    KEY_ID,
    LAYER_ARN,
    OWN_ALIAS,
    REPO,
    STREAM_ARN,
    STREAM_NAME,
    Scenarios,
    as_list,
    logical_id,
    statements,
    statements_with_action_prefix,
)
from .synth_helpers import join_text, resources_of, warning_ids

pytestmark = pytest.mark.infra


def _custom_resources(s: Scenarios, stack: str) -> dict[str, Any]:
    return s.templates[stack].find_resources(RESOURCE_TYPE)


def _resource(s: Scenarios, stack: str, construct_key: str) -> dict[str, Any]:
    construct = s.three_constructs[construct_key]
    return _custom_resources(s, stack)[logical_id(s.three, construct)]


# --- one Lambda per stack -------------------------------------------------------------------


def test_one_function_serves_three_streams(scenarios: Scenarios) -> None:
    t = scenarios.templates["three"]
    t.resource_count_is(RESOURCE_TYPE, 3)
    t.resource_count_is("AWS::Lambda::Function", 1)
    t.resource_count_is("AWS::IAM::Role", 1)
    t.resource_count_is("AWS::Logs::LogGroup", 1)
    t.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)
    (function_id,) = t.find_resources("AWS::Lambda::Function")
    for resource in _custom_resources(scenarios, "three").values():
        assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_provider_is_a_stack_singleton(scenarios: Scenarios) -> None:
    providers = {id(c.provider) for c in scenarios.three_constructs.values()}
    assert len(providers) == 1
    assert (
        KinesisStreamEncryptionProvider.of(scenarios.three)
        is scenarios.three_constructs["arn"].provider
    )


def test_provider_id_taken_by_something_else_is_an_error(fresh_stack: cdk.Stack) -> None:
    cdk.CfnOutput(fresh_stack, "KinesisStreamEncryptionProvider", value="x")
    with pytest.raises(ValueError, match="reserved"):
        KinesisStreamEncryption(fresh_stack, "E", stream=STREAM_ARN)


# --- the function ---------------------------------------------------------------------------


def test_function_configuration(scenarios: Scenarios) -> None:
    t = scenarios.templates["three"]
    (function,) = t.find_resources("AWS::Lambda::Function").values()
    props = function["Properties"]
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == HANDLER == "handler.lambda_handler"
    assert props["Timeout"] == FUNCTION_TIMEOUT.to_seconds() == 300
    assert props["MemorySize"] == 256
    assert "TracingConfig" not in props  # tracing is opt-in (test_tracing.py)
    assert props["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "kinesis-stream-encryption",
        "POWERTOOLS_METRICS_NAMESPACE": "KinesisStreamEncryption",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    (log_group_id,) = t.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 30}}
    )
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}


def test_powertools_layer_comes_from_public_ssm_parameter(scenarios: Scenarios) -> None:
    t = scenarios.templates["three"]
    (function,) = t.find_resources("AWS::Lambda::Function").values()
    (layer,) = function["Properties"]["Layers"]
    parameter = t.to_json()["Parameters"][layer["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == "/aws/service/powertools/python/arm64/python3.14/3.37.0"
    assert parameter["Default"] == powertools_layer_parameter_name()


def test_powertools_version_matches_lock_file() -> None:
    lock = (REPO / "uv.lock").read_text()
    match = re.search(r'name = "aws-lambda-powertools"\nversion = "([^"]+)"', lock)
    assert match is not None
    assert match[1] == POWERTOOLS_VERSION


def test_powertools_layer_can_be_overridden(scenarios: Scenarios) -> None:
    t = scenarios.templates["default_key"]
    (function,) = t.find_resources("AWS::Lambda::Function").values()
    assert function["Properties"]["Layers"] == [LAYER_ARN]
    assert not any("powertools" in p for p in t.to_json().get("Parameters", {}))


def test_async_invocation_config(scenarios: Scenarios) -> None:
    scenarios.templates["three"].has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600, "Qualifier": "$LATEST"},
    )


def test_synthesized_handler_is_a_function_of_the_asset(scenarios: Scenarios) -> None:
    """The Handler string names a callable in the bundled code, as Lambda will import it."""
    (function,) = scenarios.templates["three"].find_resources("AWS::Lambda::Function").values()
    module_name, _, attribute = function["Properties"]["Handler"].partition(".")
    spec = importlib.util.spec_from_file_location(
        f"asset_{module_name}", lambda_code_dir() / f"{module_name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, attribute))


# --- resource properties --------------------------------------------------------------------


def test_properties_sent_to_the_handler(scenarios: Scenarios) -> None:
    by_arn = _resource(scenarios, "three", "arn")["Properties"]
    (key_id,) = scenarios.templates["three"].find_resources("AWS::KMS::Key")
    assert by_arn["StreamARN"] == STREAM_ARN
    assert by_arn["KeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert by_arn["EncryptionType"] == "KMS"
    assert "StreamName" not in by_arn

    by_name = _resource(scenarios, "three", "name")["Properties"]
    assert by_name["StreamName"] == STREAM_NAME
    assert "StreamARN" not in by_name
    assert by_name["KeyId"] == ALIAS_NAME

    imported = _resource(scenarios, "three", "imported")["Properties"]
    assert imported["StreamARN"] == IMPORTED_STREAM_ARN
    assert imported["KeyId"] == KEY_ARN


def test_default_key_omits_key_id(scenarios: Scenarios) -> None:
    for resource in _custom_resources(scenarios, "default_key").values():
        assert "KeyId" not in resource["Properties"]
        assert resource["Properties"]["EncryptionType"] == "KMS"


def test_default_service_timeout_is_just_above_function_timeout(scenarios: Scenarios) -> None:
    for resource in _custom_resources(scenarios, "three").values():
        timeout = int(resource["Properties"]["ServiceTimeout"])
        assert FUNCTION_TIMEOUT.to_seconds() < timeout <= 3600
        assert timeout == 360


def test_service_timeout_can_be_raised(scenarios: Scenarios) -> None:
    timeouts = sorted(
        int(r["Properties"]["ServiceTimeout"])
        for r in _custom_resources(scenarios, "other_keys").values()
    )
    assert timeouts == [360, 360, 360, 1800]


@pytest.mark.parametrize("seconds", [0, 3601])
def test_service_timeout_out_of_range_is_an_error(fresh_stack: cdk.Stack, seconds: int) -> None:
    with pytest.raises(ValueError, match="1 to 3600"):
        KinesisStreamEncryption(
            fresh_stack, "E", stream=STREAM_ARN, service_timeout=cdk.Duration.seconds(seconds)
        )


def test_service_timeout_not_above_function_timeout_warns(fresh_stack: cdk.Stack) -> None:
    KinesisStreamEncryption(
        fresh_stack, "E", stream=STREAM_ARN, service_timeout=cdk.Duration.minutes(2)
    )
    Annotations.from_stack(fresh_stack).has_warning(
        "/Scratch/E", Match.string_like_regexp("not above the function timeout")
    )


def test_removal_policy(scenarios: Scenarios) -> None:
    assert _resource(scenarios, "three", "imported")["DeletionPolicy"] == "Retain"
    assert _resource(scenarios, "three", "imported")["UpdateReplacePolicy"] == "Retain"
    assert _resource(scenarios, "three", "arn")["DeletionPolicy"] == "Delete"
    assert _resource(scenarios, "three", "name")["DeletionPolicy"] == "Delete"


def test_accessors_are_getatts(scenarios: Scenarios) -> None:
    construct = scenarios.three_constructs["arn"]
    resource_id = logical_id(scenarios.three, construct)
    resolve = scenarios.three.resolve
    assert resolve(construct.attr_stream_arn) == {"Fn::GetAtt": [resource_id, "StreamARN"]}
    assert resolve(construct.attr_stream_name) == {"Fn::GetAtt": [resource_id, "StreamName"]}
    assert resolve(construct.attr_key_id) == {"Fn::GetAtt": [resource_id, "KeyId"]}
    assert resolve(construct.attr_encryption_type) == {
        "Fn::GetAtt": [resource_id, "EncryptionType"]
    }
    assert construct.function is construct.provider.function


# --- IAM ------------------------------------------------------------------------------------


def test_kinesis_actions_only_on_each_streams_arn(scenarios: Scenarios) -> None:
    t = scenarios.templates["three"]
    kinesis_statements = statements_with_action_prefix(t, "kinesis:")
    assert len(kinesis_statements) == 3
    resources = set()
    for statement in kinesis_statements:
        assert sorted(as_list(statement["Action"])) == sorted(STREAM_ACTIONS)
        assert statement["Effect"] == "Allow"
        (resource,) = as_list(statement["Resource"])
        resources.add(join_text(resource))
    assert resources == {
        STREAM_ARN,
        IMPORTED_STREAM_ARN,
        "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/payments",
    }


@pytest.mark.parametrize("stack", ["three", "default_key", "other_keys", "owned"])
def test_no_wildcard_resource_except_xray(scenarios: Scenarios, stack: str) -> None:
    for statement in statements(scenarios.templates[stack]):
        if "*" in as_list(statement["Resource"]):
            assert sorted(as_list(statement["Action"])) == [
                "xray:PutTelemetryRecords",
                "xray:PutTraceSegments",
            ]


def _kms_statements_on(template: Any, resource: Any) -> dict[str, dict[str, Any]]:
    found = {}
    for statement in statements_with_action_prefix(template, "kms:"):
        if as_list(statement["Resource"]) == [resource]:
            (action,) = as_list(statement["Action"])
            found[action] = statement
    return found


def test_kms_scoped_to_the_ikey(scenarios: Scenarios) -> None:
    t = scenarios.templates["three"]
    (key_id,) = t.find_resources("AWS::KMS::Key")
    found = _kms_statements_on(t, {"Fn::GetAtt": [key_id, "Arn"]})
    assert set(found) == {"kms:DescribeKey", "kms:GenerateDataKey"}
    assert "Condition" not in found["kms:DescribeKey"]
    # Only through Kinesis in the stream's region (the partition's URL suffix), and only for
    # this stream: the function cannot use the key itself, nor for another stream.
    assert _generate_conditions(found) == {
        "StringEquals": {
            "kms:ViaService": "kinesis.us-east-1.${AWS::URLSuffix}",
            "kms:EncryptionContext:aws:kinesis:arn": STREAM_ARN,
        }
    }


def _generate_conditions(found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        operator: {name: join_text(value) for name, value in pairs.items()}
        for operator, pairs in found["kms:GenerateDataKey"]["Condition"].items()
    }


def test_kms_scoped_to_a_key_arn_string(scenarios: Scenarios) -> None:
    found = _kms_statements_on(scenarios.templates["three"], KEY_ARN)
    assert set(found) == {"kms:DescribeKey", "kms:GenerateDataKey"}
    assert _generate_conditions(found) == {
        "StringEquals": {
            "kms:ViaService": "kinesis.us-east-1.${AWS::URLSuffix}",
            "kms:EncryptionContext:aws:kinesis:arn": IMPORTED_STREAM_ARN,
        }
    }


def test_kms_for_an_alias_name_needs_the_alias(scenarios: Scenarios) -> None:
    t = scenarios.templates["three"]
    alias_statements = [
        s
        for s in statements_with_action_prefix(t, "kms:")
        if "ForAnyValue:StringEquals" in s.get("Condition", {})
    ]
    assert {a for s in alias_statements for a in as_list(s["Action"])} == {
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    }
    for statement in alias_statements:
        (resource,) = as_list(statement["Resource"])
        assert (
            join_text(resource)
            == "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"
        )
        assert statement["Condition"]["ForAnyValue:StringEquals"] == {
            "kms:ResourceAliases": ALIAS_NAME
        }


def test_kms_for_an_alias_arn_uses_its_account_and_region(scenarios: Scenarios) -> None:
    found = _kms_statements_on(
        scenarios.templates["other_keys"], "arn:aws:kms:us-east-1:210987654321:key/*"
    )
    assert set(found) == {"kms:DescribeKey", "kms:GenerateDataKey"}
    for statement in found.values():
        assert statement["Condition"]["ForAnyValue:StringEquals"] == {
            "kms:ResourceAliases": "alias/team/stream-key"
        }


def test_kms_for_a_bare_key_id_builds_its_arn(scenarios: Scenarios) -> None:
    t = scenarios.templates["other_keys"]
    resources = {
        join_text(r)
        for s in statements_with_action_prefix(t, "kms:")
        for r in as_list(s["Resource"])
    }
    assert f"arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/{KEY_ID}" in (
        resources
    )


def test_default_key_adds_no_kms_permissions(scenarios: Scenarios) -> None:
    """The only KMS grant is the provider's, for giving a stream back its prior key."""
    t = scenarios.templates["default_key"]
    (ownership,) = [
        p for pid, p in t.find_resources("AWS::IAM::Policy").items() if "OwnershipPolicy" in pid
    ]
    prior_key_grants = [
        s
        for s in ownership["Properties"]["PolicyDocument"]["Statement"]
        if str(s["Action"]).count("kms:")
    ]
    assert statements_with_action_prefix(t, "kms:") == prior_key_grants
    (grant,) = prior_key_grants
    assert join_text(grant["Condition"]["StringLike"]["kms:ViaService"]) == (
        "kinesis.*.${AWS::URLSuffix}"
    )
    assert join_text(grant["Condition"]["StringLike"]["kms:EncryptionContext:aws:kinesis:arn"]) == (
        "arn:${AWS::Partition}:kinesis:*:${AWS::AccountId}:stream/*"
    )


def test_invoke_self_permission_without_cycle(scenarios: Scenarios) -> None:
    t = scenarios.templates["three"]
    (function_id,) = t.find_resources("AWS::Lambda::Function")
    invoke = [
        (pid, policy)
        for pid, policy in t.find_resources("AWS::IAM::Policy").items()
        if any(
            "lambda:InvokeFunction" in as_list(s["Action"])
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert len(invoke) == 1
    policy_id, policy = invoke[0]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}
    function = t.find_resources("AWS::Lambda::Function")[function_id]
    assert policy_id not in function.get("DependsOn", [])
    # Every resource waits for the permission its hand-over needs.
    for resource in _custom_resources(scenarios, "three").values():
        assert policy_id in resource["DependsOn"]


def test_each_resource_has_its_own_kinesis_policy(scenarios: Scenarios) -> None:
    """Delete needs the stream permission after a removal or a stream change: the resource's
    own policy, which it depends on, is deleted after it (the default policy is not)."""
    t = scenarios.templates["three"]
    policies = t.find_resources("AWS::IAM::Policy")
    (function_id,) = t.find_resources("AWS::Lambda::Function")
    function_depends = t.find_resources("AWS::Lambda::Function")[function_id]["DependsOn"]
    default_id = next(pid for pid in policies if "DefaultPolicy" in pid)
    default_statements = policies[default_id]["Properties"]["PolicyDocument"]["Statement"]
    assert not [s for s in default_statements if "kinesis:" in str(s["Action"])]
    streams = set()
    for resource in _custom_resources(scenarios, "three").values():
        own = [
            policies[pid]
            for pid in resource["DependsOn"]
            if pid in policies
            and pid != default_id
            and "InvokeSelf" not in pid
            and "OwnershipPolicy" not in pid
        ]
        assert len(own) == 1
        (statement,) = [
            s
            for s in own[0]["Properties"]["PolicyDocument"]["Statement"]
            if "kinesis:" in str(s["Action"])
        ]
        assert sorted(as_list(statement["Action"])) == sorted(STREAM_ACTIONS)
        streams.add(join_text(statement["Resource"]))
    assert len(streams) == 3
    assert all(pid not in function_depends for pid in policies if pid != default_id)


def _policy_logical_id(stream: str, key: str | None) -> str:
    stack = cdk.Stack(cdk.App(), "Probe")
    construct = KinesisStreamEncryption(stack, "E", stream=stream, key=key)
    return str(stack.resolve(construct.policy.node.default_child.logical_id))  # type: ignore[union-attr]


def test_kinesis_policy_is_replaced_when_the_stream_changes() -> None:
    first = _policy_logical_id(STREAM_ARN, None)
    assert _policy_logical_id(STREAM_ARN, None) == first
    assert _policy_logical_id(STREAM_ARN, KEY_ARN) == first  # a key change keeps it
    assert _policy_logical_id(IMPORTED_STREAM_ARN, None) != first


def test_one_key_for_many_streams_is_granted_per_stream(fresh_stack: cdk.Stack) -> None:
    """Each resource's own policy lets Kinesis use the key for its stream only (the
    ``aws:kinesis:arn`` context), and nothing about keys lands in the shared default policy."""
    constructs = [
        KinesisStreamEncryption(
            fresh_stack, f"E{index}", stream=f"{STREAM_ARN}-{index}", key=KEY_ARN
        )
        for index in range(3)
    ]
    default_policy = constructs[0].provider.role.node.find_child("DefaultPolicy")
    document = fresh_stack.resolve(default_policy.document.to_json())  # type: ignore[attr-defined]
    assert not [s for s in document["Statement"] if "kms:" in str(s["Action"])]
    for index, construct in enumerate(constructs):
        own = fresh_stack.resolve(construct.policy.document.to_json())["Statement"]
        (generate,) = [s for s in own if s["Action"] == "kms:GenerateDataKey"]
        context = generate["Condition"]["StringEquals"]["kms:EncryptionContext:aws:kinesis:arn"]
        assert context == f"{STREAM_ARN}-{index}"


def test_role_policy_size_warning(fresh_stack: cdk.Stack) -> None:
    for index in range(60):
        construct = KinesisStreamEncryption(fresh_stack, f"E{index}", stream=f"stream-{index:03d}")
    warnings = [
        entry.data for entry in construct.provider.node.metadata if entry.type == "aws:cdk:warning"
    ]
    assert len(warnings) == 1
    assert "10240" in str(warnings[0])


def test_no_role_policy_size_warning_for_a_few_resources(scenarios: Scenarios) -> None:
    provider = scenarios.three_constructs["arn"].provider
    assert not [e for e in provider.node.metadata if e.type == "aws:cdk:warning"]


# --- annotations ----------------------------------------------------------------------------


def test_warning_for_a_stream_that_owns_its_encryption(scenarios: Scenarios) -> None:
    annotations = Annotations.from_stack(scenarios.owned)
    annotations.has_warning("/Owned/OnEncrypted", Match.string_like_regexp("own encryption"))
    annotations.has_no_warning("/Owned/OnPlain", Match.any_value())


@pytest.mark.parametrize("stack", ["three", "default_key", "other_keys"])
def test_only_the_unchecked_account_warning_for_imported_streams(
    scenarios: Scenarios, stack: str
) -> None:
    """The stacks are environment-agnostic: a stream ARN's account cannot be checked against
    theirs, and synthesis says so (nothing else: every stream is used once)."""
    stack_obj = getattr(scenarios, stack)
    for construct in resources_of(stack_obj):
        resource = _custom_resources(scenarios, stack)[logical_id(stack_obj, construct)]
        expected = ["streamAccountUnchecked"] if "StreamARN" in resource["Properties"] else []
        assert warning_ids(construct) == expected
    assert Annotations.from_stack(stack_obj).find_error("*", Match.any_value()) == []


def test_warning_for_a_stream_in_another_account_only() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Env", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    KinesisStreamEncryption(stack, "Elsewhere", stream=STREAM_ARN, key=ALIAS_NAME)
    KinesisStreamEncryption(
        stack, "OtherRegion", stream="arn:aws:kinesis:us-west-2:111111111111:stream/s"
    )
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/Env/Elsewhere", Match.string_like_regexp("account 123456789012"))
    # The handler calls Kinesis in the stream's region: another region is no problem.
    annotations.has_no_warning("/Env/OtherRegion", Match.any_value())


def test_key_named_without_arn_is_looked_up_in_the_streams_region(fresh_stack: cdk.Stack) -> None:
    construct = KinesisStreamEncryption(fresh_stack, "E", stream=STREAM_ARN, key=KEY_ID)
    resolved = fresh_stack.resolve(construct._key_arn(fresh_stack, KEY_ID))
    assert join_text(resolved) == (
        f"arn:${{AWS::Partition}}:kms:us-east-1:${{AWS::AccountId}}:key/{KEY_ID}"
    )


# --- synth-time validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "stream",
    [
        "arn:aws:s3:::bucket",
        "arn:aws:kinesis:us-east-1:123:stream/orders",
        "arn:aws:kinesis:us-east-1:123456789012:stream/",
        "orders stream",
        "",
        "x" * 129,
    ],
)
def test_bad_stream_strings_fail_at_synth(fresh_stack: cdk.Stack, stream: str) -> None:
    with pytest.raises(ValueError, match="stream"):
        KinesisStreamEncryption(fresh_stack, "E", stream=stream)


@pytest.mark.parametrize(
    "key",
    [
        "not-a-key",
        "alias/aws/s3",
        "alias/",
        "arn:aws:kms:us-east-1:123456789012:key/not-a-uuid",
        "arn:aws:kms:us-east-1:123456789012:secret/x",
        "1234abcd-12ab-34cd-56ef",
    ],
)
def test_bad_key_strings_fail_at_synth(fresh_stack: cdk.Stack, key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        KinesisStreamEncryption(fresh_stack, "E", stream=STREAM_ARN, key=key)


def test_second_provider_layer_conflict_is_an_error(fresh_stack: cdk.Stack) -> None:
    from aws_cdk import aws_lambda as lambda_

    layer = lambda_.LayerVersion.from_layer_version_arn(fresh_stack, "L", LAYER_ARN)
    KinesisStreamEncryption(fresh_stack, "A", stream=STREAM_ARN)
    with pytest.raises(ValueError, match="Powertools layer"):
        KinesisStreamEncryption(fresh_stack, "B", stream=STREAM_NAME, powertools_layer=layer)


def test_alias_construct_of_the_app_grants_on_its_target_key(scenarios: Scenarios) -> None:
    t = scenarios.templates["other_keys"]
    (key_id,) = t.find_resources("AWS::KMS::Key")
    (resource,) = [
        r
        for r in _custom_resources(scenarios, "other_keys").values()
        if r["Properties"].get("KeyId") == OWN_ALIAS
    ]
    assert resource["Properties"]["StreamARN"] == ALIASED_STREAM_ARN
    found = _kms_statements_on(t, {"Fn::GetAtt": [key_id, "Arn"]})
    assert set(found) == {"kms:DescribeKey", "kms:GenerateDataKey"}


def test_imported_alias_construct_grants_by_resource_alias(scenarios: Scenarios) -> None:
    t = scenarios.templates["other_keys"]
    assert any(
        r["Properties"].get("KeyId") == IMPORTED_ALIAS
        for r in _custom_resources(scenarios, "other_keys").values()
    )
    conditions = [
        s["Condition"]["ForAnyValue:StringEquals"]
        for s in statements_with_action_prefix(t, "kms:")
        if "ForAnyValue:StringEquals" in s.get("Condition", {})
    ]
    assert {"kms:ResourceAliases": IMPORTED_ALIAS} in conditions


def test_owned_unencrypted_stream_has_no_stream_encryption() -> None:
    """Guards the warning's detection: CDK leaves StreamEncryption unset for UNENCRYPTED."""
    stack = cdk.Stack(cdk.App(), "Probe")
    stream = kinesis.Stream(stack, "S", encryption=kinesis.StreamEncryption.UNENCRYPTED)
    cfn = stream.node.default_child
    assert isinstance(cfn, kinesis.CfnStream)
    assert cfn.stream_encryption is None
