"""The reconcile decisions: pure functions from (desired, observed stream) to one next step.

Like a Kubernetes controller's sync: read the stream, compare, act only on the difference. No I/O
here, so every rule of the contract is unit-tested without AWS. Encryption and its removal have
separate step types: a step that cannot happen for one of them cannot be returned by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .identifiers import StreamArn, keys_equivalent
from .models.stream import StreamState


@dataclass(frozen=True)
class Wait:
    """The stream is CREATING or UPDATING: wait until it settles, then decide again."""


@dataclass(frozen=True)
class Done:
    """Nothing (more) to do; ``warning`` is set when a person should know why."""

    warning: str | None = None


@dataclass(frozen=True)
class Start:
    """StartStreamEncryption with ``key_id``."""

    key_id: str
    operation: ClassVar[str] = "StartStreamEncryption"


@dataclass(frozen=True)
class Stop:
    """StopStreamEncryption with ``key_id`` (the stream's current key)."""

    key_id: str
    operation: ClassVar[str] = "StopStreamEncryption"


@dataclass(frozen=True)
class Fail:
    reason: str


EncryptStep = Wait | Done | Start | Fail
DecryptStep = Wait | Done | Stop


def decide_encrypt(
    wanted_key: str, stream: StreamArn, state: StreamState, *, start_accepted: bool
) -> EncryptStep:
    """Next step towards "the stream is KMS-encrypted with ``wanted_key``".

    ``start_accepted`` means this request already had a StartStreamEncryption accepted: if the
    stream then shows another key, someone else changed it meanwhile and we do not fight them for
    the 25-changes-a-day quota.
    """
    if state.status == "DELETING":
        return Fail(f"Stream {state.arn} is being deleted; it cannot be encrypted.")
    if state.settling:
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


def decide_decrypt(
    owned_key: str, stream: StreamArn, state: StreamState, *, stop_accepted: bool
) -> DecryptStep:
    """Next step of a Delete: stop encryption only if it is still the one this resource set.

    ``stop_accepted`` means this request already had its StopStreamEncryption accepted: a stream
    encrypted with our key after that was encrypted again by someone else, and is left on.
    """
    if state.status == "DELETING":
        return Done()
    if state.settling:
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
    if stop_accepted:
        return Done(
            warning=f"Encryption of {stream.arn} was turned on again by someone else after this "
            "resource stopped it; left on."
        )
    return Stop(state.key_id or owned_key)


def may_show_an_earlier_start(wanted_key: str, stream: StreamArn, state: StreamState) -> bool:
    """Whether the stream's state could be the work of this request's own StartStreamEncryption
    made by an earlier attempt that crashed (Lambda retries it with a fresh start, which cannot
    know): UPDATING, or already KMS with the wanted key.

    A failed Create that saw this answers with the stream's ARN, so that rollback's Delete undoes
    what may be ours (SPEC "Physical resource id"). It may also be someone else's change; the
    ownership tags of a later issue tell the two apart, and this is the one place to refine.
    """
    if state.status == "UPDATING":
        return True
    return state.encrypted and keys_equivalent(wanted_key, state.key_id, stream)
