"""CloudFormation custom-resource events in: where to respond, and what was asked.

The ResponseURL is a presigned credential. It lives only in ``ResponseTarget.url`` (which has no
repr) and is never formatted into a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import (
    CloudFormationCustomResourceCreateModel,
    CloudFormationCustomResourceDeleteModel,
    CloudFormationCustomResourceUpdateModel,
)
from pydantic import BaseModel, ValidationError

from ..models.progress import Progress
from .text import short

# The event key under which a handed-over event carries the request's progress.
HANDOVER_KEY = "KinesisStreamEncryptionHandover"

RequestType = Literal["Create", "Update", "Delete"]

_MODELS: dict[str, type[BaseModel]] = {
    "Create": CloudFormationCustomResourceCreateModel,
    "Update": CloudFormationCustomResourceUpdateModel,
    "Delete": CloudFormationCustomResourceDeleteModel,
}


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
    carried_progress: Progress | None  # set when an earlier invocation handed the wait over


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


def event_for_next_invocation(raw: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The event to hand to the next invocation: the original plus the progress it resumes."""
    return {**raw, HANDOVER_KEY: progress.to_json()}


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
        shown = short(request_type) if isinstance(request_type, str) else "missing"
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
        carried_progress=Progress.from_json(raw.get(HANDOVER_KEY)),
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
