"""One request from validated input to an outcome: the reconcile loop.

Reads the stream, asks ``decisions`` for the next step, performs it through the stream-encryption
interface (``dal.streams``), and repeats until done, failed, or out of time (then the wait is
handed to a fresh invocation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..dal.streams import DeadlineReached, KinesisError, OpenStreamEncryption, StreamEncryption
from ..decisions import (
    Done,
    Fail,
    Start,
    Stop,
    Wait,
    decide_decrypt,
    decide_encrypt,
    may_show_an_earlier_start,
)
from ..identifiers import StreamRef, parse_stream_arn
from ..models.outcome import Handover, Outcome, OutcomeKind
from ..models.place import FunctionPlace
from ..models.progress import Progress
from ..models.stream import StreamState
from ..properties import EncryptionProperties, PropertiesError, parse_properties, resolve_target
from ..time_budget import TimeBudget

# A runaway chain of hand-overs must end even if the clocks disagree.
MAX_HOPS = 48


class Log(Protocol):
    """The logger calls the loop makes (a Powertools or standard logger satisfies it)."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Runtime:
    """What the use cases may use; all injectable for tests."""

    place: FunctionPlace
    budget: TimeBudget
    open_streams: OpenStreamEncryption
    log: Log


# -- Create / Update ---------------------------------------------------------------------------


def apply_encryption(
    properties: object, progress: Progress, runtime: Runtime
) -> Outcome | Handover:
    """Make the stream the properties name KMS-encrypted with their key (Create and Update)."""
    return _timed(_apply_encryption(properties, progress, runtime), progress, runtime)


def _apply_encryption(
    properties: object, progress: Progress, runtime: Runtime
) -> Outcome | Handover:
    try:
        props = parse_properties(properties)
        resolved = resolve_target(
            props, runtime.place.partition, runtime.place.region, runtime.place.account
        )
    except PropertiesError as error:
        return _failed(str(error), progress, None)

    def failed(reason: str, state: StreamState | None = None) -> Outcome:
        outcome = _failed(reason, progress, resolved.arn.arn)
        stream = parse_stream_arn(state.arn) if state else None
        if state is None or not may_show_an_earlier_start(
            props.key_id, stream or resolved.arn, state
        ):
            return outcome
        return replace(outcome, earlier_attempt_may_have_changed=True)

    def next_step(state: StreamState | None) -> Wait | Start | Outcome:
        if state is None:
            return failed(_not_found(resolved, after_start=progress.change_accepted))
        stream = parse_stream_arn(state.arn) or resolved.arn
        step = decide_encrypt(props.key_id, stream, state, start_accepted=progress.change_accepted)
        _note_step(runtime, state, step)
        if isinstance(step, Done):
            return _encrypted(state, progress)
        if isinstance(step, Fail):
            return failed(step.reason, state)
        return step

    return _reconcile(runtime, resolved, props, progress, next_step=next_step, failed=failed)


def _encrypted(state: StreamState, progress: Progress) -> Outcome:
    key = state.key_id or ""
    kind: OutcomeKind = "started" if progress.change_accepted else "unchanged"
    if progress.change_accepted:
        reason = f"Encryption of {state.arn} is now KMS with key {key}."
    else:
        reason = f"{state.arn} was already encrypted with key {key}; nothing changed."
    data = {
        "StreamARN": state.arn,
        "StreamName": state.name,
        "KeyId": key,
        "EncryptionType": state.encryption_type,
    }
    return Outcome(True, reason, kind, state.arn, progress.change_requested, data)


def _failed(reason: str, progress: Progress, stream_arn: str | None) -> Outcome:
    return Outcome(False, reason, "failed", stream_arn, progress.change_requested)


# -- Delete ------------------------------------------------------------------------------------


def remove_encryption(
    stream_id: str, properties: object, progress: Progress, runtime: Runtime
) -> Outcome | Handover:
    """Undo this resource's encryption of the stream ``stream_id`` names (Delete).

    Acts only on that stream, never on one the properties alone name; anything it cannot read
    means success without touching the stream (a failed Delete blocks the whole stack).
    """
    return _timed(_remove_encryption(stream_id, properties, progress, runtime), progress, runtime)


