"""The ownership steps of a request (SPEC "Ownership" and "Delete"): read the stream's tags, ask
CloudFormation about another owner, write or put back the tags. The rules are in
``ownership_decisions``; this module only performs what they decide, and records in ``Progress``
what a later invocation (a hand-over, or a failed request's clean-up) needs to know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..dal.cloudformation import OpenStackResources, OwnerCheckFailed
from ..dal.streams import DeadlineReached
from ..dal.tagging import OpenStreamTags, StreamTags, TaggingRefused
from ..identifiers import StreamArn
from ..models.ownership import (
    KEY_TAG,
    OWNER_RESOURCE_TAG,
    OWNER_STACK_TAG,
    PRIOR_KEY_TAG,
    PROVIDER_TAG,
    Owner,
    OwnershipTags,
)
from ..models.progress import Progress
from ..models.stream import StreamState
from ..ownership_decisions import (
    AskOwner,
    KeyRule,
    LeaveAlone,
    Proceed,
    Record,
    ReleaseStep,
    TakeOver,
    decide_after_asking,
    decide_claim,
    decide_release,
)
from ..time_budget import Deadline

# The tags this resource writes (and so the only ones a failed request puts back).
WRITTEN_TAGS = (OWNER_STACK_TAG, OWNER_RESOURCE_TAG, PRIOR_KEY_TAG, KEY_TAG, PROVIDER_TAG)


class WarningLog(Protocol):
    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Claimant:
    """The resource a request is for, as a domain value.

    ``managed_stream``: the stream ARN this resource already managed (an Update whose physical
    id is a stream ARN); None for a Create.
    """

    owner: Owner
    managed_stream: str | None = None
    provider: str | None = None  # the function's unqualified ARN, for the provider tag


@dataclass(frozen=True)
class OwnershipAccess:
    """How to reach the stream's tags and CloudFormation, per region."""

    open_tags: OpenStreamTags
    open_stacks: OpenStackResources


@dataclass(frozen=True)
class Session:
    """One request's view: the tag calls of the stream's region and the deadline."""

    access: OwnershipAccess
    tags: StreamTags
    deadline: Deadline
    log: WarningLog


def open_session(
    access: OwnershipAccess,
    region: str,
    deadline: Deadline,
    log: WarningLog,
    *,
    access_denied_grace_until: float,
) -> Session:
    tags = access.open_tags(region, deadline, access_denied_grace_until=access_denied_grace_until)
    return Session(access, tags, deadline, log)


def not_recorded_note(reason: str) -> str:
    return (
        f"Ownership of the stream could not be recorded: {reason}. Encryption is applied "
        "anyway; a Delete will stop it only if it still uses this resource's key."
    )


def claim(
    session: Session,
    claimant: Claimant,
    *,
    stream: StreamArn,
    state: StreamState,
    wanted_key: str,
    progress: Progress,
    my_account: str,
) -> str | None:
    """Settle who owns the stream before any StartStreamEncryption; a refusal's Reason, or None
    to go on. Done once per request (``progress.ownership``), across hand-overs."""
    if progress.ownership:
        return None
    log = session.log
    try:
        found = session.tags.read(stream)
    except TaggingRefused as refused:
        _not_recorded(session, progress, refused.reason)
        return None
    tags = OwnershipTags.from_tags(found)
    managed_before = claimant.managed_stream == state.arn
    step = decide_claim(
        tags,
        claimant.owner,
        state,
        wanted_key,
        managed_before=managed_before,
        my_account=my_account,
        provider=claimant.provider,
    )
    if isinstance(step, AskOwner):
        region = step.owner.stack_region or ""
        try:
            exists = session.access.open_stacks(region, session.deadline).exists(step.owner)
        except OwnerCheckFailed as failed:
            return (
                f"Stream {state.arn} is recorded as managed by {step.owner.describe()}. "
                f"{failed.reason}; without an answer it is not encrypted by a second resource."
            )
        log.info(
            "Asked CloudFormation about the stream's recorded owner",
            extra={"OwnerStackId": step.owner.stack_id, "OwnerExists": exists},
        )
        step = decide_after_asking(
            tags, claimant.owner, state, wanted_key, owner_exists=exists, provider=claimant.provider
        )
    if not isinstance(step, Record | Proceed | TakeOver):
        return step.reason
    if step.tags:
        first_write = progress.tags_before is None
        if first_write:  # remember what was there, before a write that may land unanswered
            progress.tags_before = {k: v for k, v in found.items() if k in WRITTEN_TAGS}
        try:
            session.tags.write(stream, step.tags)
        except TaggingRefused as refused:
            if first_write:  # a refused AddTagsToStream changed nothing: nothing to put back
                progress.tags_before = None
            _not_recorded(session, progress, refused.reason)
            return None
        log.info("Ownership tags written", extra={"tags": step.tags})
    if isinstance(step, TakeOver):
        log.warning(step.warning)
        progress.ownership_note = step.warning
    progress.ownership = "recorded"
    return None


def _not_recorded(session: Session, progress: Progress, reason: str) -> None:
    note = not_recorded_note(reason)
    session.log.warning(note)
    progress.ownership = "unrecorded"
    progress.ownership_note = note


def put_back(session: Session, stream: StreamArn, progress: Progress) -> None:
    """A request that wrote tags failed before any change: leave the tags as they were."""
    before = progress.tags_before
    if before is None or progress.change_requested:
        return
    try:
        session.tags.remove(stream, [key for key in WRITTEN_TAGS if key not in before])
        if before:
            session.tags.write(stream, before)
    except Exception as error:  # put-back is best effort: the failure is already reported
        session.log.warning(
            "Could not put the ownership tags back as they were",
            extra={"error": getattr(error, "reason", type(error).__name__)},
        )
        return
    progress.tags_before = None
    session.log.info("Ownership tags put back as they were before this request")


@dataclass(frozen=True)
class Release:
    """A Delete's view of the stream's ownership."""

    step: ReleaseStep
    present: frozenset[str]  # our tags on the stream when this resource owns it (removed last)


def read_release(session: Session, owner: Owner, stream: StreamArn) -> Release:
    """Whose stream this is, for a Delete; the key rule when the tags cannot be read."""
    try:
        tags: OwnershipTags | None = OwnershipTags.from_tags(session.tags.read(stream))
    except TaggingRefused as refused:
        session.log.warning(
            f"The stream's ownership tags could not be read ({refused.reason}); using the key rule"
        )
        tags = None
    step = decide_release(tags, owner, stream)
    if isinstance(step, LeaveAlone):
        session.log.warning(step.warning)
    elif isinstance(step, KeyRule):
        session.log.info("No usable ownership record on the stream: the key rule applies")
    mine = tags is not None and tags.owner == owner
    return Release(step, tags.present if tags is not None and mine else frozenset())


def forget(session: Session, stream: StreamArn, release: Release) -> str | None:
    """Remove this resource's tags after giving the stream back; a warning if that failed."""
    if isinstance(release.step, LeaveAlone) or not release.present:
        return None
    try:
        session.tags.remove(stream, sorted(release.present))
    except (TaggingRefused, DeadlineReached) as error:  # the stream is given back: answer now
        why = error.reason if isinstance(error, TaggingRefused) else "out of time"
        note = f"The kinesis-stream-encryption:* tags could not be removed ({why})."
        session.log.warning(note)
        return note
    session.log.info("Ownership tags removed", extra={"keys": sorted(release.present)})
    return None
