"""How far one request has come; the same object travels across hand-overs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

_FORMAT_VERSION = 1


def _optional_seconds(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


@dataclass
class Progress:
    """What this request has done so far, carried to the next invocation when a wait is handed on.

    ``first_received_at`` (wall seconds) is when the request was first seen: IAM's propagation
    grace counts from there. ``sent_at`` (wall seconds) is when CloudFormation sent it, as its
    ResponseURL says (None: the URL does not say; count from first receipt): CloudFormation stops
    listening ServiceTimeout seconds after that.
    """

    first_received_at: float
    hop: int = 0
    change_accepted: bool = False  # a Start/Stop was accepted: never request it again
    change_requested: bool = False  # a change may have been applied: rollback must undo it
    sent_at: float | None = None
    wait_began_at: float | None = None  # wall seconds; set while a wait is in progress
    # Ownership (SPEC "Ownership"): "" not settled yet, "recorded", or "unrecorded" (tagging
    # refused); the note goes into the final Reason (a take-over, or why nothing was recorded).
    ownership: str = ""
    ownership_note: str = ""
    # The kinesis-stream-encryption:* tags as they were before this request first wrote them
    # ({}: none, so they were written fresh); None: this request wrote none. A request that
    # fails before any change puts them back.
    tags_before: dict[str, str] | None = None

    @property
    def listened_since(self) -> float:
        """Wall seconds from which CloudFormation's ServiceTimeout runs."""
        return self.sent_at if self.sent_at is not None else self.first_received_at

    def next_hop(self) -> Progress:
        """The progress the next invocation continues from."""
        return replace(self, hop=self.hop + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _FORMAT_VERSION,
            "firstReceivedAt": self.first_received_at,
            "hop": self.hop,
            "changeAccepted": self.change_accepted,
            "changeRequested": self.change_requested,
            "sentAt": self.sent_at,
            "waitBeganAt": self.wait_began_at,
            "ownership": self.ownership,
            "ownershipNote": self.ownership_note,
            "tagsBefore": self.tags_before,
        }

    @classmethod
    def from_json(cls, value: object) -> Progress | None:
        """The carried progress, or None when absent or not ours (the request starts afresh)."""
        if not isinstance(value, dict) or value.get("version") != _FORMAT_VERSION:
            return None
        first, hop = value.get("firstReceivedAt"), value.get("hop")
        accepted, requested = value.get("changeAccepted"), value.get("changeRequested")
        sent, wait_began = value.get("sentAt"), value.get("waitBeganAt")
        if not (_optional_seconds(sent) and _optional_seconds(wait_began)):
            return None
        if (
            isinstance(first, int | float)
            and not isinstance(first, bool)
            and isinstance(hop, int)
            and not isinstance(hop, bool)
            and isinstance(accepted, bool)
            and isinstance(requested, bool)
        ):
            progress = cls(
                float(first),
                hop,
                accepted,
                requested,
                None if sent is None else float(sent),
                None if wait_began is None else float(wait_began),
            )
            _read_ownership(progress, value)
            return progress
        return None


def _read_ownership(progress: Progress, value: dict[str, Any]) -> None:
    """The ownership fields, when present and well-formed (absent in older hand-overs)."""
    ownership, note, before = (
        value.get("ownership"),
        value.get("ownershipNote"),
        value.get("tagsBefore"),
    )
    if ownership in ("", "recorded", "unrecorded"):
        progress.ownership = ownership
    if isinstance(note, str):
        progress.ownership_note = note
    if isinstance(before, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in before.items()
    ):
        progress.tags_before = dict(before)