def _remove_encryption(
    stream_id: str, properties: object, progress: Progress, runtime: Runtime
) -> Outcome | Handover:

    def succeeded(
        reason: str, warning: str | None = None, kind: OutcomeKind = "unchanged"
    ) -> Outcome:
        return Outcome(True, reason, kind, stream_id, progress.change_requested, warning=warning)

    def failed(reason: str, state: StreamState | None = None) -> Outcome:
        return _failed(reason, progress, stream_id)

    stream = parse_stream_arn(stream_id)
    if stream is None:
        return succeeded("Nothing to undo: the physical id is not a stream ARN.")
    try:
        props = parse_properties(properties)
    except PropertiesError as error:
        note = f"Encryption of {stream.arn} left as it is: the properties cannot be read ({error})"
        return succeeded(note, warning=note)

    def next_step(state: StreamState | None) -> Wait | Stop | Outcome:
        if state is None:
            return succeeded(f"Stream {stream.arn} no longer exists; nothing to undo.")
        step = decide_decrypt(props.key_id, stream, state, stop_accepted=progress.change_accepted)
        _note_step(runtime, state, step)
        if not isinstance(step, Done):
            return step
        kind: OutcomeKind = "stopped" if progress.change_accepted else "unchanged"
        reason = step.warning or (
            f"Encryption of {stream.arn} stopped."
            if kind == "stopped"
            else f"{stream.arn} is not encrypted by this resource; nothing to undo."
        )
        return succeeded(reason, step.warning, kind)

    return _reconcile(
        runtime, StreamRef(stream), props, progress, next_step=next_step, failed=failed
    )


# -- shared steps ------------------------------------------------------------------------------


def _reconcile(
    runtime: Runtime,
    target: StreamRef,
    props: EncryptionProperties,
    progress: Progress,
    *,
    next_step: Callable[[StreamState | None], Wait | Start | Stop | Outcome],
    failed: Callable[[str, StreamState | None], Outcome],
) -> Outcome | Handover:
    """Read the stream, then carry out each step decided until one is an outcome, a Kinesis
    error a person must fix, or the end of this invocation's time.

    A request that reached the function after CloudFormation stopped listening makes no call.
    """
    if runtime.budget.cloudformation_stopped_listening(progress, props.service_timeout):
        return failed(_arrived_too_late(runtime, progress, props.service_timeout), None)
    streams = _open_streams(runtime, target, props, progress)
    seen: StreamState | None = None
    try:
        state = seen = streams.describe(target)
        while True:
            step = next_step(state)
            if isinstance(step, Outcome):
                return step
            if isinstance(step, Wait):
                state = _wait(runtime, streams, target, progress)
            else:
                state = _request_change(runtime, streams, target, progress, step)
            seen = state or seen
    except KinesisError as error:
        return failed(error.reason, seen)
    except DeadlineReached as reached:
        return _out_of_time(runtime, progress, props, reached.last_state or seen, failed)


def _arrived_too_late(runtime: Runtime, progress: Progress, service_timeout: int) -> str:
    since = runtime.budget.since_sent(progress)
    runtime.log.warning(
        "The request arrived too late for CloudFormation to take an answer; nothing is changed",
        extra={"SecondsSinceSent": round(since), "ServiceTimeout": service_timeout},
    )
    when = (
        "after CloudFormation stopped waiting"
        if since >= service_timeout
        else "too close to the moment CloudFormation stops waiting to act safely"
    )
    return (
        f"Nothing was changed: this request reached the function {since:.0f} s after "
        f"CloudFormation sent it, {when} (ServiceTimeout {service_timeout} s). A late retry, a "
        "delivery queued behind a concurrency limit, or a duplicate delivery arrives this way."
    )


