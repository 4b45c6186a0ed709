"""One custom-resource request from validated input to an outcome: the reconcile loop.

Reads the stream, asks ``decision`` for the next step, performs it through the Kinesis adapter,
and repeats until done, failed, or out of time (then the wait is handed to a fresh invocation).
No CloudFormation protocol and no raw event here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from .cfn import CfnRequest, HandoverState, Status, failed_create_marker
from .clock import Clock
from .decision import (
    Decision,
    Done,
    Fail,
    Start,
    Stop,
    StreamState,
    Wait,
    decide_decrypt,
    decide_encrypt,
)
from .identifiers import StreamRef, parse_stream_arn
from .kinesis import Deadline, DeadlineReached, KinesisAdapter, KinesisClient, KinesisError
from .properties import EncryptionProperties, PropertiesError, parse_properties, resolve_target

OutcomeKind = Literal["started", "stopped", "unchanged", "failed"]
MAX_HOPS = 48
MIN_USEFUL_HANDOVER_SECONDS = 5.0
# A policy created with the resource can take seconds to be in force (IAM is eventually
# consistent): AccessDenied within this long of the first receipt is retried, not reported.
IAM_GRACE_SECONDS = 15.0


@dataclass(frozen=True)
class Outcome:
    """What to tell CloudFormation, plus what to record about it."""

    status: Status
    physical_resource_id: str
    reason: str
    kind: OutcomeKind
    data: dict[str, str] = field(default_factory=dict)
    warning: str | None = None
    seconds: float = 0.0  # since the request was first received, across hand-overs


@dataclass(frozen=True)
class Handover:
    """Time is up in this invocation but not for the request: continue in a fresh one."""

    state: HandoverState
    fallback: Outcome  # sent when the hand-over cannot be made


@dataclass(frozen=True)
class Environment:
    """Where the function runs and what it may use; all injectable for tests."""

    partition: str
    region: str
    account: str
    clock: Clock
    kinesis_client: Callable[[str], KinesisClient]  # by region
    invocation_deadline: float  # on clock.now()'s axis; leaves room to respond or hand over
    rng: random.Random = field(default_factory=random.Random)
    note: Callable[[str, dict[str, object]], None] = lambda message, fields: None


@dataclass
class Progress:
    """What this request has done so far; carried across hand-overs as a HandoverState."""

    first_received_at: float
    hop: int = 0
    change_accepted: bool = False  # a Start/Stop was accepted: never request it again
    change_requested: bool = False  # a change may have been applied: rollback must undo it

    @classmethod
    def resume(cls, carried: HandoverState | None, now: float) -> Progress:
        if carried is None:
            return cls(first_received_at=now)
        return cls(
            carried.first_received_at,
            carried.hop,
            carried.change_accepted,
            carried.change_requested,
        )

    def next_hop(self) -> HandoverState:
        return HandoverState(
            self.first_received_at, self.hop + 1, self.change_accepted, self.change_requested
        )


def handle(request: CfnRequest, env: Environment) -> Outcome | Handover:
    """Run one Create, Update or Delete to its outcome (or to a hand-over)."""
    progress = Progress.resume(request.handover, env.clock.wall())
    run = _delete if request.request_type == "Delete" else _create_or_update
    result = run(request, env, progress)
    if isinstance(result, Outcome):
        return replace(result, seconds=max(0.0, env.clock.wall() - progress.first_received_at))
    return result


# -- Create / Update ---------------------------------------------------------------------------


def _create_or_update(
    request: CfnRequest, env: Environment, progress: Progress
) -> Outcome | Handover:
    target: StreamRef | None = None

    def failed(reason: str) -> Outcome:
        return Outcome("FAILED", _failure_id(request, progress, target), reason, "failed")

    try:
        props = parse_properties(request.properties)
        target = resolve_target(props, env.partition, env.region, env.account)
    except PropertiesError as error:
        return failed(str(error))
    adapter = _adapter(env, target, props, progress)
    try:
        state = adapter.describe(target)
        while True:
            if state is None:
                return failed(_not_found(target, after_start=progress.change_accepted))
            stream = parse_stream_arn(state.arn) or target.arn
            decision = decide_encrypt(
                props.key_id, stream, state, start_accepted=progress.change_accepted
            )
            _note_decision(env, state, decision)
            if isinstance(decision, Wait):
                state = adapter.wait_until_settled(target)
            elif isinstance(decision, Done):
                return _encrypted(state, progress)
            elif isinstance(decision, Fail):
                return failed(decision.reason)
            elif isinstance(decision, Start):
                state = _change(
                    env, adapter, target, progress, key_id=decision.key_id, verb="start"
                )
            else:  # a Stop is never decided for encryption
                return failed(f"Unexpected decision {decision!r}")
    except KinesisError as error:
        return failed(error.reason)
    except DeadlineReached as reached:
        return _out_of_time(env, progress, props, reached.last_state, failed)


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
    return Outcome("SUCCESS", state.arn, reason, kind, data)


def _failure_id(request: CfnRequest, progress: Progress, target: StreamRef | None) -> str:
    """Failed Update: the id CloudFormation sent. Failed Create: the stream ARN only if a change
    may have been applied (so rollback's Delete undoes it), else a marker that is no stream ARN."""
    if request.request_type == "Update" and request.physical_resource_id:
        return request.physical_resource_id
    if progress.change_requested and target is not None:
        return target.arn.arn
    return failed_create_marker(request.request_id)


# -- Delete ------------------------------------------------------------------------------------


def _delete(request: CfnRequest, env: Environment, progress: Progress) -> Outcome | Handover:
    physical_id = request.physical_resource_id or ""

    def succeeded(
        reason: str, warning: str | None = None, kind: OutcomeKind = "unchanged"
    ) -> Outcome:
        return Outcome("SUCCESS", physical_id, reason, kind, warning=warning)

    def failed(reason: str) -> Outcome:
        return Outcome("FAILED", physical_id, reason, "failed")

    stream = parse_stream_arn(physical_id)
    if stream is None:
        return succeeded("Nothing to undo: the physical id is not a stream ARN.")
    try:
        props = parse_properties(request.properties)
    except PropertiesError as error:
        note = f"Encryption of {stream.arn} left as it is: the properties cannot be read ({error})"
        return succeeded(note, warning=note)
    target = StreamRef(stream)
    adapter = _adapter(env, target, props, progress)
    try:
        state = adapter.describe(target)
        while True:
            if state is None:
                return succeeded(f"Stream {stream.arn} no longer exists; nothing to undo.")
            decision = decide_decrypt(props.key_id, stream, state)
            _note_decision(env, state, decision)
            if isinstance(decision, Stop) and progress.change_accepted:
                decision = Done(
                    warning=f"Encryption of {stream.arn} was turned on again by "
                    "someone else after this resource stopped it; left on."
                )
            if isinstance(decision, Wait):
                state = adapter.wait_until_settled(target)
            elif isinstance(decision, Done):
                kind: OutcomeKind = "stopped" if progress.change_accepted else "unchanged"
                reason = decision.warning or (
                    f"Encryption of {stream.arn} stopped."
                    if kind == "stopped"
                    else f"{stream.arn} is not encrypted by this resource; nothing to undo."
                )
                return succeeded(reason, decision.warning, kind)
            elif isinstance(decision, Stop):
                try:
                    state = _change(
                        env, adapter, target, progress, key_id=decision.key_id, verb="stop"
                    )
                except KinesisError as error:
                    if error.code != "ResourceNotFoundException":
                        raise
                    state = None  # deleted between the read and the stop: nothing to undo
            else:
                return failed(decision.reason if isinstance(decision, Fail) else repr(decision))
    except KinesisError as error:
        return failed(error.reason)
    except DeadlineReached as reached:
        return _out_of_time(env, progress, props, reached.last_state, failed)


# -- shared steps ------------------------------------------------------------------------------


def _adapter(
    env: Environment, target: StreamRef, props: EncryptionProperties, progress: Progress
) -> KinesisAdapter:
    operation_deadline = _operation_deadline(env, props, progress)
    deadline = Deadline(env.clock, min(env.invocation_deadline, operation_deadline))
    since_first = env.clock.wall() - progress.first_received_at
    return KinesisAdapter(
        env.kinesis_client(target.arn.region),
        env.clock,
        deadline,
        rng=env.rng,
        access_denied_grace_until=env.clock.now() + max(0.0, IAM_GRACE_SECONDS - since_first),
    )


def _operation_deadline(env: Environment, props: EncryptionProperties, progress: Progress) -> float:
    """When CloudFormation stops waiting (ServiceTimeout from the first receipt), less a margin
    for its own clock having started a little earlier, on the monotonic axis."""
    budget = props.service_timeout
    margin = min(30.0, max(2.0, 0.05 * budget))
    ends_at_wall = progress.first_received_at + budget - margin
    return env.clock.now() + (ends_at_wall - env.clock.wall())


def _note_decision(env: Environment, state: StreamState, decision: Decision) -> None:
    env.note(
        f"Stream is {state.status}, encryption {state.encryption_type}: "
        f"{type(decision).__name__.lower()}",
        {
            "StreamStatus": state.status,
            "EncryptionType": state.encryption_type,
            "CurrentKeyId": state.key_id,
        },
    )


def _change(
    env: Environment,
    adapter: KinesisAdapter,
    target: StreamRef,
    progress: Progress,
    *,
    key_id: str,
    verb: str,
) -> StreamState | None:
    """Request a start/stop once; on ResourceInUse wait, and let the caller decide again."""
    before = progress.change_requested
    progress.change_requested = True  # a call that times out may still have been applied
    operation = f"{verb.capitalize()}StreamEncryption"
    try:
        result = adapter.start(target, key_id) if verb == "start" else adapter.stop(target, key_id)
    except KinesisError:
        progress.change_requested = before
        raise
    env.note(f"{operation} {result}", {"KeyId": key_id, "result": result})
    if result == "accepted":
        progress.change_accepted = True
    else:  # refused while busy, or fate unknown: read the stream again before deciding
        if result == "in-use":
            progress.change_requested = before
        adapter.pause_after_refusal()
    state = adapter.wait_until_settled(target)
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
    env: Environment,
    progress: Progress,
    props: EncryptionProperties,
    last_state: StreamState | None,
    failed: Callable[[str], Outcome],
) -> Outcome | Handover:
    elapsed = max(0.0, env.clock.wall() - progress.first_received_at)
    status = last_state.status if last_state else "not yet read"
    what = f"stream {last_state.arn}" if last_state else "the stream"
    left = _operation_deadline(env, props, progress) - env.clock.now()
    base = (
        f"Timed out: {what} is still {status} after {elapsed:.0f} s "
        f"(ServiceTimeout {props.service_timeout} s)."
    )
    if left < MIN_USEFUL_HANDOVER_SECONDS or progress.hop >= MAX_HOPS:
        return failed(
            base + " Raise ServiceTimeout (up to 3600 s) if updates of this stream take longer."
        )
    state = progress.next_hop()
    fallback = failed(base + " Handing the wait over to a fresh invocation failed; retry later.")
    return Handover(state, fallback)
