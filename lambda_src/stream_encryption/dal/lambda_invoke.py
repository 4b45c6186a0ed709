"""The Lambda adapter: this function invoking itself asynchronously to hand a wait over."""

from __future__ import annotations

import json
from typing import Any, Protocol

ASYNC_ACCEPTED = 202


class LambdaClient(Protocol):
    """The one operation we use (a boto3 Lambda client satisfies it)."""

    def invoke(self, **kwargs: Any) -> Any: ...


class HandOverFailed(Exception):
    """Lambda did not take the event; ``cause`` names why without quoting the payload."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def invoke_async(client: LambdaClient, function_arn: str, event: dict[str, Any]) -> None:
    """Queue ``event`` for a fresh invocation of ``function_arn``; HandOverFailed if refused.

    The payload carries the ResponseURL: errors are reported by type only, never by message.
    """
    if not function_arn:
        raise HandOverFailed("the context has no invoked_function_arn")
    try:
        reply = client.invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event).encode()
        )
    except Exception as error:
        raise HandOverFailed(type(error).__name__) from None
    status = int(reply.get("StatusCode", 0))
    if status != ASYNC_ACCEPTED:
        raise HandOverFailed(f"Lambda answered {status} to the asynchronous invoke")
