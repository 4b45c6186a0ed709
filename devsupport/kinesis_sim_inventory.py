"""The simulator's fleet side, for the drift check: ListStreams paging.

The tags, their calls and their 5-per-second budget are the base simulator's (``set_tags``,
``tags``, ``tag_tps_limit``). This subclass adds:

* ``ListStreams`` paged either as real Kinesis does (names in lexicographic order, default
  ``Limit`` 100, ``NextToken`` and ``HasMoreStreams``, ``ExclusiveStartStreamName`` honoured as
  "names after this one") or as moto 5.2 does (``pagination="moto"``: default ``Limit`` 10, no
  ``NextToken``, ``ExclusiveStartStreamName`` must name a listed stream, and ``StreamSummaries``
  holding every stream whatever the page);
* the account's 5-per-second ListStreams budget, as throttling (``LimitExceededException``
  "Rate exceeded") when a caller goes faster; ``throttle_next``/``fail_next`` work for it.
"""

from __future__ import annotations

import base64
import json
from collections import deque
from typing import Any, Final, Literal

from botocore.model import OperationModel

from devsupport.kinesis_sim import (
    CallRecord,
    KinesisSimulator,
    VirtualClock,
    _ApiError,
    _Fault,
    _respond,
)

INVENTORY_OPERATIONS: Final = ("ListStreams",)
ACCOUNT_TPS: Final = {"ListStreams": 5.0}

Pagination = Literal["kinesis", "moto"]


class FleetSimulator(KinesisSimulator):
    """``KinesisSimulator`` plus listing and tag reads, each within the account's TPS."""

    def __init__(
        self,
        clock: VirtualClock,
        *,
        pagination: Pagination = "kinesis",
        inventory_tps_limits: dict[str, float] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(clock, **options)
        self.pagination = pagination
        self.inventory_tps_limits = dict(
            ACCOUNT_TPS if inventory_tps_limits is None else inventory_tps_limits
        )
        self._inventory_faults: dict[str, deque[_Fault]] = {
            op: deque() for op in INVENTORY_OPERATIONS
        }
        self._inventory_times: dict[str, deque[float]] = {
            op: deque() for op in INVENTORY_OPERATIONS
        }

    # ---- test controls -------------------------------------------------------------------

    # ---- request handling ----------------------------------------------------------------

    def _on_before_call(
        self,
        model: OperationModel,
        params: dict[str, Any],
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if model.name not in INVENTORY_OPERATIONS:
            return super()._on_before_call(model, params, context, **kwargs)
        operation = model.name
        request: dict[str, Any] = json.loads(params.get("body") or b"{}")
        url = str(params.get("url", ""))
        client_region = (context or {}).get("client_region", self.region)
        with self._lock:
            now = self._settle()
            faults = self._inventory_faults[operation]
            fault = faults.popleft() if faults else None
            try:
                if fault is not None:
                    message = fault.message or "Rate exceeded for the account."
                    raise _ApiError(fault.code, message, fault.status)
                self._within_tps(operation, now)
                result = self._list_streams(request, client_region)
            except _ApiError as err:
                self._calls.append(CallRecord(operation, dict(request), now, err.code))
                return _respond(
                    model, err.status, {"__type": err.code, "message": err.message}, url
                )
            self._calls.append(CallRecord(operation, dict(request), now, "OK"))
        return _respond(model, 200, result, url)

    def _within_tps(self, operation: str, now: float) -> None:
        limit = self.inventory_tps_limits.get(operation)
        if limit is None:
            return
        times = self._inventory_times[operation]
        while times and times[0] <= now - 1.0:
            times.popleft()
        if len(times) >= limit:
            raise _ApiError(
                "LimitExceededException",
                f"Rate exceeded for {operation} under account {self.account_id}.",
            )
        times.append(now)

    def _list_streams(self, request: dict[str, Any], region: str) -> dict[str, Any]:
        names = [] if region != self.region else list(self._streams)
        if self.pagination == "moto":
            return self._list_streams_moto(request, names)
        names.sort()
        limit = int(request.get("Limit") or 100)
        if not 1 <= limit <= 10_000:
            raise _ApiError("ValidationException", "Limit must be between 1 and 10000.")
        token, start_name = request.get("NextToken"), request.get("ExclusiveStartStreamName")
        if token is not None and start_name is not None:
            raise _ApiError(
                "InvalidArgumentException", "NextToken and ExclusiveStartStreamName together."
            )
        if token is not None:
            start_name = base64.b64decode(token).decode()
        if start_name is not None:
            names = [n for n in names if n > start_name]
        page, more = names[:limit], len(names) > limit
        reply: dict[str, Any] = {
            "StreamNames": page,
            "HasMoreStreams": more,
            "StreamSummaries": [self._summary(n) for n in page],
        }
        if more:
            reply["NextToken"] = base64.b64encode(page[-1].encode()).decode()
        return reply

    def _list_streams_moto(self, request: dict[str, Any], names: list[str]) -> dict[str, Any]:
        limit = int(request.get("Limit") or 10)
        start_name = request.get("ExclusiveStartStreamName")
        if start_name:
            if start_name not in names:
                raise _ApiError("InternalFailure", "moto: ExclusiveStartStreamName not found", 500)
            start = names.index(start_name) + 1
        else:
            start = 0
        return {
            "StreamNames": names[start : start + limit],
            "HasMoreStreams": start + limit < len(names),
            "StreamSummaries": [self._summary(n) for n in names],
        }

    def _summary(self, name: str) -> dict[str, Any]:
        s = self._streams[name]
        return {
            "StreamName": s.name,
            "StreamARN": s.arn,
            "StreamStatus": s.status,
            "StreamModeDetails": {"StreamMode": s.mode},
            "StreamCreationTimestamp": s.created_wall,
        }

    def _queue_fault(self, operation: str, fault: _Fault, count: int) -> None:
        """``throttle_next``/``fail_next`` of the base class, for ListStreams too."""
        if operation not in INVENTORY_OPERATIONS:
            super()._queue_fault(operation, fault, count)
            return
        with self._lock:
            self._inventory_faults[operation].extend([fault] * count)
