"""What a request ended in: an outcome to report, or a wait to continue in a fresh invocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .progress import Progress

OutcomeKind = Literal["started", "stopped", "unchanged", "failed"]


@dataclass(frozen=True)
class Outcome:
    """The result of one request, in domain terms; the protocol edge turns it into a response.

    ``stream_arn`` is the stream the request resolved to (None when it never got that far),
    ``change_requested`` whether this request (its Progress) may have applied a change to it, and
    ``earlier_attempt_may_have_changed`` whether the stream, as last read, shows a state that an
    earlier, crashed attempt of the same request may have caused (``decisions.
    may_show_an_earlier_start``): together they let the edge choose the physical id without the
    logic knowing about physical ids.
    """

    succeeded: bool
    reason: str
    kind: OutcomeKind
    stream_arn: str | None = None
    change_requested: bool = False
    data: dict[str, str] = field(default_factory=dict)
    warning: str | None = None
    seconds: float = 0.0  # since the request was first received, across hand-overs
    earlier_attempt_may_have_changed: bool = False


@dataclass(frozen=True)
class Handover:
    """Time is up in this invocation but not for the request: continue in a fresh one."""

    progress: Progress  # what the next invocation resumes from
    fallback: Outcome  # reported when the hand-over cannot be made
