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
from ..identifiers import StreamArn, StreamRef, parse_stream_arn
from ..models.outcome import Handover, Outcome, OutcomeKind
from ..models.ownership import PRIOR_NONE, Owner
from ..models.place import FunctionPlace
from ..models.progress import Progress
from ..models.stream import StreamState
from ..ownership_decisions import GiveBack, LeaveAlone, decide_give_back
from ..properties import EncryptionProperties, PropertiesError, parse_properties, resolve_target
from ..time_budget import TimeBudget
from .ownership import (
    Claimant,
    OwnershipAccess,
    Release,
    Session,
    claim,
    forget,
    open_session,
    put_back,
    read_release,
)

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
    # The stream's tags and CloudFormation, for ownership; None: ownership is not recorded.
    ownership: OwnershipAccess | None = None


# -- Create / Update ---------------------------------------------------------------------------


def apply_encryption(
    properties: object, progress: Progress, runtime: Runtime, claimant: Claimant | None = None
) -> Outcome | Handover:
    """Make the stream the properties name KMS-encrypted with their key (Create and Update).

    With a ``claimant`` (and ``runtime.ownership``), the stream's ownership is settled first.
    """
    return _timed(_apply_encryption(properties, progress, runtime, claimant), progress, runtime)


def _apply_encryption(
    properties: object, progress: Progress, runtime: Runtime, claimant: Claimant | None
) -> Outcome | Handover:
    try:
        props = parse_properties(properties)
        resolved = resolve_target(
            props, runtime.place.partition, runtime.place.region, runtime.place.account
        )
    except PropertiesError as error:
        return _failed(str(error), progress, None)
    session = (
        _ownership_session(runtime, resolved.arn.region, props, progress) if claimant else None
    )

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
        if session is not None and claimant is not None and isinstance(step, Start | Done):
            # Before any StartStreamEncryption (and when already encrypted: that is the prior key).
            refusal = claim(
                session,
                claimant,
                stream=stream,
                state=state,
                wanted_key=props.key_id,
                progress=progress,
                my_account=runtime.place.account,
            )
            if refusal is not None:
                return failed(refusal)
        if isinstance(step, Done):
            return _encrypted(state, progress)
        if isinstance(step, Fail):
            return failed(step.reason, state)
        return step

    result = _reconcile(runtime, resolved, props, progress, next_step=next_step, failed=failed)
    if (
        session is not None
        and isinstance(result, Outcome)
        and not result.succeeded
        and not result.earlier_attempt_may_have_changed  # rollback's Delete needs the tags
    ):
        put_back(session, resolved.arn, progress)
    return result


def _encrypted(state: StreamState, progress: Progress) -> Outcome:
    key = state.key_id or ""
    kind: OutcomeKind = "started" if progress.change_accepted else "unchanged"
    if progress.change_accepted:
        reason = f"Encryption of {state.arn} is now KMS with key {key}."
    else:
        reason = f"{state.arn} was already encrypted with key {key}; nothing changed."
    if progress.ownership_note:
        reason = f"{reason} {progress.ownership_note}"
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
    stream_id: str,
    properties: object,
    progress: Progress,
    runtime: Runtime,
    owner: Owner | None = None,
) -> Outcome | Handover:
    """Undo this resource's encryption of the stream ``stream_id`` names (Delete).

    Acts only on that stream, never on one the properties alone name; anything it cannot read
    means success without touching the stream (a failed Delete blocks the whole stack). With an
    ``owner`` (and ``runtime.ownership``), gives back what the ownership tags say was there before.
    """
    return _timed(
        _remove_encryption(stream_id, properties, progress, runtime, owner), progress, runtime
    )


