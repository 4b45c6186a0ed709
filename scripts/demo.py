"""Local demo of the Custom::KinesisStreamEncryption resource, driven as CloudFormation would.

The resource is driven as the example CDK app (cdk/app.py) declares it: the app's
EncryptExistingStreamStack is synthesized in-process (with cdk.json's context, as `cdk synth`
would), and the Custom::KinesisStreamEncryption resource's Properties, the provider function's
Environment.Variables and its Timeout are read from the synthesized template. The few intrinsics
an emulator cannot evaluate (the key's and the function's Fn::GetAtt ... Arn, Ref AWS::...) are
resolved explicitly to what this demo created; anything else stops the demo with an error.

By default everything runs on this machine and no AWS account is involved: moto's server is started
on 127.0.0.1, the stream the template names and a customer-managed KMS key (standing in for the
stack's key) are created there, and the real Lambda handler (lambda_src/handler.py) is called with
CloudFormation custom-resource events for

    1. Create   with the template's properties minus KeyId: the AWS-managed key alias/aws/kinesis
    2. Update   to the template's properties: its KeyId, the stack's customer-managed key
    3. Update   that changes only ServiceTimeout (encryption already right: no Kinesis change)
    4. Delete   (encryption off again)

Each event's ResponseURL points at a small HTTP receiver started here, so the handler's real
response PUT is what gets checked and shown. The handler's JSON logs and metrics are written to
.demo/handler.log (and shown as well with --verbose).

Other targets are explicit choices:
    --endpoint-url URL                   another AWS emulator (e.g. LocalStack) instead of moto
    --real-aws --region R --stream-name N --key-id K
                                         a REAL stream in a REAL account (asks for confirmation
                                         unless --yes; the stream must exist and be unencrypted;
                                         it ends unencrypted)
The app is synthesized with its streamArn context pointing at the stream actually used (by
default cdk.json's; another one for --region/--stream-name, another account or --real-aws), as
`cdk synth -c streamArn=...` would; --key-id stands in for the stack's own KMS key.

Exit status 0 only when every step got the expected response and the stream ends unencrypted;
2 when the demo could not start (stream, key, synthesis or template).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import re
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from devsupport.cdk_template import (
    DEMO_STACK_ID,
    EXAMPLE_APP,
    DemoSetupError,
    Synthesized,
    TemplateView,
    describe_intrinsic,
    make_resolver,
    read_template,
    synthesize,
)
from devsupport.drift_demo import DriftDemoResult, run_drift_demo, show_drift
from devsupport.http_receiver import ResponseReceiver
from devsupport.lifecycle_demo import (
    AWS_MANAGED_KEY,
    CUSTOMER_KEY_ALIAS,
    FUNCTION_NAME,
    Demo,
    LogSink,
    StepResult,
    lifecycle,
    prepare_key,
    prepare_stream,
    read_encryption,
    wait_active,
)
from devsupport.moto_server import aws_environment, moto_endpoint

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = ROOT / "lambda_src"
CDK_JSON = ROOT / "cdk.json"
DEMO_DIR = ROOT / ".demo"

EMULATOR_ACCOUNT = "123456789012"
#: Used when cdk.json has no streamArn context (the app then falls back to the same stream).
FALLBACK_REGION = "us-east-1"
FALLBACK_STREAM_NAME = "orders"
STREAM_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>[\w-]+):kinesis:(?P<region>[\w-]+):(?P<account>\d{12}):"
    r"stream/(?P<name>[\w.-]+)"
)


# -- command line ------------------------------------------------------------------------------


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of cdk.json: what ``cdk synth`` from the root gives the example app."""
    try:
        config = json.loads(CDK_JSON.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    context = config.get("context") if isinstance(config, dict) else None
    return dict(context) if isinstance(context, dict) else {}


def default_stream(context: Mapping[str, Any]) -> tuple[str, str]:
    """Region and stream name of cdk.json's ``streamArn`` context (the demo's defaults)."""
    match = STREAM_ARN_PATTERN.fullmatch(str(context.get("streamArn", "")))
    if match is None:
        return FALLBACK_REGION, FALLBACK_STREAM_NAME
    return match["region"], match["name"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    region, stream_name = default_stream(cdk_json_context())
    parser = argparse.ArgumentParser(
        prog="demo.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  python scripts/demo.py                                      # embedded moto\n"
            "  python scripts/demo.py --verbose                            # with handler logs\n"
            "  python scripts/demo.py --endpoint-url http://localhost:4566 # e.g. LocalStack\n"
            "  python scripts/demo.py --real-aws --region eu-west-1 --stream-name test-stream \\\n"
            "      --key-id arn:aws:kms:eu-west-1:111122223333:key/...     # asks first"
        ),
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="use this already running AWS emulator instead of the embedded moto server "
        "(fake credentials are used, so a real endpoint would just refuse)",
    )
    target.add_argument(
        "--real-aws",
        action="store_true",
        help="use a REAL AWS account with your usual credentials; needs --region, --stream-name "
        "and --key-id, and changes the encryption of that stream (ends with it off)",
    )
    parser.add_argument(
        "--region",
        help=f"AWS region (default for emulators: {region}, from cdk.json's streamArn context; "
        "required with --real-aws)",
    )
    parser.add_argument(
        "--stream-name",
        help=f"stream to use (default for emulators: {stream_name}, from cdk.json's streamArn "
        "context, created in the emulator; with --real-aws it must already exist, be ACTIVE "
        "and be unencrypted)",
    )
    parser.add_argument(
        "--key-id",
        help="customer-managed KMS key (ARN, id or alias) standing in for the stack's own key "
        "in the Update step (default: a key created in the emulator with alias "
        f"{CUSTOMER_KEY_ALIAS}; required with --real-aws)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="with --real-aws: do not ask for confirmation",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the handler's JSON logs and EMF metrics (always written to .demo/)",
    )
    parser.add_argument(
        "--function-timeout",
        type=float,
        metavar="SECONDS",
        help="the Lambda timeout the handler believes it has (default: the function's Timeout "
        "in the synthesized template)",
    )
    args = parser.parse_args(argv)
    if args.real_aws:
        missing = [
            flag
            for flag, value in (
                ("--region", args.region),
                ("--stream-name", args.stream_name),
                ("--key-id", args.key_id),
            )
            if not value
        ]
        if missing:
            parser.error(f"--real-aws needs {', '.join(missing)} (no defaults for a real account)")
    elif args.yes:
        parser.error("--yes only applies to --real-aws")
    if args.function_timeout is not None and args.function_timeout <= 0:
        parser.error("--function-timeout must be positive")
    args.region = args.region or region
    args.stream_name = args.stream_name or stream_name
    return args


# -- environment -------------------------------------------------------------------------------


def use_emulator(endpoint: str, region: str) -> None:
    """Point every boto3 client of this process (the handler's too) at ``endpoint``, with fake
    credentials and no profile or config file, so no real account can be reached."""
    safe = aws_environment(endpoint, region=region)
    for name in set(os.environ) - set(safe):
        del os.environ[name]
    os.environ.update(safe)


def use_real_aws(region: str) -> None:
    for name in list(os.environ):
        if name == "AWS_ENDPOINT_URL" or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ["AWS_REGION"] = region
    os.environ["AWS_DEFAULT_REGION"] = region


def account_id(region: str, fallback: str | None) -> str:
    """The caller's account (STS); ``fallback`` for an emulator without STS, else it raises."""
    sts: Any = boto3.client("sts", region_name=region)
    try:
        return str(sts.get_caller_identity()["Account"])
    except EndpointConnectionError:
        raise  # nothing listens there: no fallback makes the demo work
    except (BotoCoreError, ClientError):
        if fallback is None:
            raise
        return fallback


def import_handler() -> ModuleType:
    """The Lambda entry module, imported only after the environment is set (boto3 and
    Powertools read it at import)."""
    if str(LAMBDA_SRC) not in sys.path:
        sys.path.insert(0, str(LAMBDA_SRC))
    return importlib.import_module("handler")


def confirm_real_stream(kinesis: Any, args: argparse.Namespace, account: str) -> str | None:
    """None when it is fine to go on; otherwise why not."""
    try:
        state = read_encryption(kinesis, args.stream_name)
    except kinesis.exceptions.ResourceNotFoundException:
        return f"stream {args.stream_name} does not exist in account {account}, {args.region}"
    if state.status != "ACTIVE":
        return f"stream {args.stream_name} is {state.status}, not ACTIVE"
    if state.encryption_type != "NONE":
        return (
            f"stream {args.stream_name} is already encrypted ({state}); this demo ends by "
            "turning encryption off, so it refuses to run on it. Use an unencrypted test stream."
        )
    print(
        "\n!!  --real-aws: this will CHANGE THE ENCRYPTION OF A REAL KINESIS STREAM  !!\n"
        f"    account {account}, region {args.region}, stream {args.stream_name}\n"
        f"    1. turn on SSE-KMS with {AWS_MANAGED_KEY}\n"
        f"    2. switch to the key {args.key_id}\n"
        "    3. an update that should change nothing\n"
        "    4. turn encryption OFF again\n"
        "    Producers and consumers need kms permissions on the customer key while it is on;\n"
        "    this uses 2 of the stream's 25 key changes and 1 of its 25 disables per 24 hours.\n"
    )
    if args.yes:
        return None
    if not sys.stdin.isatty():
        return "not confirmed (stdin is not a terminal; pass --yes to skip the prompt)"
    answer = input(f"Type the stream name ({args.stream_name}) to go on: ").strip()
    return None if answer == args.stream_name else "not confirmed"


# -- output ------------------------------------------------------------------------------------


def show(index: int, total: int, result: StepResult, hint_marker: str = " Details:") -> None:
    body = result.body
    reason = str(body.get("Reason", ""))
    reason, _, details = reason.partition(hint_marker)
    data = body.get("Data")
    data_text = ", ".join(f"{k}={v}" for k, v in data.items()) if isinstance(data, dict) else "-"
    calls = ", ".join(f"{name} x{count}" for name, count in sorted(result.calls.items())) or "-"
    verdict = "ok" if result.ok else "FAILED: " + "; ".join(result.problems)
    print(f"\n[{index}/{total}] {result.step.title}  ({result.seconds:.2f} s)")
    sent = result.step.properties
    properties = ", ".join(f"{k}={v}" for k, v in sent.items() if k != "ServiceToken")
    rows = [
        ("properties", properties),
        ("status", str(body.get("Status", "-"))),
        ("physical id", str(body.get("PhysicalResourceId", "-"))),
        ("data", data_text),
        ("reason", reason.strip() or "-"),
        ("  logs", ("Details:" + details).strip() if details else "-"),
        ("stream now", str(result.encryption) if result.encryption else "?"),
        ("ownership", ownership_text(result.ownership)),
        ("kinesis calls", calls),
        ("response", result.wire),
        ("check", verdict),
    ]
    for label, value in rows:
        print(f"    {label:<13} {value}")


def ownership_text(tags: Mapping[str, str]) -> str:
    """The kinesis-stream-encryption:* tags, short: who owns the stream, what was there before."""
    if not tags:
        return "no kinesis-stream-encryption:* tags"
    stack = tags.get("owner-stack", "-").split(":stack/")[-1].split("/")[0]
    shown = [f"owner {stack}/{tags.get('owner-resource', '-')}"]
    shown += [f"{name}={value}" for name, value in sorted(tags.items()) if "owner" not in name]
    return ", ".join(shown)


def summary(results: list[StepResult]) -> None:
    header = ("", "step", "status", "Start", "Stop", "time", "stream afterwards")
    rows = [header]
    for index, result in enumerate(results, 1):
        rows.append(
            (
                "ok" if result.ok else "BAD",
                f"{index}. {result.step.request_type}",
                str(result.body.get("Status", "-")),
                str(result.calls.get("StartStreamEncryption", 0)),
                str(result.calls.get("StopStreamEncryption", 0)),
                f"{result.seconds:.2f} s",
                str(result.encryption) if result.encryption else "?",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    print()
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(("  " + "  ".join(cells)).rstrip())


# -- main --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the demo runs: environment set, account known, clients made."""

    mode: str
    account: str
    partition: str
    kinesis: Any
    kms: Any


@dataclass(frozen=True)
class Resource:
    """The template's resource, its intrinsics resolved, and what it takes to run it."""

    synthesized: Synthesized
    context_note: str
    view: TemplateView
    properties: dict[str, str]
    environment: dict[str, str]
    stack_id: str
    function_arn: str
    stream_name: str


def open_target(args: argparse.Namespace, stack: contextlib.ExitStack[bool | None]) -> Target | str:
    """Environment, account and clients; a string says why the demo cannot run."""
    if args.real_aws:
        use_real_aws(args.region)
        mode = f"REAL AWS, region {args.region}"
    else:
        endpoint = args.endpoint_url or stack.enter_context(moto_endpoint())
        use_emulator(endpoint, args.region)
        where = "emulator" if args.endpoint_url else "embedded moto server"
        mode = f"{where} at {endpoint}"
    kinesis: Any = boto3.client("kinesis", region_name=args.region)
    kms: Any = boto3.client("kms", region_name=args.region)
    account = account_id(args.region, None if args.real_aws else EMULATOR_ACCOUNT)
    partition = "aws"
    if args.real_aws:
        partition = boto3.session.Session().get_partition_for_region(args.region)
        refusal = confirm_real_stream(kinesis, args, account)
        if refusal is not None:
            return refusal
    return Target(mode, account, partition, kinesis, kms)


def synthesis_context(args: argparse.Namespace, target: Target) -> tuple[dict[str, Any], str]:
    """cdk.json's context, its streamArn pointed at the stream this run uses (if it differs)."""
    context = cdk_json_context()
    stream_arn = (
        f"arn:{target.partition}:kinesis:{args.region}:{target.account}:stream/{args.stream_name}"
    )
    if context.get("streamArn") == stream_arn:
        return context, "cdk.json"
    context["streamArn"] = stream_arn
    return context, f"-c streamArn={stream_arn} (for this target; cdk.json names another)"


def stream_name_in(properties: Mapping[str, str], account: str, region: str) -> str:
    """The stream the resolved properties name, which must be in the demo's account and region."""
    stream_arn = properties.get("StreamARN")
    if stream_arn is None:
        name = properties.get("StreamName")
        if not name:
            raise DemoSetupError("the template's resource names no StreamARN or StreamName")
        return name
    match = STREAM_ARN_PATTERN.fullmatch(stream_arn)
    if match is None:
        raise DemoSetupError(f"the template's StreamARN {stream_arn!r} is not a stream ARN")
    if (match["account"], match["region"]) != (account, region):
        raise DemoSetupError(
            f"the template's StreamARN {stream_arn} is not in the demo's account {account} and "
            f"region {region}"
        )
    return match["name"]


def prepare_resource(args: argparse.Namespace, target: Target) -> Resource:
    """Synthesize, read and resolve the template; the key and (emulators) the stream."""
    context, context_note = synthesis_context(args, target)
    print(f"Synthesizing {DEMO_STACK_ID} of {EXAMPLE_APP.relative_to(ROOT)} ...", flush=True)
    synthesized = synthesize(context)
    view = read_template(synthesized.template, synthesized.stack_name)
    key = args.key_id or prepare_key(target.kms, view.key_description)
    region, account, partition = args.region, target.account, target.partition
    stack_name = synthesized.stack_name
    stack_id = (
        f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack_name}/{uuid.uuid4()}"
    )
    function_arn = f"arn:{partition}:lambda:{region}:{account}:function:{FUNCTION_NAME}"
    resolver = make_resolver(
        view,
        partition=partition,
        region=region,
        account=account,
        stack_name=stack_name,
        stack_id=stack_id,
        function_arn=function_arn,
        key=str(key),
    )
    where = f"{stack_name}.{view.logical_id}.Properties"
    properties = {
        name: resolver.resolve(value, f"{where}.{name}") for name, value in view.properties.items()
    }
    where = f"{stack_name}.{view.function_id}.Environment.Variables"
    environment = {
        name: resolver.resolve(value, f"{where}.{name}") for name, value in view.environment.items()
    }
    stream_name = stream_name_in(properties, account, region)
    if not args.real_aws:
        prepare_stream(target.kinesis, stream_name)
    return Resource(
        synthesized,
        context_note,
        view,
        properties,
        environment,
        stack_id,
        function_arn,
        stream_name,
    )


def prepare(
    args: argparse.Namespace, stack: contextlib.ExitStack[bool | None]
) -> tuple[Target, Resource] | str:
    """Everything before the first event; a string says why the demo cannot run."""
    try:
        target = open_target(args, stack)
        if isinstance(target, str):
            return target
        return target, prepare_resource(args, target)
    except (BotoCoreError, ClientError) as error:
        return f"could not prepare the stream and key ({type(error).__name__}: {error})"
    except DemoSetupError as error:
        return str(error)


def header(args: argparse.Namespace, target: Target, resource: Resource, log_path: Path) -> None:
    synthesized, view = resource.synthesized, resource.view
    print(
        f"Properties from the synthesized template: stack {synthesized.stack_name}, logical id "
        f"{view.logical_id}\n    ({EXAMPLE_APP.relative_to(ROOT)} synthesized in "
        f"{synthesized.seconds:.1f} s; streamArn context from {resource.context_note})"
    )
    for name, raw in view.properties.items():
        resolved = resource.properties[name]
        shown = resolved if raw == resolved else f"{describe_intrinsic(raw)} -> {resolved}"
        print(f"    {name:<15} {shown}")
    timeout = f"Timeout {view.function_timeout} s"
    if args.function_timeout is not None:
        timeout += f" (the handler is told {args.function_timeout:g} s: --function-timeout)"
    print(f"    {'function':<15} {view.function_id}: {timeout}")
    for name, value in resource.environment.items():
        print(f"    {'':<15} {name}={value}")
    print(f"    {'target':<15} {target.mode}")
    print(f"    {'account':<15} {target.account}   region {args.region}")
    hint = "" if args.verbose else "  (--verbose shows them)"
    print(f"    {'handler logs':<15} {log_path}{hint}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    DEMO_DIR.mkdir(exist_ok=True)
    log_path = DEMO_DIR / "handler.log"
    print("Custom::KinesisStreamEncryption - local lifecycle demo", flush=True)
    with contextlib.ExitStack() as stack:
        prepared = prepare(args, stack)
        if isinstance(prepared, str):
            print(f"Not running: {prepared}", file=sys.stderr)
            return 2
        target, resource = prepared

        # What Lambda would give the function: its environment, from the template, before the
        # handler is imported (Powertools reads it then).
        os.environ.update(resource.environment)
        log_file = stack.enter_context(log_path.open("w", encoding="utf-8"))
        sink = LogSink(log_file, sys.stdout if args.verbose else None)
        handler = import_handler()
        handler.logger.registered_handler.setStream(sink)
        receiver = stack.enter_context(ResponseReceiver())
        header(args, target, resource, log_path)

        demo = Demo(
            handler,
            receiver,
            target.kinesis,
            sink,
            region=args.region,
            stack_id=resource.stack_id,
            logical_id=resource.view.logical_id,
            function_arn=resource.function_arn,
            stream_name=resource.stream_name,
            function_timeout=args.function_timeout or resource.view.function_timeout,
        )
        try:
            steps = lifecycle(resource.properties)
        except DemoSetupError as error:
            print(f"Not running: {error}", file=sys.stderr)
            return 2
        results: list[StepResult] = []
        drift: DriftDemoResult | None = None
        for index, step in enumerate(steps, 1):
            if step.request_type == "Delete" and drift is None:
                # Before Delete, while the stream is encrypted: one drift, detected and repaired.
                drift = run_drift_demo(
                    handler,
                    target.kinesis,
                    sink,
                    stream_name=resource.stream_name,
                    key=results[-1].step.properties["KeyId"],
                    function_arn=resource.function_arn,
                )
                show_drift(drift)
                if not drift.ok:
                    break
            result = demo.run(step)
            results.append(result)
            show(index, len(steps), result)
            if result.body.get("Status") != "SUCCESS":
                break  # later steps would only pile up on the failure

        final = read_encryption(target.kinesis, resource.stream_name)
        if len(results) == len(steps) and final.encryption_type == "KMS" and final.key_id:
            # The last Delete gave back the key "another team" had put on: take that off too,
            # so the stream ends as the demo found it.
            print(f"\nCleanup: stopping the encryption the demo put on as another team ({final})")
            target.kinesis.stop_stream_encryption(
                StreamName=resource.stream_name, EncryptionType="KMS", KeyId=final.key_id
            )
            final = wait_active(target.kinesis, resource.stream_name)
        summary(results)
        passed = len(results) == len(steps) and all(r.ok for r in results)
        passed = passed and final.encryption_type == "NONE" and drift is not None and drift.ok
        print(f"\nFinal stream state: {final}")
        print("Demo " + ("passed." if passed else "FAILED."))
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
