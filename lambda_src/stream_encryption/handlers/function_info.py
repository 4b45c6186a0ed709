"""What the function needs from its Lambda context (Powertools reads the rest for its log keys)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ..models.place import FunctionPlace

# When a context cannot tell its remaining time, assume a short invocation.
DEFAULT_REMAINING_SECONDS = 60.0


@dataclass(frozen=True)
class FunctionInfo:
    """The function's ARN and place, where its logs are, and its remaining time, read defensively
    (an event may come with a context that lacks any attribute)."""

    arn: str
    place: FunctionPlace
    log_hint: str
    remaining_seconds: Callable[[], float]

    @classmethod
    def from_context(cls, context: object) -> FunctionInfo:
        arn = getattr(context, "invoked_function_arn", "")
        arn = arn if isinstance(arn, str) else ""
        parts = arn.split(":")
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        region = env_region or "us-east-1"
        partition, account = "aws", "unknown"
        if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda":
            partition, region, account = parts[1], parts[3] or region, parts[4] or account
        group = getattr(context, "log_group_name", None)
        stream = getattr(context, "log_stream_name", None)
        if isinstance(group, str) and isinstance(stream, str):
            hint = f"Details: CloudWatch Logs group {group}, stream {stream}."
        else:
            hint = "Details: the function's CloudWatch Logs."
        remaining = getattr(context, "get_remaining_time_in_millis", None)

        def remaining_seconds() -> float:
            if callable(remaining):
                try:
                    return float(remaining()) / 1000.0
                except (TypeError, ValueError):
                    pass
            return DEFAULT_REMAINING_SECONDS

        return cls(arn, FunctionPlace(partition, region, account), hint, remaining_seconds)
