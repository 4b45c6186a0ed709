"""Local demo of the Custom::KinesisStreamEncryption resource, driven as CloudFormation would.

By default everything runs on this machine and no AWS account is involved: moto's server is started
on 127.0.0.1, a stream and a customer-managed KMS key are created there, and the real Lambda handler
(lambda_src/handler.py) is called with CloudFormation custom-resource events for

    1. Create   with the AWS-managed key alias/aws/kinesis (stream given by name)
    2. Update   to the customer-managed key (stream now given by ARN: same physical id)
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

Exit status 0 only when every step got the expected response and the stream ends unencrypted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO
from urllib.parse import quote

import boto3
from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = ROOT / "lambda_src"
DEMO_DIR = ROOT / ".demo"

EMULATOR_ACCOUNT = "123456789012"
AWS_MANAGED_KEY = "alias/aws/kinesis"
CUSTOMER_KEY_ALIAS = "alias/orders-stream"
FUNCTION_NAME = "kinesis-stream-encryption-demo"
STACK_NAME = "orders-encryption-demo"
LOGICAL_ID = "StreamEncryption"
RESOURCE_TYPE = "Custom::KinesisStreamEncryption"
MAX_BODY_BYTES = 4096
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Anything that could lead boto3 from an emulator to a real account.
CREDENTIAL_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
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
        help="AWS region (default us-east-1 for emulators; required with --real-aws)",
    )
    parser.add_argument(
        "--stream-name",
        help="stream to use (default `orders`, created in the emulator; with --real-aws it "
        "must already exist, be ACTIVE and be unencrypted)",
    )
    parser.add_argument(
        "--key-id",
        help="customer-managed KMS key (ARN, id or alias) for the Update step (default: a key "
        f"created in the emulator with alias {CUSTOMER_KEY_ALIAS}; required with --real-aws)",
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
        default=300.0,
        metavar="SECONDS",
        help="the Lambda timeout the handler believes it has (default 300)",
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
    args.region = args.region or "us-east-1"
    args.stream_name = args.stream_name or "orders"
    return args


# -- the ResponseURL receiver ------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedPut:
    method: str
    target: str  # raw path and query, exactly as they came in the request line
    content_types: list[str]
    body: bytes


@dataclass
class _Inbox:
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[ReceivedPut] = field(default_factory=list)


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        content_types = [v for k, v in self.headers.items() if k.lower() == "content-type"]
        with self.server.inbox.lock:
            self.server.inbox.received.append(
                ReceivedPut(self.command, self.path, content_types, body)
            )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the default prints each request line, query string (the signature) included."""


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    inbox: _Inbox


class ResponseReceiver:
    """Stands in for CloudFormation's presigned S3 ResponseURL on 127.0.0.1; answers 200."""

    def __init__(self) -> None:
        self._server = _ReceiverServer(("127.0.0.1", 0), _ReceiverHandler)
        self._server.inbox = _Inbox()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ResponseReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url_for(self, stack_id: str, request_id: str) -> str:
        """Shaped like CloudFormation's: percent-encoded ``stack|logical id|request id`` path and
        SigV4 presign parameters with a random (fake) signature."""
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        path = quote(f"{stack_id}|{LOGICAL_ID}|{request_id}", safe="/")
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        credential = quote(f"ASIAQEXAMPLEDEMO0000/{stamp[:8]}/us-east-1/s3/aws4_request", safe="")
        query = (
            f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-SignedHeaders=host"
            f"&X-Amz-Expires=7200&X-Amz-Credential={credential}"
            f"&X-Amz-Signature={secrets.token_hex(32)}"
        )
        return f"http://{host}:{port}/{path}?{query}"

    def received_for(self, url: str) -> list[ReceivedPut]:
        path = request_target(url).partition("?")[0]
        with self._server.inbox.lock:
            return [
                put for put in self._server.inbox.received if put.target.partition("?")[0] == path
            ]


def request_target(url: str) -> str:
    """The raw path and query of ``url``: what must appear, unchanged, in the request line."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


# -- what the Lambda runtime would provide -----------------------------------------------------


@dataclass
class LambdaContext:
    """What the Python Lambda runtime passes as ``context``."""

    invoked_function_arn: str
    log_stream_name: str
    deadline: float  # epoch seconds
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "256"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


class LogSink(io.TextIOBase):
    """Where the handler's stdout/stderr go: a file, and the terminal too with --verbose."""

    def __init__(self, file: TextIO, echo: TextIO | None) -> None:
        super().__init__()
        self._file = file
        self._echo = echo
        self._captured: list[str] = []

    def writable(self) -> bool:
        return True

    def take(self) -> str:
        """Everything written since the last call."""
        text, self._captured = "".join(self._captured), []
        return text

    def write(self, text: str) -> int:
        self._captured.append(text)
        self._file.write(text)
        if self._echo is not None:
            self._echo.write(text)
        return len(text)

    def flush(self) -> None:
        self._file.flush()
        if self._echo is not None:
            self._echo.flush()


