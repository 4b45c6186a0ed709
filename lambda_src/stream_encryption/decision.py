"""The reconcile decision: pure functions from (desired, observed stream) to one next step.

Like a Kubernetes controller's sync: read the stream, compare, act only on the difference. No I/O
here, so every rule of the contract is unit-tested without AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

from .identifiers import StreamArn, keys_equivalent

SETTLING_STATUSES = frozenset({"CREATING", "UPDATING"})


@dataclass(frozen=True)
class StreamState:
    """What DescribeStreamSummary says about a stream (None fields when Kinesis omits them)."""

    arn: str
    name: str
    status: str
    encryption_type: str
    key_id: str | None

    @property
    def encrypted(self) -> bool:
        return self.encryption_type == "KMS"


@dataclass(frozen=True)
class Wait:
    """The stream is CREATING or UPDATING: wait until it settles, then decide again."""


@dataclass(frozen=True)
class Done:
    """Nothing (more) to do; ``warning`` is set when a person should know why."""

    warning: str | None = None


@dataclass(frozen=True)
class Start:
    key_id: str


@dataclass(frozen=True)
class Stop:
    key_id: str


@dataclass(frozen=True)
class Fail:
    reason: str


Decision = Wait | Done | Start | Stop | Fail


def decide_encrypt(
    wanted_key: str, stream: StreamArn, state: StreamState, *, start_accepted: bool
) -> Decision:
    """Next step towards "the stream is KMS-encrypted with ``wanted_key``".

    ``start_accepted`` means this request already had a StartStreamEncryption accepted: if the
    stream then shows another key, someone else changed it meanwhile and we do not fight them for
    the 25-changes-a-day quota.
    """
    if state.status == "DELETING":
        return Fail(f"Stream {state.arn} is being deleted; it cannot be encrypted.")
    if state.status in SETTLING_STATUSES:
        return Wait()
    if state.encrypted and keys_equivalent(wanted_key, state.key_id, stream):
        return Done()
    if start_accepted:
        current = f"KMS with key {state.key_id}" if state.encrypted else "not encrypted"
        return Fail(
            f"Encryption of stream {state.arn} was changed by someone else while this request "
            f"waited: it is now {current}, not KMS with key {wanted_key}. Not starting encryption "
            "again (a stream allows 25 key changes per 24 hours); find the other writer, then "
            "update the stack again."
        )
    return Start(wanted_key)


def decide_decrypt(owned_key: str, stream: StreamArn, state: StreamState) -> Decision:
    """Next step of a Delete: stop encryption only if it is still the one this resource set."""
    if state.status == "DELETING":
        return Done()
    if state.status in SETTLING_STATUSES:
        return Wait()
    if not state.encrypted:
        return Done()
    if not keys_equivalent(owned_key, state.key_id, stream):
        return Done(
            warning=(
                f"Stream {state.arn} is encrypted with key {state.key_id}, not with this "
                f"resource's key {owned_key}; someone else owns its encryption now, so it is "
                "left on."
            )
        )
    return Stop(state.key_id or owned_key)
