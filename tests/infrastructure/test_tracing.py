"""Tracing is opt-in: by default no active tracing, no xray:* on "*", and the handler does not
import the X-Ray SDK (which reaches end of support on 2027-02-25)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from kinesis_stream_encryption import KinesisStreamEncryption, KinesisStreamEncryptionProvider

from .conftest import REPO

pytestmark = pytest.mark.infra

XRAY = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def _synth(**options: Any) -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "S")
    KinesisStreamEncryption(stack, "E", stream="orders", **options)
    return Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


def _function(template: dict[str, Any]) -> dict[str, Any]:
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    return function["Properties"]  # type: ignore[no-any-return]


def _xray_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if "xray:" in str(statement["Action"])
    ]


def test_default_is_no_tracing_and_no_xray_wildcard() -> None:
    template = _synth()
    function = _function(template)
    assert "TracingConfig" not in function
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert _xray_statements(template) == []


def test_tracing_on_turns_on_active_tracing_the_tracer_and_its_iam() -> None:
    template = _synth(tracing=True)
    function = _function(template)
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "false"
    (statement,) = _xray_statements(template)
    assert sorted(statement["Action"]) == XRAY
    assert statement["Resource"] == "*"


def test_one_stack_one_tracing_setting(fresh_stack: cdk.Stack) -> None:
    KinesisStreamEncryption(fresh_stack, "A", stream="a")
    with pytest.raises(ValueError, match="tracing=False"):
        KinesisStreamEncryption(fresh_stack, "B", stream="b", tracing=True)


def test_provider_of_passes_tracing(fresh_stack: cdk.Stack) -> None:
    provider = KinesisStreamEncryptionProvider.of(fresh_stack, tracing=True)
    assert provider.tracing is True
    assert KinesisStreamEncryption(fresh_stack, "E", stream="a", tracing=True).provider is provider


PROBE = "import sys, handler; print('aws_xray_sdk' in sys.modules, handler.tracer is not None)"


@pytest.mark.parametrize(("disabled", "imported"), [("true", False), ("false", True)])
def test_the_handler_follows_the_variable_the_construct_sets(disabled: str, imported: bool) -> None:
    """In Lambda (AWS_LAMBDA_FUNCTION_NAME set), POWERTOOLS_TRACE_DISABLED alone decides whether
    the X-Ray SDK is imported at all."""
    env = {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": "kinesis-stream-encryption",
        "POWERTOOLS_TRACE_DISABLED": disabled,
        "AWS_REGION": "us-east-1",
        "PYTHONPATH": str(REPO / "lambda_src"),
    }
    env.pop("AWS_SAM_LOCAL", None)
    env.pop("AWS_CHALICE_CLI_MODE", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [str(imported), str(imported)]