# -- environment -------------------------------------------------------------------------------


@contextlib.contextmanager
def embedded_moto() -> Iterator[str]:
    """moto's threaded server on loopback (a free port); yields its URL."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 (heavy; not for --real-aws)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def use_emulator(endpoint: str, region: str) -> None:
    """Point every boto3 client of this process (the handler's too) at ``endpoint``, with fake
    credentials and no profile or config file, so no real account can be reached."""
    for name in list(os.environ):
        if name in CREDENTIAL_VARIABLES or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


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
    except (BotoCoreError, ClientError):
        if fallback is None:
            raise
        return fallback


def import_handler() -> ModuleType:
    """The Lambda entry module, imported only after the environment is set (boto3 reads it)."""
    if str(LAMBDA_SRC) not in sys.path:
        sys.path.insert(0, str(LAMBDA_SRC))
    return importlib.import_module("handler")


# -- stream and key ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Encryption:
    status: str
    encryption_type: str
    key_id: str | None

    def __str__(self) -> str:
        if self.encryption_type == "NONE":
            return f"NONE ({self.status})"
        return f"{self.encryption_type} {self.key_id} ({self.status})"


def read_encryption(kinesis: Any, stream_name: str) -> Encryption:
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    return Encryption(
        str(summary.get("StreamStatus", "?")),
        str(summary.get("EncryptionType") or "NONE"),
        summary.get("KeyId"),
    )


def wait_active(kinesis: Any, stream_name: str, timeout: float = 120.0) -> Encryption:
    deadline = time.monotonic() + timeout
    while True:
        state = read_encryption(kinesis, stream_name)
        if state.status == "ACTIVE" or time.monotonic() > deadline:
            return state
        time.sleep(1.0)


def prepare_emulator(kinesis: Any, kms: Any, stream_name: str, key_id: str | None) -> str:
    """Stream (created if absent, unencrypted) and customer key in the emulator; the key id."""
    # An existing stream is one left over from an earlier run against the same emulator.
    with contextlib.suppress(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    state = wait_active(kinesis, stream_name)
    if state.encryption_type != "NONE" and state.key_id:
        kinesis.stop_stream_encryption(
            StreamName=stream_name, EncryptionType="KMS", KeyId=state.key_id
        )
        wait_active(kinesis, stream_name)
    if key_id:
        return key_id
    try:
        return str(kms.describe_key(KeyId=CUSTOMER_KEY_ALIAS)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        pass
    key_arn = str(
        kms.create_key(Description="kinesis-stream-encryption demo: orders stream")["KeyMetadata"][
            "Arn"
        ]
    )
    kms.create_alias(AliasName=CUSTOMER_KEY_ALIAS, TargetKeyId=key_arn)
    return key_arn


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


# -- the lifecycle -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    title: str
    request_type: str
    properties: dict[str, str]
    old_properties: dict[str, str] | None
    expect_encryption: tuple[str, str | None]
    expect_calls: dict[str, int]


@dataclass
class StepResult:
    step: Step
    seconds: float
    puts: list[ReceivedPut]
    body: dict[str, Any]
    encryption: Encryption | None
    calls: dict[str, int]
    problems: list[str]
    wire: str

    @property
    def ok(self) -> bool:
        return not self.problems


class Demo:
    def __init__(
        self,
        handler: ModuleType,
        receiver: ResponseReceiver,
        kinesis: Any,
        sink: LogSink,
        *,
        region: str,
        account: str,
        stream_name: str,
        function_timeout: float,
    ) -> None:
        self.handler = handler
        self.receiver = receiver
        self.kinesis = kinesis
        self.sink = sink
        self.region = region
        self.account = account
        self.stream_name = stream_name
        self.function_timeout = function_timeout
        self.function_arn = f"arn:aws:lambda:{region}:{account}:function:{FUNCTION_NAME}"
        self.stack_id = (
            f"arn:aws:cloudformation:{region}:{account}:stack/{STACK_NAME}/{uuid.uuid4()}"
        )
        self.physical_id: str | None = None
        self.calls: dict[str, int] = {}
        self._counting = False
        # The handler's own (cached) Kinesis client: count what it really calls.
        client = handler.kinesis_client(region)
        client.meta.events.register("before-call.kinesis", self._count_call)

    def _count_call(self, model: Any, **_: Any) -> None:
        if self._counting:
            self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def event(self, step: Step, url: str, request_id: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "RequestType": step.request_type,
            "ServiceToken": self.function_arn,
            "ResponseURL": url,
            "StackId": self.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": LOGICAL_ID,
        }
        if self.physical_id is not None:
            event["PhysicalResourceId"] = self.physical_id
        event["ResourceType"] = RESOURCE_TYPE
        event["ResourceProperties"] = step.properties
        if step.old_properties is not None:
            event["OldResourceProperties"] = step.old_properties
        return event

    def run(self, step: Step) -> StepResult:
        request_id = str(uuid.uuid4())
        url = self.receiver.url_for(self.stack_id, request_id)
        event = self.event(step, url, request_id)
        context = LambdaContext(
            invoked_function_arn=self.function_arn,
            log_stream_name=time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex,
            deadline=time.time() + self.function_timeout,
        )
        self.calls = {}
        self.sink.take()
        self._counting = True
        started = time.monotonic()
        with contextlib.redirect_stdout(self.sink), contextlib.redirect_stderr(self.sink):
            self.handler.lambda_handler(event, context)
        seconds = time.monotonic() - started
        self._counting = False
        self.sink.flush()
        return self.check(step, url, seconds, dict(self.calls), self.sink.take())

    def check(
        self, step: Step, url: str, seconds: float, calls: dict[str, int], output: str
    ) -> StepResult:
        problems: list[str] = []
        query = url.partition("?")[2]
        signature = query.rpartition("X-Amz-Signature=")[2]
        if query in output or signature in output:
            problems.append("the handler's output contains the ResponseURL's query or signature")
        puts = self.receiver.received_for(url)
        body: dict[str, Any] = {}
        wire = "nothing reached the ResponseURL"
        if len(puts) != 1:
            problems.append(f"{len(puts)} responses reached the ResponseURL, expected exactly 1")
        if puts:
            put = puts[-1]
            expected_target = request_target(url)
            if put.method != "PUT":
                problems.append(f"method {put.method}, expected PUT")
            if put.target != expected_target:
                problems.append("the PUT did not go to exactly the ResponseURL's path and query")
            if put.content_types != [""]:
                problems.append(f"Content-Type {put.content_types}, expected one empty header")
            if len(put.body) > MAX_BODY_BYTES:
                problems.append(f"body is {len(put.body)} bytes, over CloudFormation's 4096")
            exact = "exactly the ResponseURL" if put.target == expected_target else "ANOTHER URL"
            content_type = repr(put.content_types[0]) if put.content_types else "none"
            wire = (
                f"{put.method} to {exact}, {len(put.body)}-byte body, Content-Type "
                f"{content_type}, {len(puts)} request(s)"
            )
            try:
                body = json.loads(put.body)
            except ValueError:
                problems.append("the response body is not JSON")
        if body.get("Status") != "SUCCESS":
            problems.append(f"Status {body.get('Status')}, expected SUCCESS")
        encryption: Encryption | None = None
        try:
            encryption = read_encryption(self.kinesis, self.stream_name)
        except Exception as error:
            problems.append(f"could not read the stream back ({type(error).__name__})")
        if encryption is not None:
            observed = (encryption.encryption_type, encryption.key_id)
            if observed != step.expect_encryption:
                problems.append(f"stream shows {observed}, expected {step.expect_encryption}")
        for operation, count in step.expect_calls.items():
            if calls.get(operation, 0) != count:
                problems.append(f"{operation} called {calls.get(operation, 0)}x, expected {count}x")
        if body.get("Status") == "SUCCESS" and body.get("PhysicalResourceId"):
            self.physical_id = str(body["PhysicalResourceId"])
        return StepResult(step, seconds, puts, body, encryption, calls, problems, wire)


def lifecycle(service_token: str, stream_arn: str, stream_name: str, key: str) -> list[Step]:
    """The four events' properties, as CloudFormation sends them (strings, ServiceToken too)."""
    common = {"ServiceToken": service_token, "ServiceTimeout": "300"}
    created = {**common, "StreamName": stream_name}
    switched = {**common, "StreamARN": stream_arn, "KeyId": key}
    longer = {**switched, "ServiceTimeout": "900"}
    start, stop = "StartStreamEncryption", "StopStreamEncryption"
    return [
        Step(
            f"Create  by StreamName, default key {AWS_MANAGED_KEY}",
            "Create",
            created,
            None,
            ("KMS", AWS_MANAGED_KEY),
            {start: 1, stop: 0},
        ),
        Step(
            "Update  to the customer key, stream now by StreamARN",
            "Update",
            switched,
            created,
            ("KMS", key),
            {start: 1, stop: 0},
        ),
        Step(
            "Update  ServiceTimeout only (no-op for the stream)",
            "Update",
            longer,
            switched,
            ("KMS", key),
            {start: 0, stop: 0},
        ),
        Step("Delete", "Delete", longer, None, ("NONE", None), {start: 0, stop: 1}),
    ]


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
    rows = [
        ("status", str(body.get("Status", "-"))),
        ("physical id", str(body.get("PhysicalResourceId", "-"))),
        ("data", data_text),
        ("reason", reason.strip() or "-"),
        ("  logs", ("Details:" + details).strip() if details else "-"),
        ("stream now", str(result.encryption) if result.encryption else "?"),
        ("kinesis calls", calls),
        ("response", result.wire),
        ("check", verdict),
    ]
    for label, value in rows:
        print(f"    {label:<13} {value}")


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
    mode: str
    account: str
    stream_arn: str
    key: str
    kinesis: Any


def prepare(args: argparse.Namespace, stack: contextlib.ExitStack[bool | None]) -> Target | str:
    """Environment, stream and key; a string says why the demo cannot run."""
    if args.real_aws:
        use_real_aws(args.region)
        mode = f"REAL AWS, region {args.region}"
    else:
        endpoint = args.endpoint_url or stack.enter_context(embedded_moto())
        use_emulator(endpoint, args.region)
        where = "emulator" if args.endpoint_url else "embedded moto server"
        mode = f"{where} at {endpoint}"
    kinesis: Any = boto3.client("kinesis", region_name=args.region)
    kms: Any = boto3.client("kms", region_name=args.region)
    account = account_id(args.region, None if args.real_aws else EMULATOR_ACCOUNT)
    if args.real_aws:
        refusal = confirm_real_stream(kinesis, args, account)
        if refusal is not None:
            return refusal
        key = str(args.key_id)
    else:
        key = prepare_emulator(kinesis, kms, args.stream_name, args.key_id)
    summary = kinesis.describe_stream_summary(StreamName=args.stream_name)
    stream_arn = str(summary["StreamDescriptionSummary"]["StreamARN"])
    return Target(mode, account, stream_arn, key, kinesis)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    DEMO_DIR.mkdir(exist_ok=True)
    log_path = DEMO_DIR / "handler.log"
    with contextlib.ExitStack() as stack:
        try:
            target = prepare(args, stack)
        except (BotoCoreError, ClientError) as error:
            target = f"could not prepare the stream and key ({type(error).__name__}: {error})"
        if isinstance(target, str):
            print(f"Not running: {target}", file=sys.stderr)
            return 2

        log_file = stack.enter_context(log_path.open("w", encoding="utf-8"))
        sink = LogSink(log_file, sys.stdout if args.verbose else None)
        handler = import_handler()
        handler.logger.registered_handler.setStream(sink)
        receiver = stack.enter_context(ResponseReceiver())

        print("Custom::KinesisStreamEncryption - local lifecycle demo")
        print(f"    target        {target.mode}")
        print(f"    account       {target.account}   region {args.region}")
        print(f"    stream        {target.stream_arn}")
        print(f"    customer key  {target.key}")
        hint = "" if args.verbose else "  (--verbose shows them)"
        print(f"    handler logs  {log_path}{hint}")

        demo = Demo(
            handler,
            receiver,
            target.kinesis,
            sink,
            region=args.region,
            account=target.account,
            stream_name=args.stream_name,
            function_timeout=args.function_timeout,
        )
        steps = lifecycle(demo.function_arn, target.stream_arn, args.stream_name, target.key)
        results: list[StepResult] = []
        for index, step in enumerate(steps, 1):
            result = demo.run(step)
            results.append(result)
            show(index, len(steps), result)
            if result.body.get("Status") != "SUCCESS":
                break  # later steps would only pile up on the failure

        final = read_encryption(target.kinesis, args.stream_name)
        summary(results)
        passed = len(results) == len(steps) and all(r.ok for r in results)
        passed = passed and final.encryption_type == "NONE"
        print(f"\nFinal stream state: {final}")
        print("Demo " + ("passed." if passed else "FAILED."))
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
