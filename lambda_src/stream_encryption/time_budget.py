"""Every deadline of one invocation, in one place.

Two clocks bound the work: the Lambda invocation's own (its remaining time, less a reserve to
respond or hand over) and CloudFormation's (ServiceTimeout from the moment CloudFormation sent the
request, as its ResponseURL says, else from the request's first receipt; either may lie several
invocations back). Waits and hand-overs stop at whichever comes first, and a request that arrives
after CloudFormation stopped listening does nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .clock import Clock
from .models.progress import Progress

# A policy created with the resource can take seconds to be in force (IAM is eventually
# consistent): AccessDenied within this long of the first receipt is retried, not reported.
IAM_GRACE_SECONDS = 15.0
# Less than this left of ServiceTimeout: a fresh invocation could not do anything useful.
MIN_USEFUL_HANDOVER_SECONDS = 5.0
# Kept back at the very end for the last response attempt to complete.
RESPONSE_CUSHION_SECONDS = 0.5


@dataclass
class Deadline:
    """A point on the clock's monotonic axis that waiting must not pass."""

    clock: Clock
    at: float

    def remaining(self) -> float:
        return self.at - self.clock.now()


def response_reserve(remaining: float) -> float:
    """Seconds kept back at the end of an invocation to respond or hand over."""
    return min(15.0, max(1.0, 0.2 * remaining))


def cloudformation_margin(service_timeout: int) -> float:
    """Stop this much before CloudFormation does: its clock and ours disagree a little, and when
    the URL does not say when it was sent, that was a little before our first receipt."""
    return min(30.0, max(2.0, 0.05 * service_timeout))


class TimeBudget:
    """The time one invocation may spend, on behalf of one request."""

    def __init__(self, clock: Clock, remaining_seconds: Callable[[], float]) -> None:
        self.clock = clock
        self._remaining_seconds = remaining_seconds
        remaining = remaining_seconds()
        self._work_until = clock.now() + remaining - response_reserve(remaining)

    def elapsed(self, progress: Progress) -> float:
        """Seconds since the request was first received, across hand-overs."""
        return max(0.0, self.clock.wall() - progress.first_received_at)

    def _cloudformation_stops_waiting(self, progress: Progress, service_timeout: int) -> float:
        """On the monotonic axis: when CloudFormation stops listening, less a margin."""
        ends_at_wall = (
            progress.listened_since + service_timeout - cloudformation_margin(service_timeout)
        )
        return self.clock.now() + (ends_at_wall - self.clock.wall())

    def deadline_before(self, wall_moment: float) -> Deadline:
        """Where work in this invocation must stop for something due at ``wall_moment`` (epoch
        seconds): that moment or the invocation's end, whichever comes first."""
        at = self.clock.now() + (wall_moment - self.clock.wall())
        return Deadline(self.clock, min(self._work_until, at))

    def deadline(self, progress: Progress, service_timeout: int) -> Deadline:
        """Where waiting in this invocation must stop: the earlier of the two clocks."""
        stop = self._cloudformation_stops_waiting(progress, service_timeout)
        return Deadline(self.clock, min(self._work_until, stop))

    def cloudformation_stopped_listening(self, progress: Progress, service_timeout: int) -> bool:
        """Whether CloudFormation has given up on the request (or will before anything is done):
        acting now could only change what it no longer expects."""
        return self._cloudformation_stops_waiting(progress, service_timeout) <= self.clock.now()

    def since_sent(self, progress: Progress) -> float:
        """Seconds since CloudFormation sent the request (or since first receipt, if unknown)."""
        return max(0.0, self.clock.wall() - progress.listened_since)

    def worth_handing_over(self, progress: Progress, service_timeout: int) -> bool:
        """Whether CloudFormation will still listen long enough for a fresh invocation."""
        left = self._cloudformation_stops_waiting(progress, service_timeout) - self.clock.now()
        return left >= MIN_USEFUL_HANDOVER_SECONDS

    def access_denied_grace_until(self, progress: Progress) -> float:
        """Until when (monotonic) AccessDenied may still be IAM propagating a fresh policy."""
        return self.clock.now() + max(0.0, IAM_GRACE_SECONDS - self.elapsed(progress))

    def response_window(self) -> Callable[[], float]:
        """Seconds left to deliver the response, counted from now to the invocation's end."""
        ends = self.clock.now() + max(0.0, self._remaining_seconds() - RESPONSE_CUSHION_SECONDS)
        return lambda: ends - self.clock.now()
