"""Where the function runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionPlace:
    """The function's partition, region and account: a StreamName means a stream there."""

    partition: str
    region: str
    account: str
