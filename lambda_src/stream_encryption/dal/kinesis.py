"""The Kinesis adapter: DescribeStreamSummary / Start / Stop, error mapping, and waiting.

Every call is bounded by a Deadline. Throttling, 5xx and connection errors are retried here with
jittered exponential backoff (botocore's own retries are off so one policy, deadline-aware, rules);
errors a person must fix become KinesisError with a Reason that says what to do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ..clock import Clock
from ..identifiers import StreamRef
from ..models.stream import StreamState
from ..time_budget import Deadline
from .streams import Accepted, DeadlineReached, KinesisError

# Polling cadence (SPEC "Waiting"): first look after about half a second; then about once a
# second while the wait is young, the gap growing with the time already waited (5 % of it, at
# most 5 s), jittered; doubled per throttled poll (at most 8x, 20 s), halved back per clean one.
FIRST_POLL_SECONDS = 0.5
YOUNG_POLL_SECONDS = 1.0
POLL_GROWTH = 0.05
POLL_CAP_SECONDS = 5.0
# Jitter draws the gap from [80 %, 100 %] of it: spread across waiters, never later than the rule.
POLL_JITTER_LOW = 0.8
MAX_THROTTLE_FACTOR = 8.0
THROTTLED_POLL_CAP_SECONDS = 20.0
RETRY_FIRST_SECONDS = 0.5
RETRY_CAP_SECONDS = 4.0
QUOTA_RETRIES = 2

_THROTTLING_CODES = frozenset(
    {
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "KMSThrottlingException",
        "ProvisionedThroughputExceededException",
    }
)
# Refusals that a policy or key grant created in the same deploy can cause for a few seconds (IAM
# and KMS grants are eventually consistent); retried within the grace, reported after it.
_IAM_PROPAGATION_CODES = frozenset({"AccessDeniedException", "KMSAccessDeniedException"})
_TRANSIENT_CODES = frozenset(
    {"InternalFailure", "InternalFailureException", "ServiceUnavailable", "InternalServerError"}
)

T = TypeVar("T")


class KinesisClient(Protocol):
    """The three operations we use (a boto3 Kinesis client satisfies it)."""

    def describe_stream_summary(self, **kwargs: Any) -> Any: ...
    def start_stream_encryption(self, **kwargs: Any) -> Any: ...
    def stop_stream_encryption(self, **kwargs: Any) -> Any: ...


class Backoff:
    """Jittered exponential delays: ``first``, growing by ``factor`` up to ``cap``."""

    def __init__(self, first: float, factor: float, cap: float, rng: random.Random) -> None:
        self._first, self._factor, self._cap, self._rng = first, factor, cap, rng
        self._next = first

    def next(self) -> float:
        """The next delay with "full jitter" (uniform in [0, delay]): retries from many callers
        spread out instead of colliding again, as in AWS' backoff-and-jitter guidance."""
        delay = self._next
        self._next = min(self._cap, self._next * self._factor)
        return max(0.05, delay * self._rng.uniform(0.0, 1.0))

    def throttled(self) -> None:
        """Back off harder: another caller shares the account's 20-per-second Describe budget."""
        self._next = min(RETRY_CAP_SECONDS, max(self._next * 2, 1.0))


