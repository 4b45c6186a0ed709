"""The ownership tags on a stream: ListTagsForStream / AddTagsToStream / RemoveTagsFromStream.

Tag calls share a small budget (ListTagsForStream and AddTagsToStream: 5 per second per account),
so throttling is retried with jittered backoff within the request's deadline. Tag writes are
idempotent (same keys, same values), so a lost answer is simply repeated. Anything that keeps the
tags from being read or written becomes ``TaggingRefused``: the caller encrypts anyway and says
ownership was not recorded.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ..clock import Clock
from ..identifiers import StreamArn
from ..time_budget import Deadline
from .kinesis import RETRY_FIRST_SECONDS, Backoff
from .streams import DeadlineReached

T = TypeVar("T")

# Kinesis answers a tag call over the account's rate with LimitExceededException.
_RETRIED_CODES = frozenset(
    {
        "LimitExceededException",
        "ThrottlingException",
        "ResourceInUseException",
        "InternalFailure",
        "InternalFailureException",
        "ServiceUnavailable",
    }
)
_PAGE_LIMIT = 50
# Tag calls share 5 per second per account with every other tagger: back off further than the
# Describe retries do (full jitter up to this), so a crowd of Creates does not hammer the budget.
TAG_RETRY_CAP_SECONDS = 10.0


class TaggingRefused(Exception):
    """The tags could not be read or written; ``reason`` says why, for the Reason and the log."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class StreamTags(Protocol):
    """Reads and changes the tags of one stream, bounded by the deadline it was opened with."""

    def read(self, stream: StreamArn) -> dict[str, str]:
        """Every tag of the stream."""
        ...

    def write(self, stream: StreamArn, tags: Mapping[str, str]) -> None:
        """Add or overwrite ``tags``."""
        ...

    def remove(self, stream: StreamArn, keys: list[str]) -> None:
        """Remove ``keys`` (absent ones are no error)."""
        ...


class OpenStreamTags(Protocol):
    """Opens the tag calls of a region for one request's deadline and IAM grace."""

    def __call__(
        self, region: str, deadline: Deadline, *, access_denied_grace_until: float
    ) -> StreamTags: ...


class TaggingClient(Protocol):
    """The three tag operations (a boto3 Kinesis client satisfies it)."""

    def list_tags_for_stream(self, **kwargs: Any) -> Any: ...
    def add_tags_to_stream(self, **kwargs: Any) -> Any: ...
    def remove_tags_from_stream(self, **kwargs: Any) -> Any: ...


class KinesisTagging:
    """Kinesis' tag calls for one request; the one implementation of ``StreamTags``."""

    def __init__(
        self,
        client: TaggingClient,
        clock: Clock,
        deadline: Deadline,
        *,
        rng: random.Random | None = None,
        access_denied_grace_until: float = 0.0,
    ) -> None:
        self._client = client
        self._clock = clock
        self._deadline = deadline
        self._rng = rng or random.Random()
        self._access_denied_grace_until = access_denied_grace_until

    def read(self, stream: StreamArn) -> dict[str, str]:
        tags: dict[str, str] = {}
        start_after: str | None = None
        while True:
            params: dict[str, Any] = {"StreamARN": stream.arn, "Limit": _PAGE_LIMIT}
            if start_after is not None:
                params["ExclusiveStartTagKey"] = start_after
            page = self._call(
                "ListTagsForStream", stream, partial(self._client.list_tags_for_stream, **params)
            )
            batch = page.get("Tags") or []
            tags.update({tag["Key"]: tag.get("Value", "") for tag in batch})
            if not page.get("HasMoreTags") or not batch:
                return tags
            start_after = batch[-1]["Key"]

    def write(self, stream: StreamArn, tags: Mapping[str, str]) -> None:
        self._call(
            "AddTagsToStream",
            stream,
            lambda: self._client.add_tags_to_stream(StreamARN=stream.arn, Tags=dict(tags)),
        )

    def remove(self, stream: StreamArn, keys: list[str]) -> None:
        if keys:
            self._call(
                "RemoveTagsFromStream",
                stream,
                lambda: self._client.remove_tags_from_stream(StreamARN=stream.arn, TagKeys=keys),
            )

    def _call(self, operation: str, stream: StreamArn, call: Callable[[], T]) -> T:
        backoff = Backoff(RETRY_FIRST_SECONDS, 2.0, TAG_RETRY_CAP_SECONDS, self._rng)
        while True:
            try:
                return call()
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                message = str(error.response.get("Error", {}).get("Message", ""))
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
                retried = code in _RETRIED_CODES or (isinstance(status, int) and status >= 500)
                in_grace = code == "AccessDeniedException" and (
                    self._clock.now() < self._access_denied_grace_until
                )
                if not (retried or in_grace):
                    raise TaggingRefused(_refusal(operation, code, message, stream), code) from None
            except ParamValidationError as error:  # e.g. a value longer than a tag may hold
                raise TaggingRefused(
                    f"kinesis:{operation} on {stream.arn} was not sent: {error}", "ParamValidation"
                ) from None
            except (BotocoreConnectionError, HTTPClientError):
                pass  # tag calls are idempotent: repeat
            self._pause(backoff.next())

    def _pause(self, seconds: float) -> None:
        if self._deadline.remaining() < seconds:
            raise DeadlineReached(None)
        self._clock.sleep(seconds)


def _refusal(operation: str, code: str, message: str, stream: StreamArn) -> str:
    said = f"{code}: {message}" if message else code
    if code == "AccessDeniedException":
        return (
            f"kinesis:{operation} on {stream.arn} was denied ({said}); grant it to the "
            "function's role on that stream, and check tag policies and SCPs"
        )
    return f"kinesis:{operation} on {stream.arn} failed ({said})"
