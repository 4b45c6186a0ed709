"""One invocation, top to bottom: parse the event, run the use case, respond or hand over.

``process`` is what the Lambda handler calls; every collaborator (clock, AWS clients, the HTTP
opener) is injectable, so tests drive the real flow without patching.
"""

from __future__ import annotations

import logging
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..cfn.events import (
    BadEvent,
    ParsedEvent,
    ResponseTarget,
    event_for_next_invocation,
    parse_event,
)
from ..cfn.physical_ids import physical_id_for, physical_id_without_outcome
from ..cfn.response import Opener, SendResult, compose_response, default_opener, send_response
from ..cfn.text import redact
from ..clock import Clock, SystemClock
from ..dal.kinesis import KinesisAdapter, KinesisClient
from ..dal.lambda_invoke import HandOverFailed, LambdaClient, invoke_async
from ..dal.streams import OpenStreamEncryption
from ..logic.reconcile import Runtime, apply_encryption, remove_encryption
from ..models.outcome import Handover, Outcome
from ..models.progress import Progress
from ..time_budget import Deadline, TimeBudget
from .check import classify_event, process_check
from .function_info import FunctionInfo
from .observability import MetricsSink, response_url_hidden, set_request_keys

_METRIC_BY_KIND = {
    "started": "EncryptionStarted",
    "stopped": "EncryptionStopped",
    "unchanged": "EncryptionUnchanged",
    "failed": "RequestFailed",
}


@dataclass
class Dependencies:
    """Everything ``process`` talks to; production defaults, replaced in tests."""

    logger: logging.Logger | Any
    metrics: MetricsSink
    kinesis_client: Callable[[str], KinesisClient]
    lambda_client: Callable[[str], LambdaClient]
    clock: Clock = field(default_factory=SystemClock)
    opener: Opener = default_opener
    rng: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True)
class _Invocation:
    """What every step of one invocation shares."""

    raw_event: object
    parsed: ParsedEvent
    target: ResponseTarget
    info: FunctionInfo
    budget: TimeBudget
    deps: Dependencies


def process(raw_event: object, context: object, deps: Dependencies) -> SendResult | None:
    """Handle one event. Never raises; returns how the response went (None: none was sent)."""
    kind = classify_event(raw_event)
    if kind != "cloudformation":
        _process_other(kind, raw_event, context, deps)
        return None
    parsed = parse_event(raw_event)
    with response_url_hidden(deps.logger, parsed.target.url if parsed.target else ""):
        set_request_keys(deps.logger, parsed)
        if parsed.target is None:
            deps.logger.error(
                "The event has no usable response URL; CloudFormation cannot be answered."
            )
            deps.metrics.add_metric(name="RequestFailed", unit="Count", value=1)
            return None
        info = FunctionInfo.from_context(context)
        budget = TimeBudget(deps.clock, info.remaining_seconds)
        run = _Invocation(raw_event, parsed, parsed.target, info, budget, deps)
        try:
            answer = _run_request(run)
        except Exception as error:  # a bug must still answer CloudFormation, never hang the stack
            answer = _internal_error(run, error)
        if answer is None:
            return None
        outcome, physical_id = answer
        return _respond(run, outcome, physical_id)


def _process_other(kind: str, raw_event: object, context: object, deps: Dependencies) -> None:
    """A drift check runs; anything else is refused, with no AWS call and no echo of the event."""
    if kind == "check" and isinstance(raw_event, dict):
        try:
            process_check(raw_event, context, deps)
        except Exception as error:  # a bug must not make Lambda retry a whole check
            deps.logger.error("The drift check failed", extra={"error": type(error).__name__})
        return
    deps.logger.error(
        "Refused an event that is neither a CloudFormation request nor a drift check",
        extra={"event_type": type(raw_event).__name__},
    )


