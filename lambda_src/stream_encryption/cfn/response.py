"""The response to CloudFormation: one size-limited document, PUT to the presigned ResponseURL.

The ResponseURL is a credential: errors from the PUT are reported by type and status, never by
message (some quote the URL).
"""

from __future__ import annotations

import http.client
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..clock import Clock
from .events import ResponseTarget
from .text import clean_text, redact

MAX_BODY_BYTES = 4096
MAX_PHYSICAL_ID_LENGTH = 1024
# A log group plus a log stream name fit easily; a longer hint would crowd out everything else.
MAX_LOG_HINT_BYTES = 1200
# Echoed ids are cut to this first when they alone overflow, then to half as much, and so on.
FIRST_ECHO_CAP = 900

Status = Literal["SUCCESS", "FAILED"]


@dataclass(frozen=True)
class Response:
    """The response document as sent (``encoded``) and its fields worth logging."""

    status: Status
    reason: str
    physical_resource_id: str
    encoded: bytes = field(repr=False)


def compose_response(
    target: ResponseTarget,
    *,
    status: Status,
    reason: str,
    physical_resource_id: str,
    data: dict[str, str] | None = None,
    log_hint: str = "",
) -> Response:
    """The response document, always within CloudFormation's 4096-byte limit.

    The reason is cleaned and shortened first (keeping the pointer to the logs); if the body still
    does not fit, Data is dropped and the response becomes FAILED, since a truncated attribute would
    be a silent lie. Echoed ids too long to fit (no real CloudFormation event has them) are cut,
    and the Reason still names the log stream.
    """
    physical_id = clean_text(physical_resource_id)[:MAX_PHYSICAL_ID_LENGTH] or "unknown"
    message = redact(clean_text(reason), target.url)
    suffix = _bounded_hint(log_hint)
    body: dict[str, Any] = {
        "Status": status,
        "Reason": "",
        "PhysicalResourceId": physical_id,
        "StackId": target.stack_id,
        "RequestId": target.request_id,
        "LogicalResourceId": target.logical_resource_id,
        "NoEcho": False,
    }
    if data:
        body["Data"] = data
    if len(_encode({**body, "Reason": suffix})) > MAX_BODY_BYTES and data:
        body.pop("Data")
        body["Status"] = "FAILED"
        message = "The response attributes do not fit CloudFormation's 4096-byte limit. " + message
    body["Reason"] = message + suffix
    if len(_encode(body)) > MAX_BODY_BYTES:
        body["Reason"] = _longest_fitting_reason(body, message, suffix)
    limit = FIRST_ECHO_CAP
    while len(_encode(body)) > MAX_BODY_BYTES:  # echoed ids alone are oversized
        # Not a real CloudFormation event (its ids fit). The status stays the outcome's: a Delete
        # is never answered FAILED.
        for name in ("StackId", "RequestId", "LogicalResourceId", "PhysicalResourceId"):
            body[name] = str(body[name])[:limit]
        body["Reason"] = "..." + suffix
        limit //= 2
    return Response(body["Status"], body["Reason"], body["PhysicalResourceId"], _encode(body))


def _bounded_hint(log_hint: str) -> str:
    """The pointer to the logs, as the Reason's tail; bounded so that it always fits."""
    hint = clean_text(log_hint)
    while len(json.dumps(hint)) > MAX_LOG_HINT_BYTES:
        hint = hint[: len(hint) // 2]
    return f" {hint}" if hint else ""


def _longest_fitting_reason(body: dict[str, Any], message: str, suffix: str) -> str:
    """The message cut (by binary search) to the longest prefix that fits, then the log hint."""
    low, high = 0, len(message)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_encode({**body, "Reason": message[:middle] + "..." + suffix})) <= MAX_BODY_BYTES:
            low = middle
        else:
            high = middle - 1
    return message[:low] + "..." + suffix


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SendResult:
    """How delivering the response went; safe to log (no URL)."""

    accepted: bool
    attempts: int
    status_code: int | None
    error: str | None


Opener = Callable[[urllib.request.Request, float], Any]


def default_opener(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (scheme checked)


def send_response(
    target: ResponseTarget,
    body: bytes,
    *,
    clock: Clock,
    time_left: Callable[[], float],
    opener: Opener = default_opener,
    max_attempts: int = 6,
    rng: random.Random | None = None,
) -> SendResult:
    """PUT ``body`` to the ResponseURL exactly as given; retry connection errors and 5xx.

    A 2xx is the only success. 3xx/4xx are final failures (a presigned URL does not heal); 5xx and
    network errors are retried with jittered backoff while the invocation has time left.
    """
    rng = rng or random.Random()
    status: int | None = None
    error: str | None = None
    attempt = 0
    for attempt in range(1, max_attempts + 1):
        # The first attempt is always made, even late: an answer beats a stack left hanging.
        timeout = max(1.0, min(10.0, time_left() - 0.2))
        try:
            request = urllib.request.Request(  # noqa: S310 (scheme checked in _response_target)
                target.url,
                data=body,
                method="PUT",
                headers={"Content-Type": "", "Content-Length": str(len(body))},
            )
            with opener(request, timeout) as response:
                status = int(response.status)
            if 200 <= status < 300:
                return SendResult(True, attempt, status, None)
            error = f"HTTP {status}"
        except Exception as failure:  # none may escape: the stack would wait until ServiceTimeout
            status, error, transient = _classify_put_failure(failure)
            if not transient:
                break
        if status is not None and status < 500:
            break
        if attempt < max_attempts:
            pause = min(8.0, 0.5 * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.0)
            if time_left() - pause < 1.0:
                break
            clock.sleep(pause)
    return SendResult(False, attempt, status, error)


def _classify_put_failure(failure: Exception) -> tuple[int | None, str, bool]:
    """(status, what to log, whether another attempt may succeed) for a PUT that raised.

    Only types and status codes are kept: messages of URL, HTTP and socket errors can quote the
    presigned URL. Connection-level failures (refused, reset, timeout, a garbled or cut-short
    reply: ``http.client.HTTPException``) are transient, and S3 overwrites a repeated PUT, so
    retrying is safe. A URL that cannot be parsed or sent (``InvalidURL``, ``ValueError``) and any
    other exception will not get better by retrying.
    """
    name = type(failure).__name__
    if isinstance(failure, urllib.error.HTTPError):
        failure.close()
        return failure.code, f"HTTP {failure.code}", failure.code >= 500
    if isinstance(failure, http.client.InvalidURL):
        return None, name, False
    if isinstance(failure, TimeoutError | urllib.error.URLError | OSError):
        return None, name, True
    if isinstance(failure, http.client.HTTPException):
        return None, name, True
    return None, name, False
