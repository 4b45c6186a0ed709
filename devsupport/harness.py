"""Drive ``stream_encryption.app.process`` the way CloudFormation and Lambda do, in virtual time.

Each invocation gets a fresh context whose remaining time follows the virtual clock; responses are
captured by a fake opener; an asynchronous self-invoke (the hand-over) is captured and can be run
as the next invocation, as Lambda would.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import random
import time
import urllib.error
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from devsupport import leak_guard
from devsupport.cloudformation_fake import CloudFormationFake
from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.cfn.events import HANDOVER_KEY
from stream_encryption.handlers.invocation import Dependencies, process

ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:kinesis-stream-encryption"
STACK_ID = (
    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/orders/6c1d2c10-0000-11ef-9d5a-0a1b2c3d4e5f"
)
SIGNATURE = "f00dfacecafe5ec12e7"
RESPONSE_URL = (
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
    "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/orders/6c1d%7CEnc%7Creq"
    f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature={SIGNATURE}"
)


def presigned_url(signed_at: float, *, sigv2: bool = False, lifetime: int = 7200) -> str:
    """A ResponseURL as CloudFormation signs it at ``signed_at`` (epoch seconds): SigV4 with
    ``X-Amz-Date``, or SigV2 with ``Expires`` (signing time plus ``lifetime``). Watched by the
    leak guard like ``RESPONSE_URL``."""
    base = RESPONSE_URL.partition("?")[0]
    if sigv2:
        query = (
            f"AWSAccessKeyId=AKIAEXAMPLE&Expires={int(signed_at) + lifetime}"
            f"&Signature={SIGNATURE}v2%2Bsig%3D"
        )
    else:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
        query = (
            f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-Expires={lifetime}"
            f"&X-Amz-SignedHeaders=host&X-Amz-Signature={SIGNATURE}"
        )
    url = f"{base}?{query}"
    leak_guard.watch_secret(url)
    return url


def make_event(
    request_type: str = "Create",
    physical_id: str | None = None,
    *,
    response_url: str = RESPONSE_URL,
    **properties: str,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": FUNCTION_ARN,
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "StreamEncryption",
        "ResourceType": "Custom::KinesisStreamEncryption",
        "ResourceProperties": {"ServiceToken": FUNCTION_ARN, **properties},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


class FakeContext:
    """A Lambda context whose remaining time runs on the virtual clock."""

    def __init__(self, clock: VirtualClock, timeout: float) -> None:
        self._clock = clock
        self._ends = clock.now() + timeout
        self.invoked_function_arn = FUNCTION_ARN
        self.function_name = "kinesis-stream-encryption"
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 256
        self.log_group_name = "/aws/lambda/kinesis-stream-encryption"
        self.log_stream_name = "2026/11/26/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._ends - self._clock.now()) * 1000))


class _Reply:
    def __init__(self, status: int) -> None:
        self.status = status

    def __enter__(self) -> _Reply:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class Puts:
    """The ResponseURL's side: records every PUT and answers from a script (default 200)."""

    script: list[int | BaseException] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: Any, timeout: float) -> _Reply:
        self.requests.append(
            {
                "url": request.full_url,
                "method": request.get_method(),
                "content_type": request.get_header("Content-type"),
                "body": request.data,
            }
        )
        step = self.script.pop(0) if self.script else 200
        if isinstance(step, BaseException):
            raise step
        if step >= 400:
            raise urllib.error.HTTPError(request.full_url, step, "scripted", {}, io.BytesIO())  # type: ignore[arg-type]
        return _Reply(step)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


@dataclass
class Invokes:
    """The Lambda service's side of the hand-over: records async self-invokes.

    ``script`` holds what the next attempts raise, in order (``None``: that attempt succeeds);
    once it is used up, ``fail_with`` (if set) is raised, else the call answers ``status``.
    ``queued_despite_error`` marks scripted errors raised after the event was queued (a reply
    lost on the way back): the payload is recorded although the caller sees an error.
    """

    fail_with: BaseException | None = None
    status: int = 202
    script: list[BaseException | None] = field(default_factory=list)
    queued_despite_error: bool = False
    attempts: int = 0
    payloads: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.attempts += 1
        assert kwargs["InvocationType"] == "Event"
        assert kwargs["FunctionName"] == FUNCTION_ARN
        step = self.script.pop(0) if self.script else self.fail_with
        if step is not None:
            if self.queued_despite_error:
                self.payloads.append(json.loads(kwargs["Payload"]))
            raise step
        if self.status == 202:
            self.payloads.append(json.loads(kwargs["Payload"]))
        return {"StatusCode": self.status}