class KinesisAdapter:
    """Kinesis calls for one stream operation, all bounded by ``deadline``.

    The one implementation of ``streams.StreamEncryption``.
    """

    def __init__(
        self,
        client: KinesisClient,
        clock: Clock,
        deadline: Deadline,
        *,
        rng: random.Random | None = None,
        access_denied_grace_until: float = 0.0,
    ) -> None:
        self._client = client
        self._clock = clock
        self.deadline = deadline
        self._rng = rng or random.Random()
        self.last_state: StreamState | None = None
        self.throttles = 0
        # IAM is eventually consistent: a policy or key grant created just before this request may
        # not be in force for a few seconds, so AccessDenied and KMSAccessDenied are retried until
        # this point on the clock.
        self._access_denied_grace_until = access_denied_grace_until
        self._refusals = Backoff(1.0, 2.0, RETRY_CAP_SECONDS, self._rng)

    # -- reads ---------------------------------------------------------------------------------

    def describe(self, stream: StreamRef) -> StreamState | None:
        """The stream's summary, or None when it does not exist."""

        def call() -> StreamState | None:
            try:
                reply = self._client.describe_stream_summary(**stream.api_params())
            except ClientError as error:
                if _code(error) == "ResourceNotFoundException":
                    return None
                raise
            summary = reply["StreamDescriptionSummary"]
            return StreamState(
                arn=summary.get("StreamARN", stream.arn.arn),
                name=summary.get("StreamName", stream.arn.name),
                status=summary.get("StreamStatus", "ACTIVE"),
                encryption_type=summary.get("EncryptionType") or "NONE",
                key_id=summary.get("KeyId"),
            )

        state = self._with_retries("DescribeStreamSummary", stream, call)
        if state is not None:
            self.last_state = state
        return state

    def wait_until_settled(self, stream: StreamRef, *, waited: float = 0.0) -> StreamState | None:
        """Poll until the stream is neither CREATING nor UPDATING (or gone).

        First look after about half a second (a wait continued after a hand-over: as
        ``poll_gap`` says for the time it already lasted), then as ``poll_gap`` says for the
        time waited so far; throttling stretches the gap. Raises DeadlineReached rather than
        overrun the invocation.
        """
        waited = max(0.0, waited)
        began = self._clock.now() - waited
        throttle_factor = 1.0
        gap = poll_gap(waited) if waited > 0 else FIRST_POLL_SECONDS
        while True:
            # Callers come here having just seen the stream busy (or just changed it): look later.
            self.pause(gap * self._rng.uniform(POLL_JITTER_LOW, 1.0))
            throttled_before = self.throttles
            state = self.describe(stream)
            if state is None or not state.settling:
                return state
            if self.throttles > throttled_before:
                throttle_factor = min(MAX_THROTTLE_FACTOR, throttle_factor * 2)
            else:
                throttle_factor = max(1.0, throttle_factor / 2)
            gap = poll_gap(self._clock.now() - began, throttle_factor)

    # -- writes --------------------------------------------------------------------------------

    def start(self, stream: StreamRef, key_id: str) -> Accepted:
        """StartStreamEncryption; "in-use" when the stream is not ACTIVE (decide again later)."""
        return self._change(
            "StartStreamEncryption", self._client.start_stream_encryption, stream, key_id
        )

    def stop(self, stream: StreamRef, key_id: str) -> Accepted:
        """StopStreamEncryption with the stream's current key."""
        return self._change(
            "StopStreamEncryption", self._client.stop_stream_encryption, stream, key_id
        )

    def _change(
        self, operation: str, method: Callable[..., Any], stream: StreamRef, key_id: str
    ) -> Accepted:
        limit_refusals = 0
        while True:

            def call() -> Accepted:
                try:
                    method(**stream.api_params(), EncryptionType="KMS", KeyId=key_id)
                except ClientError as error:
                    if _code(error) == "ResourceInUseException":
                        return "in-use"
                    raise
                return "accepted"

            try:
                return self._with_retries(operation, stream, call, key_id=key_id)
            except _MaybeApplied:
                return "unknown"
            except _QuotaSuspected as suspected:
                # LimitExceeded without "rate": the 25-a-day quota, or a throttle worded
                # differently. Unsuccessful calls cost no quota, so look twice before failing.
                limit_refusals += 1
                if limit_refusals > QUOTA_RETRIES:
                    raise KinesisError(
                        _quota_reason(operation, stream, suspected.message),
                        "LimitExceededException",
                    ) from None
                self.pause(RETRY_FIRST_SECONDS * 2**limit_refusals)

    # -- plumbing ------------------------------------------------------------------------------

    def _with_retries(
        self, operation: str, stream: StreamRef, call: Callable[[], T], key_id: str = ""
    ) -> T:
        backoff = Backoff(RETRY_FIRST_SECONDS, 2.0, RETRY_CAP_SECONDS, self._rng)
        # A failed read is simply read again; a failed write may still have been applied.
        is_write = operation != "DescribeStreamSummary"
        while True:
            try:
                return call()
            except ClientError as error:
                code, message = _code(error), _message(error)
                if code == "LimitExceededException" and is_write and "rate" not in message.lower():
                    raise _QuotaSuspected(message) from None
                if code in _THROTTLING_CODES:
                    self.throttles += 1
                    backoff.throttled()
                elif code in _IAM_PROPAGATION_CODES and self._in_access_denied_grace():
                    pass  # may be a grant made with this deploy, not in force yet: retry
                elif code in _TRANSIENT_CODES or _http_status(error) >= 500:
                    if is_write:
                        raise _MaybeApplied from None
                else:
                    raise KinesisError(
                        explain(operation, code, message, stream, key_id), code
                    ) from None
            except (BotocoreConnectionError, HTTPClientError):
                # Reset, refused or timed out: a write may have landed.
                if is_write:
                    raise _MaybeApplied from None
            self.pause(backoff.next())

    def _in_access_denied_grace(self) -> bool:
        return self._clock.now() < self._access_denied_grace_until

    def pause_after_refusal(self) -> None:
        """Before reading again after ResourceInUse or a write of unknown fate; grows each time."""
        self.pause(self._refusals.next())

    def pause(self, seconds: float) -> None:
        """Sleep, unless that would pass the deadline (then DeadlineReached)."""
        if self.deadline.remaining() < seconds:
            raise DeadlineReached(self.last_state)
        self._clock.sleep(seconds)


