"""Every way a user can name a stream synthesizes, sends the right property and scopes IAM to that
stream; the conflicts CloudFormation or Kinesis would hit later are named at synth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from kinesis_stream_encryption import (
    ACCEPTED_REMOVAL_POLICIES,
    RESOURCE_TYPE,
    STREAM_ACTIONS,
    KinesisStreamEncryption,
    StreamName,
)

from .synth_helpers import join_text, warning_ids

pytestmark = pytest.mark.infra

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_REGION_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OWN_STREAM = "${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/"


def arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


@dataclass
class Forms:
    app: cdk.App
    forms: cdk.Stack
    consumer: cdk.Stack
    constructs: dict[str, KinesisStreamEncryption]
    template: Template
    consumer_template: Template


@pytest.fixture(scope="module")
def forms() -> Forms:
    app = cdk.App()
    stack = cdk.Stack(app, "Forms")
    name_param = cdk.CfnParameter(stack, "StreamNameParam")
    arn_param = cdk.CfnParameter(stack, "StreamArnParam")
    streams: dict[str, Any] = {
        "owned_default": kinesis.Stream(stack, "Default"),
        "owned_unencrypted": kinesis.Stream(
            stack, "Unencrypted", encryption=kinesis.StreamEncryption.UNENCRYPTED
        ),
        "owned_managed": kinesis.Stream(
            stack, "Managed", encryption=kinesis.StreamEncryption.MANAGED
        ),
        "owned_kms": kinesis.Stream(stack, "Kms", encryption=kinesis.StreamEncryption.KMS),
        "from_arn": kinesis.Stream.from_stream_arn(stack, "FromArn", arn("from-arn")),
        "from_attributes": kinesis.Stream.from_stream_attributes(
            stack, "FromAttributes", stream_arn=arn("from-attributes")
        ),
        "param_arn": kinesis.Stream.from_stream_arn(stack, "ParamArn", arn_param.value_as_string),
        "param_name": StreamName(name_param.value_as_string),
        "import_arn": kinesis.Stream.from_stream_arn(
            stack, "ImportArn", cdk.Fn.import_value("OtherStreamArn")
        ),
        "import_name": StreamName(cdk.Fn.import_value("OtherStreamName")),
        "arn_string": arn("arn-string"),
        "name_string": "name-string",
        "name_with_token": f"{name_param.value_as_string}-suffix",
        "formatted_arn": stack.format_arn(
            service="kinesis",
            resource="stream",
            resource_name="formatted",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        ),
    }
    # A customer managed key for the forms whose KMS scope is checked (EXPECTED): more would
    # not fit the role's inline quota in one stack (test_fleet.py).
    constructs = {
        form: KinesisStreamEncryption(
            stack, f"Enc-{form}", stream=stream, key=KEY_ARN if form in EXPECTED else None
        )
        for form, stream in streams.items()
    }
    producer = cdk.Stack(app, "Producer")
    shared = kinesis.Stream(producer, "Shared", encryption=kinesis.StreamEncryption.UNENCRYPTED)
    consumer = cdk.Stack(app, "Consumer")
    constructs["other_stack"] = KinesisStreamEncryption(consumer, "Enc", stream=shared)
    return Forms(
        app,
        stack,
        consumer,
        constructs,
        Template.from_stack(stack),
        Template.from_stack(consumer),
    )


def _resource(stack: cdk.Stack, template: Template, construct: Any) -> dict[str, Any]:
    logical = stack.resolve(construct.resource.node.default_child.logical_id)
    return template.find_resources(RESOURCE_TYPE)[logical]  # type: ignore[no-any-return]


def _own_kinesis_resource(stack: cdk.Stack, template: Template, construct: Any) -> Any:
    """The Resource of the Kinesis statement in the resource's own policy (which it depends on)."""
    resource = _resource(stack, template, construct)
    policies = template.find_resources("AWS::IAM::Policy")
    found = [
        s["Resource"]
        for pid in resource["DependsOn"]
        if pid in policies and "InvokeSelf" not in pid
        for s in policies[pid]["Properties"]["PolicyDocument"]["Statement"]
        if sorted(s["Action"]) == sorted(STREAM_ACTIONS)
    ]
    assert len(found) == 1
    return found[0]


