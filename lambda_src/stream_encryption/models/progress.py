"""How far one request has come; the same object travels across hand-overs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

_FORMAT_VERSION = 1


@dataclass
class Progress:
    """What this request has done so far, carried to the next invocation when a wait is handed on.

    ``first_received_at`` (wall seconds) is when the request was first seen: budgets and IAM's
    propagation grace count from there, not from the current invocation.
    """

    first_received_at: float
    hop: int = 0
    change_accepted: bool = False  # a Start/Stop was accepted: never request it again
    change_requested: bool = False  # a change may have been applied: rollback must undo it

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
        }

    @classmethod
    def from_json(cls, value: object) -> Progress | None:
        """The carried progress, or None when absent or not ours (the request starts afresh)."""
        if not isinstance(value, dict) or value.get("version") != _FORMAT_VERSION:
            return None
        first, hop = value.get("firstReceivedAt"), value.get("hop")
        accepted, requested = value.get("changeAccepted"), value.get("changeRequested")
        if (
            isinstance(first, int | float)
            and not isinstance(first, bool)
            and isinstance(hop, int)
            and not isinstance(hop, bool)
            and isinstance(accepted, bool)
            and isinstance(requested, bool)
        ):
            return cls(float(first), hop, accepted, requested)
        return None
