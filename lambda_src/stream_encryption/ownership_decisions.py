"""The ownership rules (SPEC "Ownership" and "Delete"): pure functions, no I/O.

Create/Update ask ``decide_claim`` (and, when another stack's resource holds the stream,
``decide_after_asking`` once CloudFormation said whether it still exists). Delete asks
``decide_release`` whose stream it is, then ``decide_give_back`` for each step of giving back
what was there before.
"""

from __future__ import annotations

from dataclasses import dataclass

from .decisions import Done, Start, Stop, Wait, decide_decrypt
from .identifiers import StreamArn, keys_equivalent
from .models.ownership import (
    KEY_TAG,
    PRIOR_NONE,
    PRIOR_UNKNOWN,
    PROVIDER_TAG,
    Owner,
    OwnershipTags,
    managed_by_tags,
    ownership_tags,
    prior_key_of,
)
from .models.stream import StreamState

# -- Create / Update ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """Nobody owns the stream: write these tags, then go on."""

    tags: dict[str, str]


@dataclass(frozen=True)
class Proceed:
    """This resource owns the stream; ``tags`` (possibly empty) brings the key tag up to date."""

    tags: dict[str, str]


@dataclass(frozen=True)
class TakeOver:
    """The recorded owner is gone or renamed: write ``tags`` (prior-key kept), warn, go on."""

    tags: dict[str, str]
    warning: str


@dataclass(frozen=True)
class AskOwner:
    """A resource of another stack holds the stream: ask CloudFormation whether it exists."""

    owner: Owner


@dataclass(frozen=True)
class Refuse:
    reason: str


ClaimStep = Record | Proceed | TakeOver | AskOwner | Refuse


def decide_claim(
    tags: OwnershipTags,
    me: Owner,
    state: StreamState,
    wanted_key: str,
    *,
    managed_before: bool,
    my_account: str,
    provider: str | None = None,
) -> ClaimStep:
    """What to do with the stream's ownership before encrypting it.

    ``managed_before``: this resource's physical id already is the stream's ARN, i.e. it managed
    the stream before ownership was recorded (its prior encryption is then unknown).
    """
    owner = tags.owner
    if owner is None:
        prior = (
            PRIOR_UNKNOWN if managed_before else prior_key_of(state.encryption_type, state.key_id)
        )
        return Record(ownership_tags(me, prior, wanted_key, provider))
    if owner == me:
        return Proceed(_refreshed(tags, wanted_key, provider))
    if owner.same_stack(me):
        return _take_over(
            tags,
            me,
            (wanted_key, provider),
            f"Taking over stream {state.arn} from {owner.describe()}: the same stack, so the "
            "resource was renamed (CloudFormation creates the new one before deleting the old).",
        )
    if owner.stack_region is None or owner.stack_account is None:
        return Refuse(
            f"Stream {state.arn} carries the ownership tag "
            f"kinesis-stream-encryption:owner-stack = {owner.stack_id!r}, which is not a "
            "CloudFormation StackId, so its owner cannot be checked. Remove the "
            "kinesis-stream-encryption:* tags from the stream if nobody manages its encryption."
        )
    if owner.stack_account != my_account:
        return Refuse(
            _owned_elsewhere(
                state,
                owner,
                "it is in another account, so this function cannot ask whether it still exists",
            )
        )
    return AskOwner(owner)


def decide_after_asking(
    tags: OwnershipTags,
    me: Owner,
    state: StreamState,
    wanted_key: str,
    *,
    owner_exists: bool,
    provider: str | None = None,
) -> TakeOver | Refuse:
    """The recorded owner is of another stack; CloudFormation said whether it still exists."""
    owner = tags.owner
    assert owner is not None
    if owner_exists:
        return Refuse(_owned_elsewhere(state, owner, "it still exists"))
    return _take_over(
        tags,
        me,
        (wanted_key, provider),
        f"Taking over stream {state.arn} from {owner.describe()}: CloudFormation says that "
        "resource no longer exists (its stack was deleted, or it was retained or removed).",
    )


def _take_over(
    tags: OwnershipTags, me: Owner, managed_by: tuple[str, str | None], warning: str
) -> TakeOver:
    prior = tags.prior_key or PRIOR_UNKNOWN  # what was there before the first owner stays
    return TakeOver(ownership_tags(me, prior, *managed_by), warning)


def _refreshed(tags: OwnershipTags, wanted_key: str, provider: str | None) -> dict[str, str]:
    """The key and provider tags that differ from what the stream carries (an owner's Update)."""
    current = {KEY_TAG: tags.key, PROVIDER_TAG: tags.provider}
    return {k: v for k, v in managed_by_tags(wanted_key, provider).items() if current[k] != v}


def _owned_elsewhere(state: StreamState, owner: Owner, why: str) -> str:
    return (
        f"Stream {state.arn} is managed by {owner.describe()} ({why}). Two resources must not "
        "fight over one stream's encryption (25 key changes per day). Remove it from that stack "
        "first (with DeletionPolicy Retain to keep its encryption on), then deploy this one."
    )


# -- Delete ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GiveBack:
    """This resource owns the stream: give back ``prior_key`` (NONE or a key)."""

    prior_key: str


@dataclass(frozen=True)
class KeyRule:
    """Ownership unknown: stop encryption only if it is this resource's key."""


@dataclass(frozen=True)
class LeaveAlone:
    """Another resource owns the stream: touch nothing."""

    warning: str


ReleaseStep = GiveBack | KeyRule | LeaveAlone


def decide_release(tags: OwnershipTags | None, me: Owner, stream: StreamArn) -> ReleaseStep:
    """Whose stream this is, for a Delete; ``tags`` None when they could not be read."""
    if tags is None or tags.owner is None:
        return KeyRule()
    if tags.owner != me:
        return LeaveAlone(
            f"Stream {stream.arn} is now managed by {tags.owner.describe()}; its encryption and "
            "ownership tags are left as they are."
        )
    if tags.prior_key is None or tags.prior_key == PRIOR_UNKNOWN:
        return KeyRule()
    return GiveBack(tags.prior_key)


def decide_give_back(
    prior_key: str, stream: StreamArn, state: StreamState, *, change_accepted: bool
) -> Wait | Done | Start | Stop:
    """Next step of giving back ``prior_key``: stop, leave, or restore the prior key.

    ``change_accepted``: this request's Stop/Start was accepted; a stream that then shows
    something else was changed by someone after us, and is left as it is.
    """
    if state.status == "DELETING":
        return Done()
    if state.settling:
        return Wait()
    if prior_key == PRIOR_NONE:
        if not state.encrypted:
            return Done()
        if change_accepted:
            return Done(
                warning=f"Encryption of {stream.arn} was turned on again by someone else after "
                "this resource stopped it; left on."
            )
        return Stop(state.key_id or "")
    if state.encrypted and keys_equivalent(prior_key, state.key_id, stream):
        return Done()
    if change_accepted:
        return Done(
            warning=f"Stream {stream.arn} was changed by someone else while its prior key "
            f"{prior_key} was being given back; left as it is."
        )
    return Start(prior_key)


def decide_key_rule(
    owned_key: str, stream: StreamArn, state: StreamState, *, stop_accepted: bool
) -> Wait | Done | Stop:
    """Delete without (usable) ownership tags: today's rule, stop only this resource's key."""
    return decide_decrypt(owned_key, stream, state, stop_accepted=stop_accepted)
