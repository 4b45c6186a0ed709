"""Wiring of one invocation: event in, service run, hand-over or response out.

``process`` is what the Lambda handler calls; every collaborator (clock, AWS clients, the HTTP
opener) is injectable, so tests drive the real flow without patching.
"""

from __future__ import annotations

import json
import logging
import os
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .cfn import (
    BadEvent,
    Opener,
    ParsedEvent,
    ResponseTarget,
    SendResult,
    _default_opener,
    build_body,
    failed_create_marker,
    parse_event,
    redact,
    send_response,
)
from .clock import Clock, SystemClock
from .kinesis import KinesisClient
from .service import Environment, Handover, Outcome, handle

DEFAULT_REMAINING_SECONDS = 60.0
_METRIC_BY_KIND = {
    "started": "EncryptionStarted",
    "stopped": "EncryptionStopped",
    "unchanged": "EncryptionUnchanged",
    "failed": "RequestFailed",
}


class MetricsSink(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class LambdaInvoker(Protocol):
    def invoke(self, **kwargs: Any) -> Any: ...


@dataclass
class Dependencies:
    """Everything ``process`` talks to; production defaults, replaced in tests."""

    logger: logging.Logger | Any
    metrics: MetricsSink
    kinesis_client: Callable[[str], KinesisClient]
    lambda_client: Callable[[str], LambdaInvoker]
    clock: Clock = field(default_factory=SystemClock)
    opener: Opener = _default_opener
    rng: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True)
class FunctionInfo:
    """What the Lambda context tells us, read defensively (a context may lack any attribute)."""

    arn: str
    partition: str
    region: str
    account: str
    log_hint: str
    remaining_seconds: Callable[[], float]

    @classmethod
    def from_context(cls, context: object) -> FunctionInfo:
        arn = getattr(context, "invoked_function_arn", "")
        arn = arn if isinstance(arn, str) else ""
        parts = arn.split(":")
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        region = env_region or "us-east-1"
        partition, account = "aws", "unknown"
        if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda":
            partition, region, account = parts[1], parts[3] or region, parts[4] or account
        group = getattr(context, "log_group_name", None)
        stream = getattr(context, "log_stream_name", None)
        if isinstance(group, str) and isinstance(stream, str):
            hint = f"Details: CloudWatch Logs group {group}, stream {stream}."
        else:
            hint = "Details: the function's CloudWatch Logs."
        remaining = getattr(context, "get_remaining_time_in_millis", None)

        def remaining_seconds() -> float:
            if callable(remaining):
                try:
                    return float(remaining()) / 1000.0
                except (TypeError, ValueError):
                    pass
            return DEFAULT_REMAINING_SECONDS

        return cls(arn, partition, region, account, hint, remaining_seconds)


def response_reserve(remaining: float) -> float:
    """Seconds kept back at the end of an invocation to respond or hand over."""
    return min(15.0, max(1.0, 0.2 * remaining))


class RedactingFilter(logging.Filter):
    """Cuts the current ResponseURL (and its signature) out of every log record's values.

    Messages never format the URL on purpose; this catches what a field echoed from the event, or
    an exception message, might still carry.
    """

    def __init__(self) -> None:
        super().__init__()
        self.url = ""

    def filter(self, record: logging.LogRecord) -> bool:
        if self.url:
            for name, value in list(vars(record).items()):
                if isinstance(value, str):
                    setattr(record, name, redact(value, self.url))
            if record.args:
                record.args = tuple(
                    redact(arg, self.url) if isinstance(arg, str) else arg
                    for arg in (record.args if isinstance(record.args, tuple) else (record.args,))
                )
        return True


def _redactor(logger: Any) -> RedactingFilter:
    found = getattr(logger, "_response_url_redactor", None)
    if isinstance(found, RedactingFilter):
        return found
    redactor = RedactingFilter()
    logger.addFilter(redactor)
    logger._response_url_redactor = redactor
    return redactor


def process(raw_event: object, context: object, deps: Dependencies) -> SendResult | None:
    """Handle one event. Never raises; returns how the response went (None: none was sent)."""
    parsed = parse_event(raw_event)
    redactor = _redactor(deps.logger)
    redactor.url = parsed.target.url if parsed.target else ""
    try:
        return _process(raw_event, parsed, context, deps)
    finally:
        redactor.url = ""


def _process(
    raw_event: object, parsed: ParsedEvent, context: object, deps: Dependencies
) -> SendResult | None:
    logger = deps.logger
    info = FunctionInfo.from_context(context)
    _append_log_keys(logger, parsed)
    if parsed.target is None:
        logger.error("The event has no usable response URL; CloudFormation cannot be answered.")
        deps.metrics.add_metric(name="RequestFailed", unit="Count", value=1)
        return None
    try:
        outcome = _decide(raw_event, parsed, info, deps)
    except Exception as error:  # a bug must still answer CloudFormation, never hang the stack
        trace = redact("".join(traceback.format_exception(error)), parsed.target.url)
        logger.error(
            "Unexpected error while handling the request",
            extra={"error": type(error).__name__, "traceback": trace},
        )
        outcome = Outcome(
            "FAILED",
            _fallback_id(parsed),
            f"Internal error ({type(error).__name__}) in the custom resource.",
            "failed",
        )
    if outcome is None:
        return None
    return _respond(parsed.target, outcome, info, deps)


