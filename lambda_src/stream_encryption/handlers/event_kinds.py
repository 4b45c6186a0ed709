"""Which kind of event this is: a CloudFormation request, a drift check, or neither.

Kept apart from ``check`` so that a CloudFormation request does not import the drift check's
modules at cold start.
"""

from __future__ import annotations

from typing import Literal

from ..models.check import CHECK_EVENT_KEY

EventKind = Literal["cloudformation", "check", "other"]


def classify_event(raw: object) -> EventKind:
    """A drift check (by its key), a CloudFormation request (by its keys), or neither."""
    if not isinstance(raw, dict):
        return "other"
    if CHECK_EVENT_KEY in raw:
        return "check"
    if "RequestType" in raw or "ResponseURL" in raw:
        return "cloudformation"
    return "other"
