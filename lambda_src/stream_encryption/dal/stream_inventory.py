"""Kinesis calls of the drift check: list streams, read their tags and encryption, repair one.

Every call goes through a ``Pacer`` that keeps the check within a quarter of the account's
budgets (the rest belongs to the account's other workloads and to our own Create/Update waits),
and is bounded by a Deadline: the check hands over rather than overrun the invocation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ..clock import Clock
from ..identifiers import StreamRef, parse_stream_arn
from ..models.stream import StreamState
from ..time_budget import Deadline
from .kinesis import Backoff, explain
from .streams import DeadlineReached

# Account-wide Kinesis control-plane budgets (calls per second) and the share the check may use.
ACCOUNT_TPS = {
    "ListStreams": 5.0,
    "ListTagsForStream": 5.0,
    "DescribeStreamSummary": 20.0,
    "StartStreamEncryption": 5.0,  # undocumented; assume the common control-plane figure
}
BUDGET_SHARE = 0.25
LIST_PAGE_SIZE = 100  # real Kinesis' default; moto's is 10, so it is always sent
TAGS_PAGE_SIZE = 50  # a stream holds at most 50 tags: one call reads them all

_THROTTLING = frozenset(
    {"LimitExceededException", "ThrottlingException", "Throttling", "TooManyRequestsException"}
)
_TRANSIENT = frozenset({"InternalFailure", "InternalFailureException", "ServiceUnavailable"})

T = TypeVar("T")


class InventoryClient(Protocol):
    """The operations the check uses (a boto3 Kinesis client satisfies it)."""

    def list_streams(self, **kwargs: Any) -> Any: ...
    def list_tags_for_stream(self, **kwargs: Any) -> Any: ...
    def describe_stream_summary(self, **kwargs: Any) -> Any: ...
    def start_stream_encryption(self, **kwargs: Any) -> Any: ...


class Pacer:
    """Spaces calls of each operation at least ``1 / (share x account TPS)`` seconds apart.

    Evenly spaced calls never exceed the rate in any window, unlike a token bucket's bursts.
    """

    def __init__(
        self, clock: Clock, share: float = BUDGET_SHARE, *, continuing: bool = False
    ) -> None:
        self._clock = clock
        self.intervals = {op: 1.0 / (tps * share) for op, tps in ACCOUNT_TPS.items()}
        # A handed-over check's previous invocation may have called a moment ago: keep the gap.
        start = clock.now()
        self._next_at = (
            {op: start + gap for op, gap in self.intervals.items()} if continuing else {}
        )

    def delay(self, operation: str) -> float:
        """Seconds to wait before ``operation`` may be called."""
        return max(0.0, self._next_at.get(operation, 0.0) - self._clock.now())

    def record(self, operation: str) -> None:
        """A call of ``operation`` is being made now."""
        self._next_at[operation] = self._clock.now() + self.intervals[operation]


@dataclass(frozen=True)
class StreamPage:
    """One page of ListStreams: (name, ARN) in listing order, and whether more follow."""

    streams: tuple[tuple[str, str], ...]
    has_more: bool


RepairResult = Literal["accepted", "gone", "in-use", "unknown"]


class RepairRefused(Exception):
    """Kinesis refused the repair (quota, KMS, access): reported, not retried."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class InventoryError(Exception):
    """A listing or read a person must fix (e.g. AccessDenied); ``reason`` says which."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class StreamInventory:
    """The check's view of one region's streams, paced and bounded by ``deadline``."""

    def __init__(
        self,
        client: InventoryClient,
        clock: Clock,
        deadline: Deadline,
        *,
        region: str,
        account: str,
        partition: str = "aws",
        pacer: Pacer | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self.deadline = deadline
        self._region, self._account, self._partition = region, account, partition
        self._pacer = pacer or Pacer(clock)
        self._rng = rng or random.Random()
        self.throttles = 0
        self.unreadable = 0  # streams whose tags the role may not read (not this provider's)

    def list_streams(self, after: str | None) -> StreamPage:
        """The page of stream names after ``after``. Pages with ExclusiveStartStreamName, which
        both Kinesis and moto honour (moto never returns a NextToken)."""
        params: dict[str, Any] = {"Limit": LIST_PAGE_SIZE}
        if after is not None:
            params["ExclusiveStartStreamName"] = after
        try:
            reply = self._call("ListStreams", lambda: self._client.list_streams(**params))
        except _Refused as refused:
            reason = f"ListStreams: {refused.code}: {refused.message}"
            raise InventoryError(refused.code, reason) from None
        names = tuple(str(n) for n in reply.get("StreamNames", []))
        # moto lists every stream's summary whatever the page: take the ARNs of this page's names.
        arns = {
            str(s["StreamName"]): str(s["StreamARN"])
            for s in reply.get("StreamSummaries", [])
            if s.get("StreamName") in names and s.get("StreamARN")
        }
        streams = tuple((name, arns.get(name) or self._arn(name)) for name in names)
        return StreamPage(streams, bool(reply.get("HasMoreStreams")) and bool(names))

    def _arn(self, name: str) -> str:
        return f"arn:{self._partition}:kinesis:{self._region}:{self._account}:stream/{name}"

    def tags(self, arn: str) -> dict[str, str] | None:
        """The stream's tags, or None when it is gone.

        A stream whose tags the role may not read has none as far as the check is concerned:
        ListStreams lists the whole account, but the role reads the tags of its own streams only.
        """
        tags: dict[str, str] = {}
        start: str | None = None
        while True:
            params: dict[str, Any] = {"StreamARN": arn, "Limit": TAGS_PAGE_SIZE}
            if start is not None:
                params["ExclusiveStartTagKey"] = start
            try:
                reply = self._gone_is_none(
                    "ListTagsForStream",
                    lambda params=params: self._client.list_tags_for_stream(**params),  # type: ignore[misc]
                )
            except InventoryError as error:
                if error.code != "AccessDeniedException":
                    raise
                self.unreadable += 1
                return {}
            if reply is None:
                return None
            page = {str(t["Key"]): str(t.get("Value", "")) for t in reply.get("Tags", [])}
            new_keys = set(page) - set(tags)
            tags.update(page)
            if not reply.get("HasMoreTags") or not new_keys:
                return tags
            start = max(page)

    def describe(self, arn: str) -> StreamState | None:
        """The stream's encryption and status, or None when it is gone."""
        reply = self._gone_is_none(
            "DescribeStreamSummary", lambda: self._client.describe_stream_summary(StreamARN=arn)
        )
        if reply is None:
            return None
        summary = reply["StreamDescriptionSummary"]
        return StreamState(
            arn=summary.get("StreamARN", arn),
            name=summary.get("StreamName", arn.rpartition("/")[2]),
            status=summary.get("StreamStatus", "ACTIVE"),
            encryption_type=summary.get("EncryptionType") or "NONE",
            key_id=summary.get("KeyId"),
        )

    def repair(self, arn: str, key_id: str) -> RepairResult:
        """StartStreamEncryption with ``key_id``: one attempt that Kinesis processed at most.

        Only a throttled call (never processed) is made again; a refusal raises RepairRefused,
        a lost answer is "unknown" (the next check reads the stream again).
        """

        def start() -> RepairResult:
            self._client.start_stream_encryption(StreamARN=arn, EncryptionType="KMS", KeyId=key_id)
            return "accepted"

        try:
            return self._call("StartStreamEncryption", start, rate_only=True)
        except (BotocoreConnectionError, HTTPClientError):
            return "unknown"
        except _Refused as refused:
            if refused.code == "ResourceNotFoundException":
                return "gone"
            if refused.code == "ResourceInUseException":
                return "in-use"
            if refused.code in _TRANSIENT or refused.status >= 500:
                return "unknown"
            if refused.code == "LimitExceededException":
                raise RepairRefused(
                    refused.code,
                    f"Kinesis refused StartStreamEncryption on {arn} ({refused.message}): a "
                    "stream allows 25 key changes per rolling 24 hours; the next check retries.",
                ) from None
            parsed = parse_stream_arn(arn)
            reason = (
                explain(
                    "StartStreamEncryption",
                    refused.code,
                    refused.message,
                    StreamRef(parsed),
                    key_id,
                )
                if parsed is not None
                else f"{refused.code}: {refused.message}"
            )
            raise RepairRefused(refused.code, reason) from None

    # -- plumbing ------------------------------------------------------------------------------

    def _gone_is_none(self, operation: str, call: Callable[[], T]) -> T | None:
        try:
            return self._call(operation, call)
        except _Refused as refused:
            if refused.code == "ResourceNotFoundException":
                return None
            reason = f"{operation}: {refused.code}: {refused.message}"
            raise InventoryError(refused.code, reason) from None

    def _call(self, operation: str, call: Callable[[], T], *, rate_only: bool = False) -> T:
        """Paced, retried on throttling (and, for reads, 5xx and connection errors)."""
        backoff = Backoff(0.5, 2.0, 8.0, self._rng)
        while True:
            self._pause(self._pacer.delay(operation))
            self._pacer.record(operation)
            try:
                return call()
            except ClientError as error:
                code, message, status = _error_parts(error)
                throttled = code in _THROTTLING and (
                    not rate_only or code != "LimitExceededException" or "rate" in message.lower()
                )
                if throttled:
                    self.throttles += 1
                    backoff.throttled()
                elif rate_only or not (code in _TRANSIENT or status >= 500):
                    raise _Refused(code, message, status) from None
            except (BotocoreConnectionError, HTTPClientError):
                if rate_only:
                    raise
            self._pause(backoff.next())

    def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.deadline.remaining() < seconds:
            raise DeadlineReached(None)
        self._clock.sleep(seconds)


class _Refused(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


def _error_parts(error: ClientError) -> tuple[str, str, int]:
    details = error.response.get("Error", {})
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    return (
        str(details.get("Code", "")),
        str(details.get("Message", "")),
        int(status) if isinstance(status, int) else 400,
    )