def _generate_data_key_context(stack: cdk.Stack, template: Template, construct: Any) -> Any:
    resource = _resource(stack, template, construct)
    policies = template.find_resources("AWS::IAM::Policy")
    (context,) = [
        s["Condition"]["StringEquals"]["kms:EncryptionContext:aws:kinesis:arn"]
        for pid in resource["DependsOn"]
        if pid in policies
        for s in policies[pid]["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "kms:GenerateDataKey"
    ]
    return context


SELECT_NAME_FROM_ARN = {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::Select": [5, None]}]}]}

# form -> (property sent, its value, the ARN IAM is scoped to), all as text
EXPECTED: dict[str, tuple[str, str, str]] = {
    "from_arn": ("StreamARN", arn("from-arn"), arn("from-arn")),
    "from_attributes": ("StreamARN", arn("from-attributes"), arn("from-attributes")),
    "param_arn": ("StreamARN", "${StreamArnParam}", "${StreamArnParam}"),
    "param_name": ("StreamName", "${StreamNameParam}", f"arn:{OWN_STREAM}${{StreamNameParam}}"),
    "arn_string": ("StreamARN", arn("arn-string"), arn("arn-string")),
    "name_string": ("StreamName", "name-string", f"arn:{OWN_STREAM}name-string"),
    "name_with_token": (
        "StreamName",
        "${StreamNameParam}-suffix",
        f"arn:{OWN_STREAM}${{StreamNameParam}}-suffix",
    ),
    "formatted_arn": ("StreamARN", f"arn:{OWN_STREAM}formatted", f"arn:{OWN_STREAM}formatted"),
}


@pytest.mark.parametrize("form", sorted(EXPECTED))
def test_each_form_sends_its_property_and_scopes_iam_to_it(forms: Forms, form: str) -> None:
    construct = forms.constructs[form]
    properties = _resource(forms.forms, forms.template, construct)["Properties"]
    prop, value, scope = EXPECTED[form]
    other = "StreamName" if prop == "StreamARN" else "StreamARN"
    assert other not in properties
    assert join_text(properties[prop]) == value
    assert join_text(_own_kinesis_resource(forms.forms, forms.template, construct)) == scope
    assert join_text(_generate_data_key_context(forms.forms, forms.template, construct)) == scope


@pytest.mark.parametrize("form", ["import_arn", "import_name"])
def test_imported_values_keep_their_form(forms: Forms, form: str) -> None:
    construct = forms.constructs[form]
    properties = _resource(forms.forms, forms.template, construct)["Properties"]
    if form == "import_arn":
        assert properties["StreamARN"] == {"Fn::ImportValue": "OtherStreamArn"}
        assert _own_kinesis_resource(forms.forms, forms.template, construct) == {
            "Fn::ImportValue": "OtherStreamArn"
        }
    else:
        assert properties["StreamName"] == {"Fn::ImportValue": "OtherStreamName"}
        assert "StreamARN" not in properties
        assert "${AWS::AccountId}:stream/" in join_text(
            _own_kinesis_resource(forms.forms, forms.template, construct)
        )


@pytest.mark.parametrize(
    ("form", "encrypted"),
    [
        ("owned_default", True),  # CDK's default: MANAGED (but in the China regions)
        ("owned_managed", True),
        ("owned_kms", True),
        ("owned_unencrypted", False),
    ],
)
def test_streams_of_the_app_synthesize_and_warn_when_they_own_encryption(
    forms: Forms, form: str, encrypted: bool
) -> None:
    construct = forms.constructs[form]
    properties = _resource(forms.forms, forms.template, construct)["Properties"]
    (stream_id,) = [
        logical
        for logical, r in forms.template.find_resources("AWS::Kinesis::Stream").items()
        if properties["StreamARN"] == {"Fn::GetAtt": [logical, "Arn"]}
    ]
    assert _own_kinesis_resource(forms.forms, forms.template, construct) == {
        "Fn::GetAtt": [stream_id, "Arn"]
    }
    assert ("streamHasOwnEncryption" in warning_ids(construct)) is encrypted


def test_a_stream_of_another_stack_is_imported_and_scoped(forms: Forms) -> None:
    construct = forms.constructs["other_stack"]
    properties = _resource(forms.consumer, forms.consumer_template, construct)["Properties"]
    assert list(properties["StreamARN"]) == ["Fn::ImportValue"]
    assert (
        _own_kinesis_resource(forms.consumer, forms.consumer_template, construct)
        == properties["StreamARN"]
    )
    assert warning_ids(construct) == []


def test_the_forms_app_has_no_errors_and_no_conflicts(forms: Forms) -> None:
    for stack in (forms.forms, forms.consumer):
        assert Annotations.from_stack(stack).find_error("*", Match.any_value()) == []
    for construct in forms.constructs.values():
        assert "streamEncryptedTwice" not in warning_ids(construct)


# --- what cannot be told apart is refused, clearly ------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda s: cdk.CfnParameter(s, "P").value_as_string,
        lambda s: cdk.Fn.import_value("Somewhere"),
        lambda s: cdk.Stack.of(s).region,
    ],
    ids=["parameter", "import", "pseudo-parameter"],
)
def test_a_bare_token_is_refused_with_the_way_out(fresh_stack: cdk.Stack, make: Any) -> None:
    with pytest.raises(ValueError, match=r"StreamName\(token\).*from_stream_arn"):
        KinesisStreamEncryption(fresh_stack, "E", stream=make(fresh_stack))