def _decide(
    raw_event: object, parsed: ParsedEvent, info: FunctionInfo, deps: Dependencies
) -> Outcome | None:
    request = parsed.request
    if isinstance(request, BadEvent):
        if request.request_type == "Delete":
            note = f"Nothing was changed: {request.reason}"
            deps.logger.warning(note)
            return Outcome("SUCCESS", _fallback_id(parsed), note, "unchanged", warning=note)
        return Outcome("FAILED", _fallback_id(parsed), request.reason, "failed")
    remaining = info.remaining_seconds()
    env = Environment(
        partition=info.partition,
        region=info.region,
        account=info.account,
        clock=deps.clock,
        kinesis_client=deps.kinesis_client,
        invocation_deadline=deps.clock.now() + remaining - response_reserve(remaining),
        rng=deps.rng,
        note=lambda message, fields: deps.logger.info(message, extra=fields),
    )
    if request.handover is not None:
        deps.logger.info("Continuing a handed-over wait", extra={"hop": request.handover.hop})
    result = handle(request, env)
    if isinstance(result, Outcome):
        return result
    return _hand_over(raw_event, parsed, result, info, deps)


def _hand_over(
    raw_event: object,
    parsed: ParsedEvent,
    handover: Handover,
    info: FunctionInfo,
    deps: Dependencies,
) -> Outcome | None:
    """Invoke this function again, asynchronously, with the event and the carried state."""
    assert isinstance(raw_event, dict)
    payload = json.dumps(parsed.for_resending(raw_event, handover.state)).encode()
    try:
        if not info.arn:
            raise ValueError("the context has no invoked_function_arn")
        reply = deps.lambda_client(info.region).invoke(
            FunctionName=info.arn, InvocationType="Event", Payload=payload
        )
        status = int(reply.get("StatusCode", 0))
        if status != 202:
            raise ValueError(f"Lambda answered {status} to the asynchronous invoke")
    except Exception as error:
        deps.logger.error(
            "Could not hand the wait over to a fresh invocation",
            extra={"error": type(error).__name__},
        )
        return handover.fallback
    deps.logger.info(
        "Handed the wait over to a fresh invocation; it will respond",
        extra={"hop": handover.state.hop},
    )
    deps.metrics.add_metric(name="HandedOver", unit="Count", value=1)
    return None


def _respond(
    target: ResponseTarget, outcome: Outcome, info: FunctionInfo, deps: Dependencies
) -> SendResult:
    body = build_body(
        target,
        status=outcome.status,
        reason=outcome.reason,
        physical_resource_id=outcome.physical_resource_id,
        data=outcome.data,
        log_hint=info.log_hint,
    )
    sent = json.loads(body)
    if outcome.warning:
        deps.logger.warning(outcome.warning)
    deps.metrics.add_metric(name=_METRIC_BY_KIND[outcome.kind], unit="Count", value=1)
    deps.metrics.add_metric(name="WaitTime", unit="Seconds", value=round(outcome.seconds, 3))
    deps.logger.info(
        "Responding to CloudFormation",
        extra={
            "Status": sent["Status"],
            "Reason": sent["Reason"],
            "ResponsePhysicalResourceId": sent["PhysicalResourceId"],
        },
    )
    started = deps.clock.now()
    end = started + max(0.0, info.remaining_seconds() - 0.5)
    result = send_response(
        target,
        body,
        clock=deps.clock,
        time_left=lambda: end - deps.clock.now(),
        opener=deps.opener,
        rng=deps.rng,
    )
    if result.accepted:
        deps.logger.info(
            "CloudFormation accepted the response", extra={"attempts": result.attempts}
        )
    else:
        deps.metrics.add_metric(name="ResponseFailed", unit="Count", value=1)
        deps.logger.error(
            "CloudFormation did not accept the response",
            extra={
                "attempts": result.attempts,
                "status": result.status_code,
                "error": result.error,
            },
        )
    return result


def _fallback_id(parsed: ParsedEvent) -> str:
    request = parsed.request
    physical_id = getattr(request, "physical_resource_id", None)
    if isinstance(physical_id, str) and physical_id:
        return physical_id
    request_id = parsed.target.request_id if parsed.target else ""
    return failed_create_marker(request_id)


def _append_log_keys(logger: Any, parsed: ParsedEvent) -> None:
    """Set this request's keys on every log line; drop the previous invocation's."""
    request, target = parsed.request, parsed.target
    keys = {
        "RequestType": getattr(request, "request_type", None),
        "PhysicalResourceId": getattr(request, "physical_resource_id", None),
        "LogicalResourceId": target.logical_resource_id if target else None,
        "StackId": target.stack_id if target else None,
    }
    if not hasattr(logger, "append_keys"):
        return
    logger.remove_keys(list(keys))
    logger.append_keys(
        **{
            name: redact(value, target.url) if target else value
            for name, value in keys.items()
            if isinstance(value, str)
        }
    )