def _timed(result: Outcome | Handover, progress: Progress, runtime: Runtime) -> Outcome | Handover:
    """An outcome records how long the request took, across hand-overs."""
    if isinstance(result, Outcome):
        return replace(result, seconds=runtime.budget.elapsed(progress))
    return result


def _open_streams(
    runtime: Runtime, target: StreamRef, props: EncryptionProperties, progress: Progress
) -> StreamEncryption:
    """The stream's region, bounded by this request's deadline and IAM's propagation grace."""
    budget = runtime.budget
    return runtime.open_streams(
        target.arn.region,
        budget.deadline(progress, props.service_timeout),
        access_denied_grace_until=budget.access_denied_grace_until(progress),
    )


def _note_step(
    runtime: Runtime, state: StreamState, step: Wait | Done | Start | Stop | Fail
) -> None:
    runtime.log.info(
        f"Stream is {state.status}, encryption {state.encryption_type}: "
        f"{type(step).__name__.lower()}",
        extra={
            "StreamStatus": state.status,
            "EncryptionType": state.encryption_type,
            "CurrentKeyId": state.key_id,
        },
    )


def _request_change(
    runtime: Runtime,
    adapter: StreamEncryption,
    target: StreamRef,
    progress: Progress,
    step: Start | Stop,
) -> StreamState | None:
    """Request a start/stop once; on ResourceInUse wait, and let the caller decide again."""
    before = progress.change_requested
    progress.change_requested = True  # a call that times out may still have been applied
    try:
        if isinstance(step, Start):
            result = adapter.start(target, step.key_id)
        else:
            result = adapter.stop(target, step.key_id)
    except KinesisError as error:
        progress.change_requested = before
        if isinstance(step, Stop) and error.code == "ResourceNotFoundException":
            return None  # deleted between the read and the stop: nothing to undo
        raise
    runtime.log.info(f"{step.operation} {result}", extra={"KeyId": step.key_id, "result": result})
    if result == "accepted":
        progress.change_accepted = True
    else:  # refused while busy, or fate unknown: read the stream again before deciding
        if result == "in-use":
            progress.change_requested = before
        adapter.pause_after_refusal()
    return _wait(runtime, adapter, target, progress)


def _wait(
    runtime: Runtime, streams: StreamEncryption, target: StreamRef, progress: Progress
) -> StreamState | None:
    """Wait for the stream to settle. ``progress`` remembers when the wait began, so that a wait
    handed over to a fresh invocation keeps its polling cadence (the gap grows with its age)."""
    now = runtime.budget.clock.wall()
    if progress.wait_began_at is None:
        progress.wait_began_at = now
    state = streams.wait_until_settled(target, waited=now - progress.wait_began_at)
    progress.wait_began_at = None
    return state


def _not_found(target: StreamRef, *, after_start: bool) -> str:
    stream = target.arn
    where = f"in account {stream.account}, region {stream.region}"
    if after_start:
        return f"Stream {stream.name} {where} was deleted while encryption was being applied."
    return (
        f"Stream {stream.name} was not found {where}. Check the name or ARN, and that the "
        "stream exists in that account and region."
    )


def _out_of_time(
    runtime: Runtime,
    progress: Progress,
    props: EncryptionProperties,
    last_state: StreamState | None,
    failed: Callable[[str, StreamState | None], Outcome],
) -> Outcome | Handover:
    budget = runtime.budget
    status = last_state.status if last_state else "not yet read"
    what = f"stream {last_state.arn}" if last_state else "the stream"
    base = (
        f"Timed out: {what} is still {status} after {budget.elapsed(progress):.0f} s "
        f"(ServiceTimeout {props.service_timeout} s)."
    )
    if not budget.worth_handing_over(progress, props.service_timeout) or progress.hop >= MAX_HOPS:
        return failed(
            base + " Raise ServiceTimeout (up to 3600 s) if updates of this stream take longer.",
            last_state,
        )
    fallback = failed(
        base + " Handing the wait over to a fresh invocation failed; retry later.", last_state
    )
    return Handover(progress.next_hop(), fallback)
