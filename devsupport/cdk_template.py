"""The example CDK app, synthesized in-process, and the custom resource read from its template.

The demo drives the resource with exactly the properties the app declares; the few intrinsics an
emulator cannot evaluate are resolved explicitly (``Resolver``), anything else is an error.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devsupport.node_path import node_first_on_path

ROOT = Path(__file__).resolve().parents[1]
CDK_DIR = ROOT / "cdk"
EXAMPLE_APP = CDK_DIR / "app.py"
DEMO_STACK_ID = "EncryptExistingStreamStack"
RESOURCE_TYPE = "Custom::KinesisStreamEncryption"
FUNCTION_TYPE = "AWS::Lambda::Function"
KEY_TYPE = "AWS::KMS::Key"


class DemoSetupError(Exception):
    """The demo cannot start: the template, its intrinsics or the stream do not fit."""


@dataclass(frozen=True)
class Synthesized:
    stack_name: str
    template: dict[str, Any]
    context: dict[str, Any]
    seconds: float


def synthesize(context: dict[str, Any]) -> Synthesized:
    """Synthesize the example app (with its cdk-nag checks) as ``cdk synth`` would, into a
    temporary cloud assembly; the template of its EncryptExistingStreamStack."""
    started = time.monotonic()
    try:
        stack_name, template = _synthesize_example_app(context)
    except DemoSetupError:
        raise
    except Exception as error:  # jsii, cdk-nag or the app itself: the demo cannot start
        raise DemoSetupError(
            f"synthesizing {EXAMPLE_APP.relative_to(ROOT)} failed: {type(error).__name__}: {error}"
        ) from error
    return Synthesized(stack_name, template, context, time.monotonic() - started)


def _synthesize_example_app(context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    node_first_on_path()
    if str(CDK_DIR) not in sys.path:
        sys.path.insert(0, str(CDK_DIR))  # cdk/app.py imports kinesis_stream_encryption
    import aws_cdk as cdk

    spec = importlib.util.spec_from_file_location("kse_example_app", EXAMPLE_APP)
    if spec is None or spec.loader is None:
        raise DemoSetupError(f"cannot load {EXAMPLE_APP}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with tempfile.TemporaryDirectory(prefix="demo-cdk.out-") as outdir:
        app = cdk.App(outdir=outdir, context=context)
        encrypt, _provider = module.build_app(app)
        if encrypt.node.id != DEMO_STACK_ID:
            raise DemoSetupError(
                f"build_app's first stack is {encrypt.node.id}, not {DEMO_STACK_ID}"
            )
        artifact = app.synth().get_stack_by_name(encrypt.stack_name)
        template = json.loads(Path(artifact.template_full_path).read_text(encoding="utf-8"))
    return str(encrypt.stack_name), template


@dataclass(frozen=True)
class TemplateView:
    """What the demo reads from the template: the resource and the function it invokes."""

    logical_id: str
    properties: dict[str, Any]  # as in the template, intrinsics unresolved
    function_id: str
    function_timeout: int
    environment: dict[str, Any]
    key_ids: list[str]
    key_description: str | None


def read_template(template: Mapping[str, Any], stack_name: str) -> TemplateView:
    resources: dict[str, Any] = dict(template.get("Resources") or {})
    found = [lid for lid, r in resources.items() if r.get("Type") == RESOURCE_TYPE]
    if len(found) != 1:
        raise DemoSetupError(f"{stack_name} has {len(found)} {RESOURCE_TYPE} resources, expected 1")
    (logical_id,) = found
    properties = dict(resources[logical_id].get("Properties") or {})
    token = properties.get("ServiceToken")
    target = _get_att(token)
    if target is None or target[1] != "Arn" or target[0] not in resources:
        raise DemoSetupError(
            f"{logical_id}.ServiceToken is {json.dumps(token)}, expected "
            "Fn::GetAtt of this stack's function's Arn"
        )
    function_id = target[0]
    function = resources[function_id]
    if function.get("Type") != FUNCTION_TYPE:
        raise DemoSetupError(f"the ServiceToken names {function_id}, not an {FUNCTION_TYPE}")
    function_properties = function.get("Properties") or {}
    timeout = function_properties.get("Timeout", 3)  # CloudFormation's default
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise DemoSetupError(f"{function_id}.Timeout is {timeout!r}, expected whole seconds")
    environment = dict((function_properties.get("Environment") or {}).get("Variables") or {})
    key_ids = sorted(lid for lid, r in resources.items() if r.get("Type") == KEY_TYPE)
    description = None
    if len(key_ids) == 1:
        value = (resources[key_ids[0]].get("Properties") or {}).get("Description")
        description = value if isinstance(value, str) else None
    return TemplateView(
        logical_id, properties, function_id, timeout, environment, key_ids, description
    )


def _get_att(value: Any) -> tuple[str, str] | None:
    """``(logical id, attribute)`` of an ``Fn::GetAtt`` (list or ``"Id.Attr"`` form)."""
    if not isinstance(value, dict) or list(value) != ["Fn::GetAtt"]:
        return None
    argument = value["Fn::GetAtt"]
    if isinstance(argument, str) and "." in argument:
        logical_id, _, attribute = argument.partition(".")
        return logical_id, attribute
    if (
        isinstance(argument, list)
        and len(argument) == 2
        and all(isinstance(part, str) for part in argument)
    ):
        return argument[0], argument[1]
    return None


def describe_intrinsic(value: Any) -> str:
    """Short text for a template value: ``Fn::GetAtt Id.Arn``, ``Ref X`` or its JSON."""
    att = _get_att(value)
    if att is not None:
        return f"Fn::GetAtt {att[0]}.{att[1]}"
    if isinstance(value, dict) and list(value) == ["Ref"]:
        return f"Ref {value['Ref']}"
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Resolver:
    """The few intrinsics the demo can answer, listed explicitly; anything else raises.

    CloudFormation sends every custom-resource property as a string, so the result is one too.
    """

    pseudo_parameters: Mapping[str, str]  # Ref AWS::AccountId, ...
    refs: Mapping[str, str]  # Ref LogicalId
    attributes: Mapping[tuple[str, str], str]  # Fn::GetAtt [LogicalId, Attribute]

    def resolve(self, value: Any, where: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref" and argument in self.pseudo_parameters:
                return self.pseudo_parameters[argument]
            if name == "Ref" and argument in self.refs:
                return self.refs[argument]
            att = _get_att(value)
            if att is not None and att in self.attributes:
                return self.attributes[att]
            if (
                name == "Fn::Join"
                and isinstance(argument, list)
                and len(argument) == 2
                and isinstance(argument[0], str)
                and isinstance(argument[1], list)
            ):
                separator: str = argument[0]
                parts: list[Any] = argument[1]
                return separator.join(self.resolve(part, f"{where}[Fn::Join]") for part in parts)
        known = [f"Ref {name}" for name in (*self.pseudo_parameters, *self.refs)]
        known += [f"Fn::GetAtt {lid}.{attribute}" for lid, attribute in self.attributes]
        raise DemoSetupError(
            f"{where}: the demo cannot resolve {json.dumps(value)}; it knows "
            f"{', '.join(known)} and Fn::Join of those"
        )


def make_resolver(
    view: TemplateView,
    *,
    partition: str,
    region: str,
    account: str,
    stack_name: str,
    stack_id: str,
    function_arn: str,
    key: str,
) -> Resolver:
    """Pseudo parameters of the demo's account and region; the ServiceToken's function is the fake
    function ARN; the stack's one KMS key is the key the demo uses (created or --key-id)."""
    attributes = {(view.function_id, "Arn"): function_arn}
    refs: dict[str, str] = {}
    if len(view.key_ids) == 1:
        (key_logical_id,) = view.key_ids
        attributes[key_logical_id, "Arn"] = key
        if ":key/" in key:  # a key ARN: its id is known too
            key_uuid = key.rpartition(":key/")[2]
            attributes[key_logical_id, "KeyId"] = key_uuid
            refs[key_logical_id] = key_uuid
    pseudo = {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
    }
    return Resolver(pseudo, refs, attributes)
