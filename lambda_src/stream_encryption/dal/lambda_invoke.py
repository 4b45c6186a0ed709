"""The Lambda adapter: this function invoking itself asynchronously to hand a wait over.

An asynchronous Invoke is accepted when Lambda answers 202 (the event is queued); any other answer
means it was not queued. What matters is the case with no answer: a read timeout or a connection
dropped after the request was sent leaves the outcome unknown, and a retry could start a second
chain of invocations for the same request. So only failures that prove nothing was queued are
retried (the connection was never made; Lambda answered with an error such as 429
TooManyRequests or a 5xx), and an unknown outcome is reported as such, never retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ProxyConnectionError,
)

ASYNC_ACCEPTED = 202
MAX_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.3
# Lambda answered, so it did not queue the event; these say "try again", the rest "never".
_RETRYABLE_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ServiceException",
        "EC2ThrottledException",
        "ResourceNotReadyException",
        "ResourceConflictException",
    }
)


class LambdaClient(Protocol):
    """The one operation we use (a boto3 Lambda client satisfies it)."""

    def invoke(self, **kwargs: Any) -> Any: ...


class HandOverFailed(Exception):
    """Lambda did not take the event; ``cause`` names why without quoting the payload."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class HandOverUnknown(Exception):
    """The Invoke was sent but no answer came back: a fresh invocation may or may not be queued.

    ``cause`` names the error type only (messages may quote the payload).
    """

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def invoke_async(
    client: LambdaClient,
    function_arn: str,
    event: dict[str, Any],
    *,
    sleep: Callable[[float], None],
    time_left: Callable[[], float],
) -> None:
    """Queue ``event`` for a fresh invocation of ``function_arn``.

    Raises HandOverFailed when it certainly was not queued, HandOverUnknown when it may have been.
    The client must not retry on its own (the handler builds it with a single attempt): botocore
    would retry a read timeout, the one case that must not be retried.
    """
    if not function_arn:
        raise HandOverFailed("the context has no invoked_function_arn")
    payload = json.dumps(event).encode()
    attempt = 0
    while True:
        attempt += 1
        try:
            reply = client.invoke(
                FunctionName=function_arn, InvocationType="Event", Payload=payload
            )
        except (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError) as error:
            cause = type(error).__name__  # never connected: nothing was sent
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            cause = f"{code or 'error'} (HTTP {status})"
            retryable = code in _RETRYABLE_CODES or (isinstance(status, int) and status >= 500)
            if not retryable:
                raise HandOverFailed(cause) from None
        except Exception as error:  # sent, no answer: read timeout, reset, anything else
            raise HandOverUnknown(type(error).__name__) from None
        else:
            status = int(reply.get("StatusCode", 0))
            if status == ASYNC_ACCEPTED:
                return
            raise HandOverFailed(f"Lambda answered {status} to the asynchronous invoke")
        if attempt >= MAX_ATTEMPTS or time_left() < 2 * RETRY_PAUSE_SECONDS * attempt:
            raise HandOverFailed(cause)
        sleep(RETRY_PAUSE_SECONDS * attempt)