def test_a_token_with_text_that_is_no_name_is_refused(fresh_stack: cdk.Stack) -> None:
    parameter = cdk.CfnParameter(fresh_stack, "P")
    with pytest.raises(ValueError, match="not a name"):
        KinesisStreamEncryption(fresh_stack, "E", stream=f"{parameter.value_as_string}:x/y")


def test_a_bad_literal_stream_name_is_refused(fresh_stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="not a valid stream name"):
        KinesisStreamEncryption(fresh_stack, "E", stream=StreamName("bad name"))


# --- the same stream twice, anywhere in the app ---------------------------------------------


def _app_with(
    *pairs: tuple[str, Any], env: cdk.Environment | None = None, keys: list[Any] | None = None
) -> list[KinesisStreamEncryption]:
    """One resource per (stack id, stream); stacks created on first use."""
    app = cdk.App()
    stacks: dict[str, cdk.Stack] = {}
    made = []
    for index, (stack_id, stream) in enumerate(pairs):
        stack = stacks.get(stack_id) or cdk.Stack(app, stack_id, env=env)
        stacks[stack_id] = stack
        value = stream(stack) if callable(stream) else stream
        key = keys[index] if keys else None
        made.append(KinesisStreamEncryption(stack, f"E{index}", stream=value, key=key))
    return made


ENV = cdk.Environment(account=ACCOUNT, region=REGION)


@pytest.mark.parametrize(
    ("pairs", "env", "certain"),
    [
        ((("A", "orders"), ("A", "orders")), None, False),
        ((("A", "orders"), ("A", "orders")), ENV, True),
        ((("A", "orders"), ("A", arn("orders"))), ENV, True),
        ((("A", "orders"), ("A", arn("orders"))), None, False),  # the stack's account unknown
        ((("A", arn("orders")), ("B", arn("orders"))), None, True),
        ((("A", "orders"), ("B", arn("orders"))), ENV, True),
        (
            (
                ("A", lambda s: kinesis.Stream.from_stream_arn(s, "S", arn("orders"))),
                ("B", arn("orders")),
            ),
            None,
            True,
        ),
        (
            (
                ("A", lambda s: StreamName(cdk.Fn.import_value("X"))),
                ("B", lambda s: StreamName(cdk.Fn.import_value("X"))),
            ),
            None,
            True,
        ),
    ],
    ids=[
        "name+name",
        "name+name-env",
        "name+arn-env",
        "name+arn-agnostic",
        "arn-across-stacks",
        "name+arn-across-stacks",
        "istream+arn",
        "same-import",
    ],
)
def test_the_same_stream_twice_is_named(
    pairs: tuple[tuple[str, Any], ...], env: cdk.Environment | None, certain: bool
) -> None:
    first, second = _app_with(*pairs, env=env)
    assert "streamEncryptedTwice" not in warning_ids(first)
    assert "streamEncryptedTwice" in warning_ids(second)
    (text,) = [w for w in second.node.metadata if "streamEncryptedTwice" in str(w.data)]
    assert first.node.path in str(text.data)
    assert ("encrypts the same stream" in str(text.data)) is certain


