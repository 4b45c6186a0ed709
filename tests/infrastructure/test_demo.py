"""`make demo` (scripts/demo.py) drives the resource as the example app synthesizes it.

One run of the real script (it synthesizes cdk/app.py in-process, then runs Create, Update,
no-op Update and Delete against its embedded moto server), plus fast checks of its small
intrinsic resolver and template reader.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest

from kinesis_stream_encryption.provider import DEFAULT_SERVICE_TIMEOUT, FUNCTION_TIMEOUT

from .conftest import REPO

pytestmark = pytest.mark.infra

DEMO = REPO / "scripts" / "demo.py"
ACCOUNT = "123456789012"
KEY_ARN = re.compile(rf"arn:aws:kms:us-east-1:{ACCOUNT}:key/[0-9a-f-]{{36}}")


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kse_demo_script", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


demo = load_demo()


def header_value(output: str, label: str) -> str:
    match = re.search(rf"^    {re.escape(label)}\s+(.+)$", output, re.MULTILINE)
    assert match, f"no {label!r} line in the demo's header:\n{output}"
    return match.group(1)


def test_demo_runs_the_lifecycle_with_the_synthesized_properties() -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, f"stdout:\n{output}\nstderr:\n{result.stderr}"

    # Where the properties come from: the example app's stack, synthesized with cdk.json's context.
    source = re.search(
        r"^Properties from the synthesized template: stack EncryptExistingStreamStack, "
        r"logical id (StreamEncryption[0-9A-F]{8})$",
        output,
        re.MULTILINE,
    )
    assert source, output
    assert "streamArn context from cdk.json" in output

    # The construct's defaults, as synthesized, not the demo's own numbers.
    service_timeout = int(DEFAULT_SERVICE_TIMEOUT.to_seconds())
    assert service_timeout == 360
    assert header_value(output, "ServiceTimeout") == str(service_timeout)
    function = header_value(output, "function")
    assert re.fullmatch(
        rf"KinesisStreamEncryptionProviderFunction[0-9A-F]{{8}}: Timeout "
        rf"{int(FUNCTION_TIMEOUT.to_seconds())} s",
        function,
    ), function
    for variable in (
        "POWERTOOLS_SERVICE_NAME=kinesis-stream-encryption",
        "POWERTOOLS_METRICS_NAMESPACE=KinesisStreamEncryption",
        "POWERTOOLS_LOG_LEVEL=INFO",
    ):
        assert re.search(rf"^\s+{variable}$", output, re.MULTILINE), variable

    # Intrinsics resolved to what the demo made: the stack's key is the moto key's ARN.
    key_line = header_value(output, "KeyId")
    key_match = re.fullmatch(
        rf"Fn::GetAtt StreamKey[0-9A-F]{{8}}\.Arn -> ({KEY_ARN.pattern})", key_line
    )
    assert key_match, key_line
    key_arn = key_match.group(1)
    token = header_value(output, "ServiceToken")
    assert re.fullmatch(
        r"Fn::GetAtt KinesisStreamEncryptionProviderFunction[0-9A-F]{8}\.Arn -> "
        rf"arn:aws:lambda:us-east-1:{ACCOUNT}:function:\S+",
        token,
    ), token
    stream_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders"
    assert header_value(output, "StreamARN") == stream_arn
    assert header_value(output, "EncryptionType") == "KMS"

    # The six steps, in order, each SUCCESS and checked.
    steps = re.findall(r"^\[(\d)/6\] (\w+)", output, re.MULTILINE)
    assert steps == [
        ("1", "Create"),
        ("2", "Update"),
        ("3", "Update"),
        ("4", "Delete"),
        ("5", "Create"),
        ("6", "Delete"),
    ]
    statuses = re.findall(r"^    status\s+(\S+)$", output, re.MULTILINE)
    assert statuses == ["SUCCESS"] * 6
    assert re.findall(r"^    check\s+(.+)$", output, re.MULTILINE) == ["ok"] * 6
    # Ownership: the tags after each step, and a Delete that gives back the earlier key.
    ownership = re.findall(r"^    ownership\s+(.+)$", output, re.MULTILINE)
    assert "prior-key=NONE" in ownership[0] and "owner EncryptExistingStreamStack/" in ownership[0]
    assert ownership[3] == ownership[5] == "no kinesis-stream-encryption:* tags"
    assert "prior-key=alias/aws/kinesis" in ownership[4]
    assert "given back" in output
    sent = re.findall(r"^    properties\s+(.+)$", output, re.MULTILINE)
    assert sent[0] == f"ServiceTimeout=360, StreamARN={stream_arn}, EncryptionType=KMS"
    assert sent[1] == (
        f"ServiceTimeout=360, StreamARN={stream_arn}, KeyId={key_arn}, EncryptionType=KMS"
    )
    assert "ServiceTimeout=900" in sent[2]
    summary = re.findall(r"^  ok  \d\. (\w+)\s+SUCCESS\s", output, re.MULTILINE)
    assert summary == ["Create", "Update", "Update", "Delete", "Create", "Delete"]
    assert f"KMS {key_arn} (ACTIVE)" in output
    assert "Final stream state: NONE (ACTIVE)" in output
    assert output.rstrip().endswith("Demo passed.")

    # Before Delete: one drift (encryption stopped behind CloudFormation's back), detected by a
    # report-only check, then repaired by a check with repair on.
    drift = output[output.index("[drift] someone calls StopStreamEncryption") :]
    drift = drift[: drift.index("[4/6] Delete")]
    assert re.search(r"^    stream\s+NONE \(ACTIVE\)$", drift, re.MULTILINE), drift
    assert "WARNING Encryption drift" in drift
    assert re.search(rf"^    expected\s+KMS {re.escape(key_arn)}$", drift, re.MULTILINE), drift
    assert re.search(r"^    actual\s+NONE$", drift, re.MULTILINE), drift
    assert "WARNING Drift repaired" in drift
    assert f"stream        KMS {key_arn} (ACTIVE)" in drift
    assert re.search(r"^    drift check\s+ok$", drift, re.MULTILINE), drift


# --- the resolver and template reader, without a synthesis -----------------------------------

FUNCTION_ID = "ProviderFunctionF4BD494B"
KEY_ID = "StreamKey9F296F4F"
DEMO_KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def template(**properties: Any) -> dict[str, Any]:
    return {
        "Resources": {
            KEY_ID: {"Type": "AWS::KMS::Key", "Properties": {"Description": "the key"}},
            FUNCTION_ID: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Timeout": 300,
                    "Environment": {"Variables": {"POWERTOOLS_LOG_LEVEL": "INFO"}},
                },
            },
            "Encryption": {
                "Type": "Custom::KinesisStreamEncryption",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": [FUNCTION_ID, "Arn"]},
                    "ServiceTimeout": "360",
                    **properties,
                },
            },
        }
    }


def resolver(view: Any) -> Any:
    return demo.make_resolver(
        view,
        partition="aws",
        region="eu-west-1",
        account=ACCOUNT,
        stack_name="Stack",
        stack_id=f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/Stack/x",
        function_arn=f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f",
        key=DEMO_KEY_ARN,
    )


def test_template_reader_finds_the_resource_and_its_function() -> None:
    view = demo.read_template(template(KeyId={"Fn::GetAtt": [KEY_ID, "Arn"]}), "Stack")
    assert (view.logical_id, view.function_id, view.function_timeout) == (
        "Encryption",
        FUNCTION_ID,
        300,
    )
    assert view.environment == {"POWERTOOLS_LOG_LEVEL": "INFO"}
    assert (view.key_ids, view.key_description) == ([KEY_ID], "the key")


def test_resolver_knows_the_key_the_function_and_pseudo_parameters() -> None:
    stream = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":kinesis:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":stream/orders",
            ],
        ]
    }
    raw = template(StreamARN=stream, KeyId={"Fn::GetAtt": f"{KEY_ID}.Arn"})
    view = demo.read_template(raw, "Stack")
    resolve = resolver(view).resolve
    assert resolve(view.properties["StreamARN"], "p") == (
        f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/orders"
    )
    assert resolve(view.properties["KeyId"], "p") == DEMO_KEY_ARN
    assert resolve(view.properties["ServiceToken"], "p").endswith(":function:f")
    assert resolve({"Ref": KEY_ID}, "p") == "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert resolve(360, "p") == "360"
    assert resolve(True, "p") == "true"


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::Sub": "arn:${AWS::Partition}:kinesis:::stream/x"},
        {"Fn::GetAtt": ["SomethingElse", "Arn"]},
        {"Fn::GetAtt": [KEY_ID, "Origin"]},
        {"Ref": "AWS::NotificationARNs"},
        {"Ref": "StreamNameParameter"},
        {"Fn::ImportValue": "KinesisStreamEncryption-ServiceToken"},
        {"Fn::Join": ["", ["a", {"Fn::Select": [0, ["b"]]}]]},
        ["a", "list"],
        {"Key": "an object", "Other": "value"},
        1.5,
        None,
    ],
)
def test_resolver_fails_loudly_on_anything_else(value: object) -> None:
    view = demo.read_template(template(), "Stack")
    with pytest.raises(demo.DemoSetupError, match=r"^Stack\.Encryption\.KeyId.*cannot resolve"):
        resolver(view).resolve(value, "Stack.Encryption.KeyId")


def test_template_reader_refuses_a_template_it_cannot_drive() -> None:
    missing = {"Resources": {}}
    with pytest.raises(demo.DemoSetupError, match="0 Custom::KinesisStreamEncryption"):
        demo.read_template(missing, "Stack")
    imported_token = template()
    resource = imported_token["Resources"]["Encryption"]
    resource["Properties"]["ServiceToken"] = {"Fn::ImportValue": "KinesisStreamEncryption-Token"}
    with pytest.raises(demo.DemoSetupError, match="ServiceToken"):
        demo.read_template(imported_token, "Stack")


def test_lifecycle_starts_without_the_template_key_then_applies_it() -> None:
    properties = {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ServiceTimeout": "360",
        "StreamARN": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders",
        "KeyId": DEMO_KEY_ARN,
        "EncryptionType": "KMS",
    }
    create, update, no_op, delete, create_again, give_back = demo.lifecycle(properties)
    assert create.properties == {k: v for k, v in properties.items() if k != "KeyId"}
    assert create.expect_encryption == ("KMS", "alias/aws/kinesis")
    assert (update.properties, update.old_properties) == (properties, create.properties)
    assert update.expect_encryption == ("KMS", DEMO_KEY_ARN)
    assert no_op.properties == {**properties, "ServiceTimeout": "900"}
    assert no_op.expect_calls == {"StartStreamEncryption": 0, "StopStreamEncryption": 0}
    assert (delete.request_type, delete.expect_encryption) == ("Delete", ("NONE", None))
    assert create_again.encrypted_before_with == "alias/aws/kinesis"
    assert create_again.expect_prior_key == "alias/aws/kinesis"
    assert give_back.expect_encryption == ("KMS", "alias/aws/kinesis")
