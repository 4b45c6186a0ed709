"""What the use cases need from a stream's encryption control plane, as an interface.

``kinesis.KinesisAdapter`` is the implementation; the use cases import only this module, and the
handler (the composition root) decides which implementation they get.
"""

from __future__ import annotations

from typing import Literal, Protocol

from ..identifiers import StreamRef
from ..models.stream import StreamState
from ..time_budget import Deadline

# "unknown": the call failed in a way that may still have applied it (reset, timeout, 5xx);
# the caller reads the stream again rather than repeat a change blindly.
Accepted = Literal["accepted", "in-use", "unknown"]


class KinesisError(Exception):
    """A failure a person has to act on; ``reason`` says what and how."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class DeadlineReached(Exception):
    """Time for this invocation is up; ``last_state`` is what the stream last looked like."""

    def __init__(self, last_state: StreamState | None) -> None:
        super().__init__("deadline reached")
        self.last_state = last_state


class StreamEncryption(Protocol):
    """Reads and changes one stream's encryption; every call bounded by the deadline it was
    opened with (DeadlineReached), every failure a person must fix a KinesisError."""

    def describe(self, stream: StreamRef) -> StreamState | None:
        """The stream's state, or None when it does not exist."""
        ...

    def wait_until_settled(self, stream: StreamRef, *, waited: float = 0.0) -> StreamState | None:
        """Poll until the stream is neither CREATING nor UPDATING (or gone). ``waited``: seconds
        the wait already lasted before this call (continued after a hand-over), so the polling
        cadence goes on where it was."""
        ...

    def start(self, stream: StreamRef, key_id: str) -> Accepted:
        """Request encryption with ``key_id``."""
        ...

    def stop(self, stream: StreamRef, key_id: str) -> Accepted:
        """Request that encryption with ``key_id`` (the current key) stops."""
        ...

    def pause_after_refusal(self) -> None:
        """Wait a little (longer each time) before reading again after a refused change."""
        ...


class OpenStreamEncryption(Protocol):
    """Opens the control plane of a region for one request's deadline and IAM grace."""

    def __call__(
        self, region: str, deadline: Deadline, *, access_denied_grace_until: float
    ) -> StreamEncryption: ...