def test_the_same_stream_with_different_keys_is_named() -> None:
    _first, second = _app_with(("A", arn("orders")), ("A", arn("orders")), keys=[None, KEY_ARN])
    assert "streamEncryptedTwice" in warning_ids(second)


def test_one_stream_of_the_app_used_by_two_stacks_is_named() -> None:
    app = cdk.App()
    producer = cdk.Stack(app, "Producer")
    stream = kinesis.Stream(producer, "S", encryption=kinesis.StreamEncryption.UNENCRYPTED)
    KinesisStreamEncryption(cdk.Stack(app, "B"), "E", stream=stream)
    second = KinesisStreamEncryption(cdk.Stack(app, "C"), "E", stream=stream)
    assert warning_ids(second) == ["streamEncryptedTwice"]


@pytest.mark.parametrize(
    "pairs",
    [
        (("A", "orders"), ("A", "payments")),
        (("A", arn("orders")), ("A", arn("orders", account="210987654321"))),
        (("A", arn("orders")), ("A", arn("orders", region="us-west-2"))),
        # Parameters of two stacks may hold anything: not the same stream as far as synth knows.
        (
            ("A", lambda s: StreamName(cdk.CfnParameter(s, "P").value_as_string)),
            ("B", lambda s: StreamName(cdk.CfnParameter(s, "P").value_as_string)),
        ),
    ],
    ids=["two-names", "other-account", "other-region", "parameters-of-two-stacks"],
)
def test_different_streams_are_not_named(pairs: tuple[tuple[str, Any], ...]) -> None:
    for construct in _app_with(*pairs, env=None):
        assert "streamEncryptedTwice" not in warning_ids(construct)


def test_the_same_parameter_twice_in_a_stack_is_named(fresh_stack: cdk.Stack) -> None:
    parameter = cdk.CfnParameter(fresh_stack, "P").value_as_string
    KinesisStreamEncryption(fresh_stack, "A", stream=StreamName(parameter))
    second = KinesisStreamEncryption(fresh_stack, "B", stream=StreamName(parameter))
    assert warning_ids(second) == ["streamEncryptedTwice"]


@pytest.mark.parametrize("acknowledge_first", [True, False])
def test_the_warning_can_be_acknowledged(acknowledge_first: bool) -> None:
    """On the stack, before or after the resources: it covers everything below it."""
    stack = cdk.Stack(cdk.App(), "A", env=ENV)
    twice = Match.string_like_regexp("streamEncryptedTwice")

    def acknowledge() -> None:
        cdk.Annotations.of(stack).acknowledge_warning(
            "kinesis-stream-encryption:streamEncryptedTwice", "one of them is being retired"
        )

    if acknowledge_first:
        acknowledge()
    KinesisStreamEncryption(stack, "First", stream="orders")
    second = KinesisStreamEncryption(stack, "Second", stream=arn("orders"))
    if not acknowledge_first:
        assert "streamEncryptedTwice" in warning_ids(second)
        acknowledge()
    Annotations.from_stack(stack).has_no_warning("*", twice)


def test_an_unacknowledged_warning_reaches_the_assembly() -> None:
    stack = cdk.Stack(cdk.App(), "A", env=ENV)
    KinesisStreamEncryption(stack, "First", stream="orders")
    KinesisStreamEncryption(stack, "Second", stream=arn("orders"))
    Annotations.from_stack(stack).has_warning(
        "/A/Second", Match.string_like_regexp("streamEncryptedTwice")
    )


# --- accounts, regions, removal -------------------------------------------------------------


def test_stream_account_is_checked_in_every_kind_of_stack() -> None:
    app = cdk.App()
    agnostic = cdk.Stack(app, "Agnostic")
    pinned = cdk.Stack(app, "Pinned", env=ENV)
    unchecked = KinesisStreamEncryption(agnostic, "E", stream=arn("a", account="210987654321"))
    by_name = KinesisStreamEncryption(agnostic, "N", stream="b")
    other = KinesisStreamEncryption(pinned, "Other", stream=arn("c", account="210987654321"))
    same = KinesisStreamEncryption(pinned, "Same", stream=arn("d"))
    assert warning_ids(unchecked) == ["streamAccountUnchecked"]
    assert "210987654321" in " ".join(str(e.data) for e in unchecked.node.metadata)
    assert warning_ids(by_name) == []
    assert warning_ids(other) == ["streamInOtherAccount"]
    assert warning_ids(same) == []


