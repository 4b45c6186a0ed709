"""The drift check's edge: recognise its event, read its settings, run it, hand it over.

Settings come from the function's environment (set by the construct or the packaged template):
``DRIFT_CHECK_REGIONS`` (comma-separated; default the function's region) and
``DRIFT_CHECK_PERIOD_SECONDS`` (the schedule's period) or ``DRIFT_CHECK_SCHEDULE`` (its rate
expression, as the packaged template passes it); default an hour.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ..dal.lambda_invoke import HandOverFailed, HandOverUnknown, invoke_async
from ..dal.stream_inventory import InventoryError, Pacer, RepairRefused, StreamInventory
from ..logic.drift_check import CheckDone, CheckRuntime, run_check
from ..models.check import CHECK_EVENT_KEY, CheckCursor, CheckEvent
from ..time_budget import Deadline, TimeBudget
from .function_info import FunctionInfo

if TYPE_CHECKING:
    from .invocation import Dependencies

REGIONS_ENV = "DRIFT_CHECK_REGIONS"
PERIOD_ENV = "DRIFT_CHECK_PERIOD_SECONDS"
SCHEDULE_ENV = "DRIFT_CHECK_SCHEDULE"
_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_UNIT_SECONDS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
DEFAULT_PERIOD_SECONDS = 3600.0


def stop_margin(period: float) -> float:
    """Stop this long before the period ends: the next scheduled check may come a little early."""
    return min(60.0, 0.1 * period)


def check_settings(environ: Mapping[str, str], own_region: str) -> tuple[tuple[str, ...], float]:
    """The regions served and the schedule's period, from the environment."""
    regions = tuple(r.strip() for r in environ.get(REGIONS_ENV, "").split(",") if r.strip())
    period = _rate_seconds(environ.get(SCHEDULE_ENV, ""))
    with contextlib.suppress(ValueError):
        period = float(environ.get(PERIOD_ENV, "") or period)
    return regions or (own_region,), period if period > 0 else DEFAULT_PERIOD_SECONDS


def _rate_seconds(expression: str) -> float:
    """Seconds of an EventBridge ``rate(N unit)`` expression; the default for anything else."""
    match = _RATE.match(expression.strip())
    if match is None:
        return DEFAULT_PERIOD_SECONDS
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def process_check(raw: dict[str, object], context: object, deps: Dependencies) -> None:
    """Run (or continue) one drift check. Nothing is sent anywhere but logs, metrics, Kinesis
    and, for a hand-over, Lambda."""
    log = deps.logger
    try:
        event = CheckEvent.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        log.error("Refused a malformed drift check event", extra={"fields": fields})
        return
    info = FunctionInfo.from_context(context)
    clock = deps.clock
    cursor = event.cursor
    if cursor is None:
        regions, period = check_settings(os.environ, info.place.region)
        started = clock.wall()
        cursor = CheckCursor(
            started_at=started, stop_at=started + period - stop_margin(period), regions=regions
        )
    else:
        log.info("Continuing a handed-over drift check", extra={"hop": cursor.hop})
    if clock.wall() >= cursor.stop_at:
        deps.metrics.add_metric(name="DriftCheckIncomplete", unit="Count", value=1)
        log.warning("Drift check dropped: its period is over and the next check has begun")
        return
    budget = TimeBudget(clock, info.remaining_seconds)
    deadline = budget.deadline_before(cursor.stop_at)

    def open_inventory(region: str, deadline: Deadline) -> StreamInventory:
        return StreamInventory(
            deps.kinesis_client(region),  # type: ignore[arg-type]  # the boto3 client has them all
            clock,
            deadline,
            region=region,
            account=info.place.account,
            partition=info.place.partition,
            pacer=Pacer(clock, continuing=cursor.hop > 0),
            rng=deps.rng,
        )

    runtime = CheckRuntime(
        function_arn=info.arn,
        clock=clock,
        open_inventory=open_inventory,
        log=log,
        count=lambda name, value: deps.metrics.add_metric(name=name, unit="Count", value=value),
        refused_errors=(RepairRefused,),
        listing_errors=(InventoryError,),
    )
    result = run_check(cursor, event.repair, deadline, runtime)
    summary = {
        "checked": result.cursor.checked,
        "drifted": result.cursor.drifted,
        "repaired": result.cursor.repaired,
        "hop": result.cursor.hop,
    }
    if isinstance(result, CheckDone):
        if result.complete:
            log.info("Drift check complete", extra=summary)
        else:
            deps.metrics.add_metric(name="DriftCheckIncomplete", unit="Count", value=1)
            log.warning(
                "Drift check stopped at the end of its period before reaching every stream",
                extra=summary,
            )
        return
    next_event = CheckEvent.model_validate(
        {CHECK_EVENT_KEY: "check", "repair": event.repair, "cursor": result.cursor}
    ).to_event()
    try:
        invoke_async(
            deps.lambda_client(info.place.region),
            info.arn,
            next_event,
            sleep=clock.sleep,
            time_left=budget.response_window(),
        )
    except HandOverUnknown as unknown:
        # Not invoked again: a second chain would check the same streams twice.
        deps.metrics.add_metric(name="HandOverUnknown", unit="Count", value=1)
        log.error(
            "The drift check's hand-over got no answer: it may or may not go on",
            extra={"error": unknown.cause, **summary},
        )
        return
    except HandOverFailed as failed:
        deps.metrics.add_metric(name="DriftCheckIncomplete", unit="Count", value=1)
        log.error(
            "Could not hand the drift check over; the next scheduled check starts afresh",
            extra={"error": failed.cause, **summary},
        )
        return
    deps.metrics.add_metric(name="HandedOver", unit="Count", value=1)
    log.info("Handed the drift check over to a fresh invocation", extra=summary)
