"""The drift check's rules, pure: which streams are ours to check, drifted or not, repair or not.

The tags it reads are written by Create and Update (``models.ownership``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .identifiers import StreamArn, keys_equivalent
from .models.ownership import (
    KEY_TAG,
    OWNER_RESOURCE_TAG,
    OWNER_STACK_TAG,
    PROVIDER_TAG,
    unqualified_function_arn,
)
from .models.stream import StreamState


def _function_of(arn: str) -> str:
    return unqualified_function_arn(arn) or arn


@dataclass(frozen=True)
class NotOurs:
    """The stream is not checked by this function (no provider tag, or another function's)."""


@dataclass(frozen=True)
class NoKeyTag:
    """Ours, but the key tag is missing (it gets one at the resource's next Update)."""


@dataclass(frozen=True)
class InSync:
    """Encrypted with the key the tag names (in any equivalent form)."""


@dataclass(frozen=True)
class Drifted:
    """Encryption differs from the key tag; ``actual`` as Kinesis reports it."""

    expected: str
    actual: str
    owner_stack: str | None
    owner_resource: str | None


Verdict = NotOurs | NoKeyTag | InSync | Drifted


def is_checked_here(tags: dict[str, str], function_arn: str) -> bool:
    """Whether the provider tag names this function (compared unqualified)."""
    tagged = tags.get(PROVIDER_TAG)
    return tagged is not None and _function_of(tagged) == _function_of(function_arn)


def judge(tags: dict[str, str], state: StreamState, stream: StreamArn) -> Verdict:
    """Compare a stream (already known to be ours) with its key tag."""
    expected = tags.get(KEY_TAG)
    if not expected:
        return NoKeyTag()
    if state.encrypted and keys_equivalent(expected, state.key_id, stream):
        return InSync()
    actual = f"KMS {state.key_id}" if state.encrypted else "NONE"
    return Drifted(expected, actual, tags.get(OWNER_STACK_TAG), tags.get(OWNER_RESOURCE_TAG))


RepairChoice = Literal["repair", "report-only", "not-active"]


def repair_choice(repair_on: bool, state: StreamState) -> RepairChoice:
    """Repair only when asked to and only an ACTIVE stream (Kinesis refuses others; the next
    check sees it again)."""
    if not repair_on:
        return "report-only"
    if state.status != "ACTIVE":
        return "not-active"
    return "repair"
