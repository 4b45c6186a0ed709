"""The drift check's rules, pure: which streams are ours to check, drifted or not, repair or not.

Also the two tags Create and Update write for the check (``drift_tags``), so the tag names and
their values live next to the rules that read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .identifiers import StreamArn, keys_equivalent
from .models.stream import StreamState

TAG_PREFIX = "kinesis-stream-encryption:"
KEY_TAG = f"{TAG_PREFIX}key"
PROVIDER_TAG = f"{TAG_PREFIX}provider"
OWNER_STACK_TAG = f"{TAG_PREFIX}owner-stack"
OWNER_RESOURCE_TAG = f"{TAG_PREFIX}owner-resource"
# Kinesis tag values: at most 256 characters.
TAG_VALUE_MAX = 256


def unqualified_function_arn(function_arn: str) -> str:
    """``arn:...:function:name`` without a version or alias qualifier (the provider tag's form):
    a stream tagged by ``$LATEST`` is still checked by the function invoked through an alias."""
    parts = function_arn.split(":")
    if len(parts) > 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function":
        return ":".join(parts[:7])
    return function_arn


def drift_tags(key_id: str, provider_arn: str) -> dict[str, str]:
    """The tags Create and Update write so the drift check can find and judge the stream.

    ``key_id`` is the key applied, as given; ``provider_arn`` the function's ARN (qualified or
    not). Raises ValueError when a value cannot be a Kinesis tag value.
    """
    tags = {KEY_TAG: key_id, PROVIDER_TAG: unqualified_function_arn(provider_arn)}
    for name, value in tags.items():
        if not value or len(value) > TAG_VALUE_MAX:
            raise ValueError(f"{name} must be 1 to {TAG_VALUE_MAX} characters")
    return tags


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
    return tagged is not None and unqualified_function_arn(tagged) == unqualified_function_arn(
        function_arn
    )


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