class _MaybeApplied(Exception):
    """A write whose fate is unknown."""


class _QuotaSuspected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__("LimitExceededException")
        self.message = message


def poll_gap(waited: float, throttle_factor: float = 1.0) -> float:
    """Seconds until the next look, ``waited`` seconds into a wait (before jitter).

    About once a second while the wait is young (a short update is noticed within about half a
    second); then 5 % of the time already waited (a long one within a few per cent of its
    length), at most 5 s, so a hundred waiting resources poll at most ~20 times a second together
    once their waits are old. When our reads were throttled, the gap is multiplied by
    ``throttle_factor`` (at most 20 s): the account's 20-per-second Describe budget is shared.
    """
    base = min(POLL_CAP_SECONDS, max(YOUNG_POLL_SECONDS, POLL_GROWTH * waited))
    return min(THROTTLED_POLL_CAP_SECONDS, base * max(1.0, throttle_factor))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _http_status(error: ClientError) -> int:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    return int(status) if isinstance(status, int) else 400


def _quota_reason(operation: str, stream: StreamRef, message: str) -> str:
    what = "key changes" if operation == "StartStreamEncryption" else "encryption disables"
    return (
        f"Kinesis refused {operation} on {stream.arn.arn} with LimitExceededException "
        f"({message or 'no message'}): a stream allows 25 {what} per rolling 24 hours. Wait until "
        "the oldest change is 24 hours old, then retry the stack operation."
    )


def explain(operation: str, code: str, message: str, stream: StreamRef, key_id: str) -> str:
    """An actionable Reason for a Kinesis error: which stream, which key, what to check."""
    said = f"{code}: {message}" if message else code
    action = operation.replace("StreamEncryption", "")
    reasons = {
        "AccessDeniedException": (
            f"The function's role may not call kinesis:{operation} on {stream.arn.arn} ({said}). "
            "Grant it on that stream ARN (the CDK construct does this for you)."
        ),
        "KMSDisabledException": (
            f"KMS key {key_id} is disabled ({said}). Enable it (kms:EnableKey) or use another key."
        ),
        "KMSInvalidStateException": (
            f"KMS key {key_id} is in a state Kinesis cannot use, e.g. pending deletion or pending "
            f"import ({said}). Cancel the deletion or use another key."
        ),
        "KMSAccessDeniedException": (
            f"Kinesis was denied access to KMS key {key_id} ({said}). The key policy must let "
            "the function's role use the key (kms:GenerateDataKey, kms:DescribeKey) via Kinesis."
        ),
        "KMSNotFoundException": (
            f"KMS key {key_id} was not found in account {stream.arn.account}, region "
            f"{stream.arn.region} ({said}). Check the key id, ARN or alias and its region."
        ),
        "KMSOptInRequired": (
            f"The account {stream.arn.account} is not subscribed to AWS KMS ({said}). Sign up for "
            "KMS, then retry."
        ),
        "InvalidArgumentException": (
            f"Kinesis rejected {operation} for {stream.arn.arn} with key {key_id or '(none)'} "
            f"({said}). Check KeyId and EncryptionType."
        ),
        "ResourceNotFoundException": (
            f"Stream {stream.arn.name} was not found in account {stream.arn.account}, region "
            f"{stream.arn.region} ({said})."
        ),
    }
    return reasons.get(
        code, f"Kinesis {action} on {stream.arn.arn} failed ({said or 'no details'})."
    )
