"""Every physical-resource-id rule of the contract (SPEC "Physical resource id"), in one place."""

from __future__ import annotations

import re

from ..identifiers import parse_stream_arn
from ..models.outcome import Outcome
from .events import BadEvent, CfnRequest, ParsedEvent

FAILED_CREATE_PREFIX = "kinesis-stream-encryption-failed-create:"


def failed_create_marker(request_id: str) -> str:
    """The physical id of a Create that failed before any change: visibly not a stream ARN."""
    safe = re.sub(r"[^A-Za-z0-9-]", "", request_id)[:64] or "unknown-request"
    return FAILED_CREATE_PREFIX + safe


def physical_id_for(request: CfnRequest, outcome: Outcome) -> str:
    """The id to answer ``request`` with, given how it ended.

    Delete: always the id CloudFormation sent. Success: the stream's ARN. Failed Update: the id
    CloudFormation sent. Failed Create: the stream ARN if a change may have been applied, so that
    rollback's Delete undoes it, else a marker that is no stream ARN. "May have been applied":
    this request's Progress says a Start was requested, or the stream was last seen in a state an
    earlier, crashed attempt of the same request may have caused (UPDATING, or KMS with the wanted
    key): Lambda's retry of a crashed invocation starts with a fresh Progress and cannot know.
    """
    if request.request_type == "Delete":
        return request.physical_resource_id or ""
    if outcome.succeeded and outcome.stream_arn:
        return outcome.stream_arn
    if request.request_type == "Update" and request.physical_resource_id:
        return request.physical_resource_id
    may_have_changed = outcome.change_requested or outcome.earlier_attempt_may_have_changed
    if may_have_changed and outcome.stream_arn:
        return outcome.stream_arn
    return failed_create_marker(request.request_id)


def physical_id_without_outcome(parsed: ParsedEvent) -> str:
    """For an event that could not be acted on (or a bug): the id sent, else the marker."""
    request = parsed.request
    sent = request.physical_resource_id if isinstance(request, CfnRequest | BadEvent) else None
    if sent:
        return sent
    return failed_create_marker(parsed.target.request_id if parsed.target else "")


def managed_stream_of(request: CfnRequest) -> str | None:
    """The stream an Update's resource already managed: its physical id, when that is a stream
    ARN (ownership: such a stream without owner tags has an unknown prior key)."""
    sent = request.physical_resource_id
    if request.request_type != "Update" or not sent or parse_stream_arn(sent) is None:
        return None
    return sent
