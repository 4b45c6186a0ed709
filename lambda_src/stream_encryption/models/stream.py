"""A stream as DescribeStreamSummary reports it."""

from __future__ import annotations

from dataclasses import dataclass

# Kinesis refuses changes and reports a half-applied encryption while a stream is in these.
SETTLING_STATUSES = frozenset({"CREATING", "UPDATING"})


@dataclass(frozen=True)
class StreamState:
    """What DescribeStreamSummary says about a stream (None fields when Kinesis omits them)."""

    arn: str
    name: str
    status: str
    encryption_type: str
    key_id: str | None

    @property
    def encrypted(self) -> bool:
        return self.encryption_type == "KMS"

    @property
    def settling(self) -> bool:
        return self.status in SETTLING_STATUSES