class Metrics:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, float]] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.recorded.append((name, str(unit), value))

    def names(self) -> list[str]:
        return [name for name, _, _ in self.recorded]


class Harness:
    """One simulated account: Kinesis simulator, virtual clock, response and invoke capture."""

    def __init__(
        self, *, guard_leaks: bool = True, region: str = REGION, **simulator_options: Any
    ) -> None:
        self.clock = VirtualClock()
        self.kinesis = KinesisSimulator(
            self.clock, account_id=ACCOUNT, region=region, **simulator_options
        )
        self._clients: dict[str, Any] = {}
        self.client: Any = self.kinesis_client(region)
        # The stack every make_event names, with the resource in it (ownership checks ask it).
        self.cloudformation = CloudFormationFake(ACCOUNT)
        self.cloudformation.add_stack("orders", ("StreamEncryption",), stack_id=STACK_ID)
        self.puts = Puts()
        self.invokes = Invokes()
        self.metrics = Metrics()
        self.log_stream = io.StringIO()
        self.logger = Logger(
            service=f"test-{uuid.uuid4().hex[:8]}",
            logger_handler=logging.StreamHandler(self.log_stream),
        )
        self.invocations = 0
        self.rng = random.Random(20261126)
        if guard_leaks:
            self.guard_leaks()
        self.invocation_starts: list[float] = []

    def kinesis_client(self, region: str) -> Any:
        """A boto3 Kinesis client for ``region`` (as the handler makes one per stream region; its
        endpoint rules refuse an ARN of another partition), served by the simulator."""
        if region not in self._clients:
            # Any: the typed boto3 stubs' keyword signatures are narrower than the Protocol.
            client: Any = boto3.client(
                "kinesis", region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
            )
            self._clients[region] = self.kinesis.attach(client)
        return self._clients[region]

    def guard_leaks(self) -> None:
        """Have the suite-wide leak guard scan everything this harness captured."""
        leak_guard.watch_secret(RESPONSE_URL)
        leak_guard.watch_output("handler logs", lambda: [self.logs])
        leak_guard.watch_output("metrics", lambda: [repr(self.metrics.recorded)])
        leak_guard.watch_output(
            "response Reasons", lambda: [b.get("Reason", "") for b in self.puts.bodies]
        )

    def invoke(self, event: dict[str, Any], timeout: float = 300.0) -> None:
        """One Lambda invocation with a copy of the event (Lambda hands each its own)."""
        self.invocations += 1
        self.invocation_starts.append(self.clock.now())
        deps = Dependencies(
            logger=self.logger,
            metrics=self.metrics,
            kinesis_client=self.kinesis_client,
            lambda_client=lambda region: self.invokes,
            clock=self.clock,
            opener=self.puts,
            rng=self.rng,  # seeded: jitter is reproducible run to run
            cloudformation_client=self.cloudformation.client,
        )
        process(copy.deepcopy(event), FakeContext(self.clock, timeout), deps)

    def run(
        self, event: dict[str, Any], timeout: float = 300.0, max_invocations: int = 60
    ) -> dict[str, Any]:
        """Invoke, then follow hand-overs as Lambda would, until a response was sent."""
        before = len(self.puts.requests)
        pending: list[dict[str, Any]] = [event]
        handed = len(self.invokes.payloads)
        while pending and self.invocations < max_invocations:
            self.invoke(pending.pop(), timeout)
            if len(self.invokes.payloads) > handed:
                pending.append(self.invokes.payloads[handed])
                handed += 1
        assert len(self.puts.requests) == before + 1, "expected exactly one response"
        return self.puts.bodies[-1]

    @property
    def logs(self) -> str:
        return self.log_stream.getvalue()

    def handovers(self) -> list[dict[str, Any]]:
        return [payload[HANDOVER_KEY] for payload in self.invokes.payloads]
