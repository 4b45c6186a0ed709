"""The CloudFormation custom-resource protocol: typed requests in, one size-limited response out.

The ResponseURL is a presigned credential. It lives only in ``ResponseTarget.url`` (which has no
repr) and is never formatted into a message: errors from the PUT are reported by type and status.
"""

from __future__ import annotations

import json
import random
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import (
    CloudFormationCustomResourceCreateModel,
    CloudFormationCustomResourceDeleteModel,
    CloudFormationCustomResourceUpdateModel,
)
from pydantic import BaseModel, ValidationError

from .clock import Clock

MAX_BODY_BYTES = 4096
MAX_PHYSICAL_ID_LENGTH = 1024
HANDOVER_KEY = "KinesisStreamEncryptionHandover"
FAILED_CREATE_PREFIX = "kinesis-stream-encryption-failed-create:"

RequestType = Literal["Create", "Update", "Delete"]
Status = Literal["SUCCESS", "FAILED"]

_MODELS: dict[str, type[BaseModel]] = {
    "Create": CloudFormationCustomResourceCreateModel,
    "Update": CloudFormationCustomResourceUpdateModel,
    "Delete": CloudFormationCustomResourceDeleteModel,
}
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class HandoverState:
    """What one invocation tells the next when it hands a long wait over."""

    first_received_at: float
    hop: int
    change_accepted: bool
    change_requested: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "firstReceivedAt": self.first_received_at,
            "hop": self.hop,
            "changeAccepted": self.change_accepted,
            "changeRequested": self.change_requested,
        }

    @classmethod
    def from_json(cls, value: object) -> HandoverState | None:
        """The carried state, or None when absent or not ours (then the request starts afresh)."""
        if not isinstance(value, dict) or value.get("version") != 1:
            return None
        first, hop = value.get("firstReceivedAt"), value.get("hop")
        started, requested = value.get("changeAccepted"), value.get("changeRequested")
        if (
            isinstance(first, int | float)
            and not isinstance(first, bool)
            and isinstance(hop, int)
            and not isinstance(hop, bool)
            and isinstance(started, bool)
            and isinstance(requested, bool)
        ):
            return cls(float(first), hop, started, requested)
        return None


@dataclass(frozen=True)
class CfnRequest:
    """A validated custom-resource request; what business logic sees instead of the raw event."""

    request_type: RequestType
    stack_id: str
    request_id: str
    logical_resource_id: str
    resource_type: str
    physical_resource_id: str | None
    properties: dict[str, Any] | None
    old_properties: dict[str, Any] | None
    handover: HandoverState | None


@dataclass(frozen=True)
class ResponseTarget:
    """Where and for what the response goes. ``url`` is a secret: never log or format it."""

    url: str = field(repr=False)
    stack_id: str
    request_id: str
    logical_resource_id: str


@dataclass(frozen=True)
class BadEvent:
    """An event that cannot be acted on; ``reason`` names the problem, never echoes values."""

    reason: str
    request_type: str | None
    physical_resource_id: str | None


@dataclass(frozen=True)
class ParsedEvent:
    target: ResponseTarget | None
    request: CfnRequest | BadEvent

    def for_resending(self, raw: dict[str, Any], state: HandoverState) -> dict[str, Any]:
        """The event to hand to the next invocation: the original plus the carried state."""
        return {**raw, HANDOVER_KEY: state.to_json()}


def parse_event(raw: object) -> ParsedEvent:
    """Split an event into where to respond and what was asked, without trusting any field."""
    if not isinstance(raw, dict):
        return ParsedEvent(None, BadEvent("the event is not a JSON object", None, None))
    target = _response_target(raw)
    request_type = raw.get("RequestType")
    physical_id = raw.get("PhysicalResourceId")
    physical_id = physical_id if isinstance(physical_id, str) else None
    model = _MODELS.get(request_type) if isinstance(request_type, str) else None
    if model is None:
        shown = _short(request_type) if isinstance(request_type, str) else "missing"
        reason = f"RequestType {shown} is not one of Create, Update, Delete"
        return ParsedEvent(target, BadEvent(reason, None, physical_id))
    try:
        parsed = model.model_validate(raw)
    except ValidationError as error:
        problems = sorted(
            {
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
                for item in error.errors(include_input=False, include_url=False)
            }
        )
        reason = "Malformed CloudFormation event: " + "; ".join(problems)
        return ParsedEvent(target, BadEvent(reason, request_type, physical_id))
    properties = raw.get("ResourceProperties")
    old_properties = raw.get("OldResourceProperties")
    request = CfnRequest(
        request_type=request_type,  # type: ignore[arg-type]  # narrowed by the model lookup
        stack_id=str(getattr(parsed, "stack_id", "")),
        request_id=str(getattr(parsed, "request_id", "")),
        logical_resource_id=str(getattr(parsed, "logical_resource_id", "")),
        resource_type=str(getattr(parsed, "resource_type", "")),
        physical_resource_id=physical_id,
        properties=properties if isinstance(properties, dict) else None,
        old_properties=old_properties if isinstance(old_properties, dict) else None,
        handover=HandoverState.from_json(raw.get(HANDOVER_KEY)),
    )
    return ParsedEvent(target, request)