def _run_request(run: _Invocation) -> tuple[Outcome, str] | None:
    """The outcome and the physical id to answer with; None when a hand-over will answer."""
    request = run.parsed.request
    if isinstance(request, BadEvent):
        return _bad_event(run, request)
    deps = run.deps
    runtime = Runtime(run.info.place, run.budget, _kinesis_opener(deps), log=deps.logger)
    progress = request.carried_progress or Progress(first_received_at=deps.clock.wall())
    if request.carried_progress is not None:
        deps.logger.info("Continuing a handed-over wait", extra={"hop": progress.hop})
    if request.request_type == "Delete":
        stream_id = request.physical_resource_id or ""
        result = remove_encryption(stream_id, request.properties, progress, runtime)
    else:
        result = apply_encryption(request.properties, progress, runtime)
    if isinstance(result, Handover):
        if _handed_over(run, result.progress):
            return None
        result = result.fallback
    return result, physical_id_for(request, result)


def _kinesis_opener(deps: Dependencies) -> OpenStreamEncryption:
    """The use cases get the interface; this is where Kinesis is chosen as its implementation."""

    def open_streams(
        region: str, deadline: Deadline, *, access_denied_grace_until: float
    ) -> KinesisAdapter:
        return KinesisAdapter(
            deps.kinesis_client(region),
            deps.clock,
            deadline,
            rng=deps.rng,
            access_denied_grace_until=access_denied_grace_until,
        )

    return open_streams


def _bad_event(run: _Invocation, request: BadEvent) -> tuple[Outcome, str]:
    physical_id = physical_id_without_outcome(run.parsed)
    if request.request_type == "Delete":
        note = f"Nothing was changed: {request.reason}"
        run.deps.logger.warning(note)
        return Outcome(True, note, "unchanged", warning=note), physical_id
    return Outcome(False, request.reason, "failed"), physical_id


def _internal_error(run: _Invocation, error: Exception) -> tuple[Outcome, str]:
    trace = redact("".join(traceback.format_exception(error)), run.target.url)
    run.deps.logger.error(
        "Unexpected error while handling the request",
        extra={"error": type(error).__name__, "traceback": trace},
    )
    reason = f"Internal error ({type(error).__name__}) in the custom resource."
    return Outcome(False, reason, "failed"), physical_id_without_outcome(run.parsed)


def _handed_over(run: _Invocation, progress: Progress) -> bool:
    """Invoke this function again, asynchronously, with the event and the progress to resume."""
    assert isinstance(run.raw_event, dict)  # it parsed as a CfnRequest
    event = event_for_next_invocation(run.raw_event, progress)
    try:
        client = run.deps.lambda_client(run.info.place.region)
        invoke_async(client, run.info.arn, event)
    except Exception as error:  # any failure here falls back to answering FAILED now
        cause = error.cause if isinstance(error, HandOverFailed) else type(error).__name__
        run.deps.logger.error(
            "Could not hand the wait over to a fresh invocation", extra={"error": cause}
        )
        return False
    run.deps.logger.info(
        "Handed the wait over to a fresh invocation; it will respond",
        extra={"hop": progress.hop},
    )
    run.deps.metrics.add_metric(name="HandedOver", unit="Count", value=1)
    return True


def _respond(run: _Invocation, outcome: Outcome, physical_id: str) -> SendResult:
    deps = run.deps
    response = compose_response(
        run.target,
        status="SUCCESS" if outcome.succeeded else "FAILED",
        reason=outcome.reason,
        physical_resource_id=physical_id,
        data=outcome.data,
        log_hint=run.info.log_hint,
    )
    if outcome.warning:
        deps.logger.warning(outcome.warning)
    deps.metrics.add_metric(name=_METRIC_BY_KIND[outcome.kind], unit="Count", value=1)
    deps.metrics.add_metric(name="WaitTime", unit="Seconds", value=round(outcome.seconds, 3))
    deps.logger.info(
        "Responding to CloudFormation",
        extra={
            "Status": response.status,
            "Reason": response.reason,
            "ResponsePhysicalResourceId": response.physical_resource_id,
        },
    )
    result = send_response(
        run.target,
        response.encoded,
        clock=deps.clock,
        time_left=run.budget.response_window(),
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
