"""The resource's lifecycle (Create, Update, no-op Update, Delete, then a Create and Delete on a
stream someone had already encrypted) driven through the real handler in this process, each
response checked as CloudFormation would receive it, and the ownership tags read back."""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from types import ModuleType
from typing import Any, TextIO

from devsupport.cdk_template import RESOURCE_TYPE, DemoSetupError
from devsupport.http_receiver import RecordedRequest, ResponseReceiver, request_target
from devsupport.moto_server import FakeLambdaContext

AWS_MANAGED_KEY = "alias/aws/kinesis"
CUSTOMER_KEY_ALIAS = "alias/orders-stream"
FUNCTION_NAME = "kinesis-stream-encryption-demo"
MAX_BODY_BYTES = 4096
OWNERSHIP_PREFIX = "kinesis-stream-encryption:"
PRIOR_KEY_TAG = OWNERSHIP_PREFIX + "prior-key"
NO_TAGS = ""  # expect_prior_key: the ownership tags must be gone


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


def prepare_stream(kinesis: Any, stream_name: str) -> None:
    """The stream in the emulator: created if absent, ACTIVE and unencrypted."""
    # An existing stream is one left over from an earlier run against the same emulator.
    with contextlib.suppress(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    state = wait_active(kinesis, stream_name)
    if state.encryption_type != "NONE" and state.key_id:
        kinesis.stop_stream_encryption(
            StreamName=stream_name, EncryptionType="KMS", KeyId=state.key_id
        )
        wait_active(kinesis, stream_name)


def read_ownership(kinesis: Any, stream_name: str) -> dict[str, str]:
    """The stream's kinesis-stream-encryption:* tags, prefix dropped."""
    tags: dict[str, str] = {}
    start: dict[str, str] = {}
    while True:
        page = kinesis.list_tags_for_stream(StreamName=stream_name, **start)
        for tag in page.get("Tags", []):
            if tag["Key"].startswith(OWNERSHIP_PREFIX):
                tags[tag["Key"].removeprefix(OWNERSHIP_PREFIX)] = tag.get("Value", "")
        if not page.get("HasMoreTags") or not page.get("Tags"):
            return tags
        start = {"ExclusiveStartTagKey": page["Tags"][-1]["Key"]}


def encrypt_as_another_team(kinesis: Any, stream_name: str, key_id: str) -> None:
    """Encrypt the stream outside the stack, as a team that owns it would (and wait)."""
    kinesis.start_stream_encryption(StreamName=stream_name, EncryptionType="KMS", KeyId=key_id)
    wait_active(kinesis, stream_name)


def prepare_key(kms: Any, description: str | None) -> str:
    """The customer key in the emulator (the stack's key stands for it); its ARN."""
    try:
        return str(kms.describe_key(KeyId=CUSTOMER_KEY_ALIAS)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        pass
    created = kms.create_key(Description=description or "kinesis-stream-encryption demo key")
    key_arn = str(created["KeyMetadata"]["Arn"])
    kms.create_alias(AliasName=CUSTOMER_KEY_ALIAS, TargetKeyId=key_arn)
    return key_arn


@dataclass(frozen=True)
class Step:
    title: str
    request_type: str
    properties: dict[str, str]
    old_properties: dict[str, str] | None
    expect_encryption: tuple[str, str | None]
    expect_calls: dict[str, int]
    # Ownership: the prior-key tag expected afterwards (NO_TAGS: none left); None: not checked.
    expect_prior_key: str | None = None
    # Before the step: someone outside the stack encrypts the stream with this key.
    encrypted_before_with: str | None = None


@dataclass
class StepResult:
    step: Step
    seconds: float
    puts: list[RecordedRequest]
    body: dict[str, Any]
    encryption: Encryption | None
    calls: dict[str, int]
    problems: list[str]
    wire: str
    ownership: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Demo:
    """Runs each step through the real handler and checks what reached the ResponseURL."""

    handler: ModuleType
    receiver: ResponseReceiver
    kinesis: Any
    sink: LogSink
    _: KW_ONLY
    region: str
    stack_id: str
    logical_id: str
    function_arn: str
    stream_name: str
    function_timeout: float
    physical_id: str | None = None
    calls: dict[str, int] = field(default_factory=dict)
    _counting: bool = False

    def __post_init__(self) -> None:
        # The handler's own (cached) Kinesis client: count what it really calls.
        client = self.handler.kinesis_client(self.region)
        client.meta.events.register("before-call.kinesis", self._count_call)

    def _count_call(self, model: Any, **_: Any) -> None:
        if self._counting:
            self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def event(self, step: Step, url: str, request_id: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "RequestType": step.request_type,
            "ServiceToken": step.properties["ServiceToken"],
            "ResponseURL": url,
            "StackId": self.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": self.logical_id,
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
        url = self.receiver.url_for(self.logical_id, stack_id=self.stack_id, request_id=request_id)
        event = self.event(step, url, request_id)
        context = FakeLambdaContext(
            deadline_epoch_ms=int((time.time() + self.function_timeout) * 1000),
            function_name=FUNCTION_NAME,
            invoked_function_arn=self.function_arn,
            log_group_name=f"/aws/lambda/{FUNCTION_NAME}",
        )
        if step.encrypted_before_with is not None:
            encrypt_as_another_team(self.kinesis, self.stream_name, step.encrypted_before_with)
        if step.request_type == "Create":
            self.physical_id = None  # a new resource: CloudFormation sends no physical id
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
        puts = self.receiver.requests_for(url)
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
            content_types = put.header_values("Content-Type")
            if content_types != [""]:
                problems.append(f"Content-Type {content_types}, expected one empty header")
            if len(put.body) > MAX_BODY_BYTES:
                problems.append(f"body is {len(put.body)} bytes, over CloudFormation's 4096")
            exact = "exactly the ResponseURL" if put.target == expected_target else "ANOTHER URL"
            content_type = repr(content_types[0]) if content_types else "none"
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
        ownership: dict[str, str] = {}
        try:
            ownership = read_ownership(self.kinesis, self.stream_name)
        except Exception as error:
            problems.append(f"could not read the stream's tags ({type(error).__name__})")
        expected_prior = step.expect_prior_key
        if expected_prior == NO_TAGS and ownership:
            problems.append(f"ownership tags left on the stream: {ownership}")
        elif expected_prior and ownership.get("prior-key") != expected_prior:
            problems.append(
                f"prior-key tag is {ownership.get('prior-key')!r}, expected {expected_prior!r}"
            )
        for operation, count in step.expect_calls.items():
            if calls.get(operation, 0) != count:
                problems.append(f"{operation} called {calls.get(operation, 0)}x, expected {count}x")
        if body.get("Status") == "SUCCESS" and body.get("PhysicalResourceId"):
            self.physical_id = str(body["PhysicalResourceId"])
        return StepResult(step, seconds, puts, body, encryption, calls, problems, wire, ownership)


def another_service_timeout(current: str) -> str:
    """A different ServiceTimeout, as after raising ``service_timeout`` in the construct."""
    return "1800" if current == "900" else "900"


def lifecycle(properties: Mapping[str, str]) -> list[Step]:
    """The four events' properties, as CloudFormation sends them (strings, ServiceToken too):
    the template's, first without its KeyId (Kinesis' default key), then as synthesized."""
    if "KeyId" not in properties:
        raise DemoSetupError("the template's resource has no KeyId: nothing to update to")
    key = properties["KeyId"]
    keyed = dict(properties)
    created = {name: value for name, value in properties.items() if name != "KeyId"}
    current_timeout = keyed.get("ServiceTimeout", "3600")
    longer = {**keyed, "ServiceTimeout": another_service_timeout(current_timeout)}
    start, stop = "StartStreamEncryption", "StopStreamEncryption"
    return [
        Step(
            f"Create  template properties minus KeyId: default key {AWS_MANAGED_KEY}",
            "Create",
            created,
            None,
            ("KMS", AWS_MANAGED_KEY),
            {start: 1, stop: 0},
        ),
        Step(
            "Update  to the template's properties: KeyId is the stack's customer key",
            "Update",
            keyed,
            created,
            ("KMS", key),
            {start: 1, stop: 0},
            expect_prior_key="NONE",
        ),
        Step(
            f"Update  ServiceTimeout {current_timeout} -> {longer['ServiceTimeout']} only "
            "(no-op for the stream)",
            "Update",
            longer,
            keyed,
            ("KMS", key),
            {start: 0, stop: 0},
        ),
        Step(
            "Delete  prior-key NONE: encryption stops, the tags go",
            "Delete",
            longer,
            None,
            ("NONE", None),
            {start: 0, stop: 1},
            expect_prior_key=NO_TAGS,
        ),
        Step(
            f"Create  on a stream another team had encrypted with {AWS_MANAGED_KEY}",
            "Create",
            keyed,
            None,
            ("KMS", key),
            {start: 1, stop: 0},
            expect_prior_key=AWS_MANAGED_KEY,
            encrypted_before_with=AWS_MANAGED_KEY,
        ),
        Step(
            f"Delete  gives back the key the stream had before: {AWS_MANAGED_KEY}",
            "Delete",
            keyed,
            None,
            ("KMS", AWS_MANAGED_KEY),
            {start: 1, stop: 0},
            expect_prior_key=NO_TAGS,
        ),
    ]