@pytest.mark.parametrize(
    ("stream", "key", "env"),
    [
        (arn("orders"), OTHER_REGION_KEY, None),
        ("orders", OTHER_REGION_KEY, ENV),
        (arn("orders"), "arn:aws:kms:eu-west-1:123456789012:alias/orders", None),
        (
            arn("orders"),
            lambda s: kms.Key.from_key_arn(s, "K", OTHER_REGION_KEY),
            None,
        ),
    ],
    ids=["arn+key-arn", "name-in-pinned-stack+key-arn", "alias-arn", "imported-ikey"],
)
def test_a_key_in_another_region_than_the_stream_is_an_error(
    stream: str, key: Any, env: cdk.Environment | None
) -> None:
    stack = cdk.Stack(cdk.App(), "S", env=env)
    with pytest.raises(ValueError, match=r"region eu-west-1.*us-east-1"):
        KinesisStreamEncryption(stack, "E", stream=stream, key=key(stack) if callable(key) else key)


def test_a_key_in_the_streams_region_is_fine(fresh_stack: cdk.Stack) -> None:
    key = kms.Key.from_key_arn(fresh_stack, "K", KEY_ARN)
    KinesisStreamEncryption(fresh_stack, "E", stream=arn("orders"), key=key)


def test_a_key_of_a_pinned_stack_is_in_that_region() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    key = kms.Key(stack, "K")
    with pytest.raises(ValueError, match=r"region us-east-1.*us-west-2"):
        KinesisStreamEncryption(stack, "E", stream=arn("orders", region="us-west-2"), key=key)


def test_an_imported_alias_name_resolves_in_the_streams_region() -> None:
    """An alias given by name only is looked up where the stream is: no region to compare."""
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    alias = kms.Alias.from_alias_name(stack, "A", "alias/orders")
    construct = KinesisStreamEncryption(
        stack, "E", stream=arn("orders", region="us-west-2"), key=alias
    )
    statements = stack.resolve(construct.policy.document.to_json())["Statement"]
    (generate,) = [s for s in statements if s["Action"] == "kms:GenerateDataKey"]
    assert ":kms:us-west-2:" in join_text(generate["Resource"])


def test_snapshot_is_refused(fresh_stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"DESTROY.*RETAIN"):
        KinesisStreamEncryption(
            fresh_stack, "E", stream="orders", removal_policy=cdk.RemovalPolicy.SNAPSHOT
        )


@pytest.mark.parametrize(
    ("policy", "deletion"),
    [
        (cdk.RemovalPolicy.DESTROY, "Delete"),
        (cdk.RemovalPolicy.RETAIN, "Retain"),
        (cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, "RetainExceptOnCreate"),
    ],
)
def test_accepted_removal_policies(
    fresh_stack: cdk.Stack, policy: cdk.RemovalPolicy, deletion: str
) -> None:
    KinesisStreamEncryption(fresh_stack, "E", stream="orders", removal_policy=policy)
    (resource,) = Template.from_stack(fresh_stack).find_resources(RESOURCE_TYPE).values()
    assert resource["DeletionPolicy"] == deletion


def test_cfn_lint_agrees_on_the_removal_policies(tmp_path: Path) -> None:
    """cfn-lint's rule E3035 (allowed DeletionPolicy values) passes every accepted policy on a
    custom resource and flags Snapshot, the one the construct refuses."""
    from .test_cfn_lint import _lint

    stack = cdk.Stack(cdk.App(), "S")
    for index, policy in enumerate(ACCEPTED_REMOVAL_POLICIES):
        KinesisStreamEncryption(stack, f"E{index}", stream=f"s{index}", removal_policy=policy)
    forced = KinesisStreamEncryption(stack, "Forced", stream="forced")
    cfn_resource = forced.resource.node.default_child
    assert isinstance(cfn_resource, cdk.CfnResource)
    cfn_resource.add_override("DeletionPolicy", "Snapshot")
    path = tmp_path / "removal.template.json"
    path.write_text(json.dumps(Template.from_stack(stack).to_json()))
    flagged = [m for m in _lint([path]) if m["Rule"]["Id"] == "E3035"]
    forced_id = stack.resolve(cfn_resource.logical_id)
    assert [m["Location"]["Path"][1] for m in flagged] == [forced_id]
