"""The drift check use case: list each region's streams, judge ours, log, count, maybe repair.

A check is one pass over the fleet. It hands over (a fresh invocation carrying the cursor) when
the invocation's time is up, and stops when its period is over, so it never overlaps the next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..clock import Clock
from ..dal.streams import DeadlineReached
from ..decisions_drift import (
    Drifted,
    InSync,
    NoKeyTag,
    is_checked_here,
    judge,
    repair_choice,
)
from ..identifiers import parse_stream_arn
from ..models.check import CheckCursor
from ..models.stream import StreamState
from ..time_budget import MIN_USEFUL_HANDOVER_SECONDS, Deadline


class Page(Protocol):
    """One page of the region's streams: (name, ARN) pairs, and whether more follow."""

    @property
    def streams(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def has_more(self) -> bool: ...


class Inventory(Protocol):
    """One region's streams as the check sees them (dal/stream_inventory implements it)."""

    def list_streams(self, after: str | None) -> Page: ...
    def tags(self, arn: str) -> dict[str, str] | None: ...
    def describe(self, arn: str) -> StreamState | None: ...
    def repair(self, arn: str, key_id: str) -> str: ...


class OpenInventory(Protocol):
    def __call__(self, region: str, deadline: Deadline) -> Inventory: ...


@dataclass
class CheckRuntime:
    """What the use case needs from the outside world."""

    function_arn: str
    clock: Clock
    open_inventory: OpenInventory
    log: logging.Logger | Any
    count: Callable[[str, float], None]  # metric name, value
    # Seconds a stream may take (tags + describe + repair, paced); less left: hand over.
    per_stream_seconds: float = 3.0
    refused_errors: tuple[type[Exception], ...] = field(default_factory=tuple)
    listing_errors: tuple[type[Exception], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CheckDone:
    cursor: CheckCursor
    complete: bool  # False: the period ended before every stream was reached


@dataclass(frozen=True)
class CheckHandover:
    cursor: CheckCursor


def run_check(
    cursor: CheckCursor, repair: bool, deadline: Deadline, runtime: CheckRuntime
) -> CheckDone | CheckHandover:
    """Continue the check from ``cursor`` until it is done, the period ends or time runs out."""
    state = _Counts(cursor.checked, cursor.drifted, cursor.repaired)
    region_index, after = cursor.region_index, cursor.after

    def snapshot() -> CheckCursor:
        return cursor.model_copy(
            update={
                "region_index": region_index,
                "after": after,
                "checked": state.checked,
                "drifted": state.drifted,
                "repaired": state.repaired,
            }
        )

    try:
        while region_index < len(cursor.regions):
            region = cursor.regions[region_index]
            inventory = runtime.open_inventory(region, deadline)
            try:
                while True:
                    page = inventory.list_streams(after)
                    for name, arn in page.streams:
                        if runtime.clock.wall() >= cursor.stop_at:
                            return CheckDone(snapshot(), complete=False)
                        if deadline.remaining() < runtime.per_stream_seconds:
                            raise DeadlineReached(None)
                        try:
                            _check_stream(inventory, arn, repair, runtime, state)
                        except runtime.listing_errors as error:
                            runtime.log.error(
                                "The drift check could not read a stream; it goes on",
                                extra={"stream": arn, "error": getattr(error, "reason", "")},
                            )
                            runtime.count("DriftCheckFailed", 1)
                        after = name
                    if not page.has_more:
                        break
            except runtime.listing_errors as error:
                runtime.log.error(
                    "The drift check could not read the streams of a region",
                    extra={"region": region, "error": getattr(error, "reason", str(error))},
                )
                runtime.count("DriftCheckFailed", 1)
            region_index, after = region_index + 1, None
    except DeadlineReached:
        period_left = cursor.stop_at - runtime.clock.wall()
        if period_left < runtime.per_stream_seconds + MIN_USEFUL_HANDOVER_SECONDS:
            return CheckDone(snapshot(), complete=False)
        return CheckHandover(snapshot().model_copy(update={"hop": cursor.hop + 1}))
    return CheckDone(snapshot(), complete=True)


@dataclass
class _Counts:
    checked: int
    drifted: int
    repaired: int


def _check_stream(
    inventory: Inventory, arn: str, repair: bool, runtime: CheckRuntime, counts: _Counts
) -> None:
    log = runtime.log
    tags = inventory.tags(arn)
    if tags is None:
        log.info("A stream went away during the drift check", extra={"stream": arn})
        return
    if not is_checked_here(tags, runtime.function_arn):
        return
    parsed = parse_stream_arn(arn)
    stream_state = inventory.describe(arn)
    if stream_state is None or parsed is None:
        log.info("A stream went away during the drift check", extra={"stream": arn})
        return
    counts.checked += 1
    verdict = judge(tags, stream_state, parsed)
    if isinstance(verdict, NoKeyTag):
        log.info(
            "Stream skipped by the drift check: it has no key tag yet (its next Update adds it)",
            extra={"stream": arn},
        )
        return
    if isinstance(verdict, InSync) or not isinstance(verdict, Drifted):
        return
    counts.drifted += 1
    runtime.count("EncryptionDrift", 1)
    log.warning(
        "Encryption drift: the stream is not encrypted with the key its resource applied",
        extra={
            "stream": arn,
            "expected": f"KMS {verdict.expected}",
            "actual": verdict.actual,
            "owner_stack": verdict.owner_stack or "unknown",
            "owner_resource": verdict.owner_resource or "unknown",
        },
    )
    choice = repair_choice(repair, stream_state)
    if choice == "not-active":
        log.warning(
            "Drift not repaired: the stream is not ACTIVE; the next check looks again",
            extra={"stream": arn, "status": stream_state.status},
        )
    if choice != "repair":
        return
    try:
        result = inventory.repair(arn, verdict.expected)
    except runtime.refused_errors as error:
        runtime.count("EncryptionRepairFailed", 1)
        log.error(
            "Drift repair refused; not retried in this check",
            extra={"stream": arn, "error": getattr(error, "reason", str(error))},
        )
        return
    if result == "accepted":
        counts.repaired += 1
        runtime.count("EncryptionRepaired", 1)
        log.warning(
            "Drift repaired: StartStreamEncryption accepted",
            extra={"stream": arn, "key": verdict.expected},
        )
    else:
        log.warning(
            "Drift repair not confirmed; the next check looks again",
            extra={"stream": arn, "result": result},
        )
