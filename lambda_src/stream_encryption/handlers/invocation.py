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
from typing import Any, cast

from ..cfn.events import (
    BadEvent,
    ParsedEvent,
    ResponseTarget,
    event_for_next_invocation,
    parse_event,
)
from ..cfn.physical_ids import managed_stream_of, physical_id_for, physical_id_without_outcome
from ..cfn.request_time import cloudformation_sent_at
from ..cfn.response import Opener, SendResult, compose_response, default_opener, send_response
from ..cfn.text import redact
from ..clock import Clock, SystemClock
from ..dal.cloudformation import (
    CloudFormationClient,
    CloudFormationResources,
    OwnerCheckFailed,
    StackResources,
)
from ..dal.kinesis import KinesisAdapter, KinesisClient
from ..dal.lambda_invoke import HandOverFailed, HandOverUnknown, LambdaClient, invoke_async
from ..dal.streams import OpenStreamEncryption
from ..dal.tagging import KinesisTagging, TaggingClient
from ..logic.ownership import Claimant, OwnershipAccess
from ..logic.reconcile import Runtime, apply_encryption, remove_encryption
from ..models.outcome import Handover, Outcome
from ..models.ownership import Owner, unqualified_function_arn
from ..models.progress import Progress
from ..time_budget import Deadline, TimeBudget
from .event_kinds import classify_event
from .function_info import FunctionInfo
from .observability import MetricsSink, hide_event_response_url, set_request_keys

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
    # Asks whether a stream's recorded owner still exists; None: it cannot be asked (then a
    # stream another stack's resource claims is refused, saying so).
    cloudformation_client: Callable[[str], CloudFormationClient] | None = None


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
    hide_event_response_url(deps.logger, raw_event)  # before anything else can log
    kind = classify_event(raw_event)
    if kind != "cloudformation":
        _process_other(kind, raw_event, context, deps)
        return None
    parsed = parse_event(raw_event)
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
    bug: Exception | None = None
    try:
        answer = _run_request(run)
    except Exception as error:  # a bug must still answer CloudFormation, never hang the stack
        answer, bug = None, error
    if bug is not None:  # reported outside the except block (see handler.lambda_handler)
        answer = _internal_error(run, bug)
    if answer is None:
        return None
    outcome, physical_id = answer
    return _respond(run, outcome, physical_id)


def _process_other(kind: str, raw_event: object, context: object, deps: Dependencies) -> None:
    """A drift check runs; anything else is refused, with no AWS call and no echo of the event."""
    if kind == "check" and isinstance(raw_event, dict):
        # Imported here: a CloudFormation request's cold start does not pay for the check.
        from .check import process_check  # noqa: PLC0415

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
    runtime = Runtime(
        run.info.place,
        run.budget,
        _kinesis_opener(deps),
        log=deps.logger,
        ownership=_ownership_access(deps),
    )
    owner = Owner(request.stack_id, request.logical_resource_id)
    progress = request.carried_progress or _first_progress(run.target, deps.clock.wall())
    if request.carried_progress is not None:
        deps.logger.info("Continuing a handed-over wait", extra={"hop": progress.hop})
    if request.request_type == "Delete":
        stream_id = request.physical_resource_id or ""
        result = remove_encryption(stream_id, request.properties, progress, runtime, owner)
    else:
        provider = unqualified_function_arn(run.info.arn)
        claimant = Claimant(owner, managed_stream_of(request), provider)
        result = apply_encryption(request.properties, progress, runtime, claimant)
    if isinstance(result, Handover):
        if _handed_over(run, result.progress):
            return None
        result = result.fallback
    return result, physical_id_for(request, result)


def _first_progress(target: ResponseTarget, now: float) -> Progress:
    """A request seen for the first time: CloudFormation's clock runs from when it sent it."""
    return Progress(first_received_at=now, sent_at=cloudformation_sent_at(target.url, now))


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


def _ownership_access(deps: Dependencies) -> OwnershipAccess:
    """The stream's tags (the Kinesis client) and CloudFormation, chosen here."""

    def open_tags(
        region: str, deadline: Deadline, *, access_denied_grace_until: float
    ) -> KinesisTagging:
        return KinesisTagging(
            # The same boto3 Kinesis client also serves the three tag calls.
            cast(TaggingClient, deps.kinesis_client(region)),
            deps.clock,
            deadline,
            rng=deps.rng,
            access_denied_grace_until=access_denied_grace_until,
        )

    def open_stacks(region: str, deadline: Deadline) -> StackResources:
        if deps.cloudformation_client is None:
            return _NoCloudFormation()
        client = deps.cloudformation_client(region)
        return CloudFormationResources(client, deps.clock, deadline, rng=deps.rng)

    return OwnershipAccess(open_tags, open_stacks)


class _NoCloudFormation:
    """No CloudFormation client was provided: the owner cannot be checked."""

    def exists(self, owner: Owner) -> bool:
        raise OwnerCheckFailed(
            f"CloudFormation could not be asked whether {owner.describe()} still exists "
            "(no CloudFormation client)"
        )


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
    """Invoke this function again, asynchronously, with the event and the progress to resume.

    True when a fresh invocation is, or may be, on its way to answer: then this one must not.
    """
    assert isinstance(run.raw_event, dict)  # it parsed as a CfnRequest
    event = event_for_next_invocation(run.raw_event, progress)
    deps = run.deps
    try:
        client = deps.lambda_client(run.info.place.region)
        invoke_async(
            client,
            run.info.arn,
            event,
            sleep=deps.clock.sleep,
            time_left=run.budget.response_window(),
        )
    except HandOverUnknown as unknown:
        # Answering FAILED now could contradict a chain that is alive; retrying could start a
        # second one. Neither: if no chain runs, CloudFormation fails the stack at ServiceTimeout.
        deps.metrics.add_metric(name="HandOverUnknown", unit="Count", value=1)
        deps.logger.error(
            "The hand-over's Invoke got no answer: a fresh invocation may or may not have been "
            "queued. Not answering CloudFormation from here, so that a running chain is not "
            "contradicted; if none runs, the stack fails when its ServiceTimeout ends.",
            extra={"error": unknown.cause, "hop": progress.hop},
        )
        return True
    except Exception as error:  # refused for certain: answer the fallback (FAILED) now
        cause = error.cause if isinstance(error, HandOverFailed) else type(error).__name__
        deps.logger.error(
            "Could not hand the wait over to a fresh invocation", extra={"error": cause}
        )
        return False
    deps.logger.info(
        "Handed the wait over to a fresh invocation; it will respond",
        extra={"hop": progress.hop},
    )
    deps.metrics.add_metric(name="HandedOver", unit="Count", value=1)
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