def _response_target(raw: dict[str, Any]) -> ResponseTarget | None:
    url = raw.get("ResponseURL")
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        return None
    return ResponseTarget(
        url=url,
        stack_id=_echo(raw.get("StackId")),
        request_id=_echo(raw.get("RequestId")),
        logical_resource_id=_echo(raw.get("LogicalResourceId")),
    )


def _echo(value: object) -> str:
    return value if isinstance(value, str) else ""


def failed_create_marker(request_id: str) -> str:
    """The physical id of a Create that failed before any change: visibly not a stream ARN."""
    safe = re.sub(r"[^A-Za-z0-9-]", "", request_id)[:64] or "unknown-request"
    return FAILED_CREATE_PREFIX + safe


def clean_text(text: str) -> str:
    """Reason text without control characters (CloudFormation shows it in the console)."""
    return _CONTROL_CHARACTERS.sub(" ", text).strip()


def build_body(
    target: ResponseTarget,
    *,
    status: Status,
    reason: str,
    physical_resource_id: str,
    data: dict[str, str] | None = None,
    log_hint: str = "",
) -> bytes:
    """The response document, always within CloudFormation's 4096-byte limit.

    The reason is cleaned and shortened first (keeping the pointer to the logs); if the body still
    does not fit, Data is dropped and the response becomes FAILED, since a truncated attribute would
    be a silent lie.
    """
    physical_id = clean_text(physical_resource_id)[:MAX_PHYSICAL_ID_LENGTH] or "unknown"
    message = redact(clean_text(reason), target.url)
    suffix = f" {clean_text(log_hint)}" if log_hint else ""
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
    encoded = _encode({**body, "Reason": message + suffix})
    if len(encoded) <= MAX_BODY_BYTES:
        return encoded
    low, high = 0, len(message)
    while low < high:  # longest prefix of the message that fits
        middle = (low + high + 1) // 2
        if len(_encode({**body, "Reason": message[:middle] + "..." + suffix})) <= MAX_BODY_BYTES:
            low = middle
        else:
            high = middle - 1
    encoded = _encode({**body, "Reason": message[:low] + "..." + suffix})
    limit = 900
    while len(encoded) > MAX_BODY_BYTES:  # echoed ids alone are oversized: not a real CFN event
        echoed = ("StackId", "RequestId", "LogicalResourceId", "PhysicalResourceId")
        capped = {name: str(body[name])[:limit] for name in echoed}
        encoded = _encode({**body, **capped, "Reason": "...", "Status": "FAILED"})
        limit //= 2
    return encoded


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def redact(text: str, url: str) -> str:
    """``text`` with the ResponseURL and its query string (the signature) cut out."""
    query = url.partition("?")[2]
    for secret in (url, query):
        if secret and secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def _short(text: str, limit: int = 60) -> str:
    text = clean_text(text)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


@dataclass(frozen=True)
class SendResult:
    """How delivering the response went; safe to log (no URL)."""

    accepted: bool
    attempts: int
    status_code: int | None
    error: str | None


Opener = Callable[[urllib.request.Request, float], Any]


def _default_opener(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (scheme checked)


def send_response(
    target: ResponseTarget,
    body: bytes,
    *,
    clock: Clock,
    time_left: Callable[[], float],
    opener: Opener = _default_opener,
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
        request = urllib.request.Request(  # noqa: S310 (scheme checked in _response_target)
            target.url,
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with opener(request, timeout) as response:
                status = int(response.status)
            if 200 <= status < 300:
                return SendResult(True, attempt, status, None)
            error = f"HTTP {status}"
        except urllib.error.HTTPError as http_error:
            status, error = http_error.code, f"HTTP {http_error.code}"
            http_error.close()
        except (TimeoutError, urllib.error.URLError, OSError, ValueError) as network_error:
            # Only the type: some of these messages quote the URL.
            status, error = None, type(network_error).__name__
            if isinstance(network_error, ValueError) and not isinstance(network_error, OSError):
                break  # a malformed URL will not get better
        if status is not None and status < 500:
            break
        if attempt < max_attempts:
            pause = min(8.0, 0.5 * 2 ** (attempt - 1)) * rng.uniform(0.5, 1.0)
            if time_left() - pause < 1.0:
                break
            clock.sleep(pause)
    return SendResult(False, attempt, status, error)