def _remove_encryption(
    stream_id: str, properties: object, progress: Progress, runtime: Runtime, owner: Owner | None
) -> Outcome | Handover:

    def succeeded(
        reason: str, warning: str | None = None, kind: OutcomeKind = "unchanged"
    ) -> Outcome:
        return Outcome(True, reason, kind, stream_id, progress.change_requested, warning=warning)

    releases: list[Release] = []  # whose stream it is, read once the stream is settled
    restoring: list[str] = []  # the prior key being given back, once a Start is decided
    given_back: list[bool] = []  # set when the outcome means: now remove this resource's tags

    def failed(reason: str, state: StreamState | None = None) -> Outcome:
        if restoring and stream is not None:  # giving back is best effort: encryption stays on
            note = (
                f"The prior key {restoring[0]} of {stream.arn} could not be given back "
                f"({reason}); its current encryption is left on."
            )
            given_back[:] = [True]
            return succeeded(note, warning=note)
        return _failed(reason, progress, stream_id)

    stream = parse_stream_arn(stream_id)
    if stream is None:
        return succeeded("Nothing to undo: the physical id is not a stream ARN.")
    try:
        props = parse_properties(properties)
    except PropertiesError as error:
        note = f"Encryption of {stream.arn} left as it is: the properties cannot be read ({error})"
        return succeeded(note, warning=note)
    session = _ownership_session(runtime, stream.region, props, progress) if owner else None

    def next_step(state: StreamState | None) -> Wait | Start | Stop | Outcome:
        if state is None:
            return succeeded(f"Stream {stream.arn} no longer exists; nothing to undo.")
        settled = state.status != "DELETING" and not state.settling
        if session is not None and owner is not None and not releases and settled:
            releases.append(read_release(session, owner, stream))
        release = releases[0].step if releases else None
        if isinstance(release, LeaveAlone):
            return succeeded(release.warning, release.warning)
        if isinstance(release, GiveBack):
            return _give_back(release.prior_key, state)
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
        given_back[:] = [True]
        return succeeded(reason, step.warning, kind)

    def _give_back(prior_key: str, state: StreamState) -> Wait | Start | Stop | Outcome:
        step = decide_give_back(prior_key, stream, state, change_accepted=progress.change_accepted)
        _note_step(runtime, state, step)
        if isinstance(step, Start):
            restoring[:] = [step.key_id]
        if not isinstance(step, Done):
            return step
        given_back[:] = [True]
        if step.warning:
            return succeeded(step.warning, step.warning)
        kind, reason = _given_back(stream, prior_key, changed=progress.change_accepted)
        return succeeded(reason, kind=kind)

    result = _reconcile(
        runtime, StreamRef(stream), props, progress, next_step=next_step, failed=failed
    )
    if isinstance(result, Outcome) and given_back and session is not None and releases:
        # Last, once the stream is given back (never while a hand-over continues the wait).
        trouble = forget(session, stream, releases[0])
        if trouble:
            return replace(result, reason=f"{result.reason} {trouble}")
    return result


def _given_back(stream: StreamArn, prior_key: str, *, changed: bool) -> tuple[OutcomeKind, str]:
    """How a Delete that gave the stream back (or had nothing to give back) is reported."""
    if not changed:
        if prior_key == PRIOR_NONE:
            return "unchanged", f"{stream.arn} is not encrypted; nothing to undo."
        return "unchanged", (
            f"{stream.arn} was already encrypted with key {prior_key} before this resource came; "
            "its encryption is left as it is."
        )
    if prior_key == PRIOR_NONE:
        return "stopped", f"Encryption of {stream.arn} stopped, as it was before."
    return "started", f"Encryption of {stream.arn} given back: KMS with its prior key {prior_key}."


def _ownership_session(
    runtime: Runtime, region: str, props: EncryptionProperties, progress: Progress
) -> Session | None:
    """The ownership steps' view of this request, when ownership is wired in."""
    if runtime.ownership is None:
        return None
    return open_session(
        runtime.ownership,
        region,
        runtime.budget.deadline(progress, props.service_timeout),
        runtime.log,
        access_denied_grace_until=runtime.budget.access_denied_grace_until(progress),
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
