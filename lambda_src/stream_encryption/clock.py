"""Time as the waiter and the deadlines see it, injectable so tests run in virtual time."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds for deadlines, wall seconds for state that crosses invocations."""

    def now(self) -> float:
        """Monotonic seconds (only differences are meaningful)."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch; carried in hand-over state between invocations."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block (or advance virtual time) for ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
