"""A Kinesis SSE behaviour simulator that plugs into a real boto3 client, driven by virtual time.

Why: moto never shows UPDATING, never checks KMS keys and never throttles, so the waiting, retrying
and error-reporting paths of the custom resource cannot be exercised against it. This simulator
short-circuits a real botocore client at ``before-call``: botocore's parameter validation,
serialization and endpoint resolution run for real, and responses (success and error) are parsed
by botocore's own JSON parser from wire-format bodies, so modeled exceptions
(``client.exceptions.ResourceInUseException`` ...) are the real ones.

Modelling choices where Kinesis is undocumented (conservative for the code under test):

* New ``EncryptionType``/``KeyId`` become visible in DescribeStreamSummary only when the stream is
  ACTIVE again; during UPDATING the old values are shown.
* ``KeyId`` is reported exactly as given to StartStreamEncryption (no normalisation).
* Check order: request arguments (InvalidArgument) -> stream lookup (ResourceNotFound) -> ACTIVE
  (ResourceInUse) -> Stop key match (InvalidArgument) -> 24 h quota (LimitExceeded) -> KMS key.
* Every successful Start counts against the 25-per-rolling-24 h quota, including a Start with the
  key already in use; every successful Stop counts against a separate 25. A change is counted at
  the instant it is accepted and stops counting 86 400 virtual seconds later. Changes made by other
  actors (:meth:`KinesisSimulator.external_update`) count too: the quota is per stream.
* Stop on an unencrypted stream succeeds (UPDATING, quota spent) unless
  ``stop_requires_matching_key`` (the default) rejects it because ``KeyId`` differs from the
  current one, which is compared as an exact string.
* DELETING streams answer Start/Stop with ResourceInUseException; deletion cancels pending
  changes. StreamARN for another account or region means ResourceNotFoundException; StreamName and
  StreamARN naming different streams, or neither given, mean InvalidArgumentException.
* A client whose region differs from the simulator's sees no streams.
* Tags: at most 50 per stream, keys 1-128 and values 0-256 characters of letters, digits, spaces
  and ``_ . : / = + - @``, no ``aws:`` prefix (InvalidArgumentException otherwise).
  ListTagsForStream pages in key order (default Limit 10). ListTagsForStream and AddTagsToStream
  are throttled (LimitExceededException "Rate exceeded") above ``tag_tps_limit`` calls per second
  each; RemoveTagsFromStream is not limited. Tag calls never change the stream's status. A tag
  policy (:meth:`KinesisSimulator.refuse_tagging`) answers AccessDeniedException.
* botocore's retry layer never runs (the HTTP send is skipped), so each client call is exactly one
  simulated attempt: retries are the caller's business and visible in :attr:`calls`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.compat import HTTPHeaders
from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.model import OperationModel
from botocore.parsers import create_parser

T = TypeVar("T")

DEFAULT_START_WALL: Final = 1_800_000_000.0
DAY_SECONDS: Final = 86_400.0
KEY_CHANGES_PER_DAY: Final = 25
AWS_MANAGED_ALIAS: Final = "alias/aws/kinesis"
SUPPORTED_OPERATIONS: Final = (
    "DescribeStreamSummary",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "ListTagsForStream",
    "AddTagsToStream",
    "RemoveTagsFromStream",
)
TAG_OPERATIONS: Final = SUPPORTED_OPERATIONS[3:]
TAGS_PER_STREAM: Final = 50
# Kinesis' documented account-wide rate for ListTagsForStream and for AddTagsToStream (each).
TAG_TPS: Final = 5.0
_TAG_CHARS: Final = re.compile(r"[A-Za-z0-9 _.:/=+\-@]*")

ConnectionErrorKind = Literal["reset", "timeout", "connect", "connect-timeout"]


# --------------------------------------------------------------------------------------------
# Virtual time
# --------------------------------------------------------------------------------------------


class ClockStalledError(RuntimeError):
    """A participant waited too long in real time for the others to block (a test bug)."""


class VirtualClock:
    """A :class:`stream_encryption.clock.Clock` whose time moves only when someone sleeps.

    Single-threaded (no participants): ``sleep(d)`` is ``advance(d)``, returning at once.

    Multi-threaded: threads registered as *participants* (``with clock.participant():`` or
    :meth:`run_threads`) form a discrete-event scheduler. A participant's ``sleep(d)`` blocks until
    every participant is blocked in ``sleep``; then time jumps to the earliest wake time and the
    thread(s) due wake. A running participant (e.g. inside a simulated API call) keeps time still.
    Threads that are not participants never block: their ``sleep`` is a plain ``advance``.
    """

    def __init__(
        self,
        *,
        start: float = 0.0,
        start_wall: float = DEFAULT_START_WALL,
        stall_timeout: float = 10.0,
    ) -> None:
        self._start = start
        self._t = start
        self._start_wall = start_wall
        self._stall_timeout = stall_timeout
        self._cond = threading.Condition(threading.Lock())
        self._participants = 0
        self._wakes: dict[int, float] = {}  # sleep token -> wake time, participants only
        self._tokens = itertools.count()
        self._local = threading.local()

    def now(self) -> float:
        """Virtual monotonic seconds."""
        with self._cond:
            return self._t

    def wall(self) -> float:
        """Virtual epoch seconds: ``start_wall`` plus the virtual time elapsed."""
        with self._cond:
            return self._start_wall + (self._t - self._start)

    def advance(self, seconds: float) -> None:
        """Move time forward now, waking any participant that becomes due."""
        if seconds < 0:
            raise ValueError(f"cannot move time backwards ({seconds})")
        with self._cond:
            self._t += seconds
            self._cond.notify_all()

    def sleep(self, seconds: float) -> None:
        """Advance (non-participant) or block until the scheduler reaches our wake time."""
        if seconds <= 0:
            return
        if getattr(self._local, "depth", 0) == 0:
            self.advance(seconds)
            return
        with self._cond:
            token = next(self._tokens)
            wake = self._t + seconds
            self._wakes[token] = wake
            try:
                self._maybe_jump()
                while self._t < wake:
                    if not self._cond.wait(self._stall_timeout):
                        raise ClockStalledError(
                            f"participant waited {self._stall_timeout}s of real time at virtual "
                            f"t={self._t} for {self._participants - len(self._wakes)} running "
                            "participant(s) to sleep or leave"
                        )
            finally:
                del self._wakes[token]

    @property
    def participant_count(self) -> int:
        """Registered participants (reserved :meth:`run_threads` slots included)."""
        with self._cond:
            return self._participants

    @contextmanager
    def participant(self) -> Iterator[None]:
        """Register the calling thread in the scheduler for the block (re-entrant).

        Threads registering one by one race with threads that already sleep; use
        :meth:`run_threads` when several threads must start together.
        """
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            with self._cond:
                self._participants += 1
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._leave()

    def run_threads(self, targets: Sequence[Callable[[], T]], *, timeout: float = 30.0) -> list[T]:
        """Run each target in its own participant thread and return results in order.

        All slots are reserved before any thread starts, so no thread's sleep can run ahead of a
        sibling that has not started yet. The first exception raised by a target is re-raised.
        """
        count = len(targets)
        results: list[Any] = [None] * count
        errors: list[BaseException | None] = [None] * count
        with self._cond:
            self._participants += count

        def body(index: int) -> None:
            self._local.depth = 1
            try:
                results[index] = targets[index]()
            except BaseException as exc:
                errors[index] = exc
            finally:
                self._local.depth = 0
                self._leave()

        threads = [
            threading.Thread(target=body, args=(i,), name=f"virtual-clock-{i}", daemon=True)
            for i in range(count)
        ]
        started = 0
        try:
            for thread in threads:
                thread.start()
                started += 1
        finally:
            for _ in range(count - started):
                self._leave()
        deadline = time.monotonic() + timeout
        for thread in threads[:started]:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in threads[:started]):
            raise TimeoutError(f"participant threads still running after {timeout}s real time")
        for error in errors:
            if error is not None:
                raise error
        return results

    def _leave(self) -> None:
        """Unregister one participant; its departure may be what the sleepers waited for."""
        with self._cond:
            self._participants -= 1
            self._maybe_jump()
            self._cond.notify_all()

    def _maybe_jump(self) -> None:
        """With every participant asleep, jump to the earliest wake time (lock held)."""
        if self._wakes and len(self._wakes) >= self._participants:
            earliest = min(self._wakes.values())
            if earliest > self._t:
                self._t = earliest
            self._cond.notify_all()


# --------------------------------------------------------------------------------------------
# Records and snapshots
# --------------------------------------------------------------------------------------------


class UnsupportedOperationError(NotImplementedError):
    """The code under test used an operation or parameter the simulator does not model."""


class SimulatorError(RuntimeError):
    """A test drove the simulator itself wrongly (unknown stream, duplicate name, ...)."""


@dataclass(frozen=True)
class CallRecord:
    """One client call as the simulated service saw it."""

    operation: str
    params: dict[str, Any]
    time: float
    outcome: str  # "OK", an AWS error code, or the raised exception's class name

    @property
    def ok(self) -> bool:
        """True when the service answered with success."""
        return self.outcome == "OK"


@dataclass(frozen=True)
class StreamState:
    """A snapshot of one stream for assertions."""

    name: str
    arn: str
    status: str
    encryption_type: str
    key_id: str | None
    busy_until: float | None
    pending: tuple[tuple[str, str | None], ...]
    starts_in_window: int
    stops_in_window: int


@dataclass
class _Key:
    key_id: str
    account: str
    region: str
    aliases: set[str]
    state: str

    @property
    def arn(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account}:key/{self.key_id}"


@dataclass
class _Stream:
    name: str
    arn: str
    created_wall: float
    mode: str
    shards: int
    status: str
    encryption: str = "NONE"
    key_id: str | None = None
    busy_until: float | None = None
    pending: list[tuple[str, str | None]] = field(default_factory=list)
    update_seconds: float | None = None
    starts: deque[float] = field(default_factory=deque)
    stops: deque[float] = field(default_factory=deque)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Fault:
    code: str = ""
    message: str = ""
    status: int = 400
    connection: ConnectionErrorKind | None = None
    applied: bool = False


class _ApiError(Exception):
    """An AWS error answer on its way to the wire."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class _RawBody:
    """Just enough of urllib3's response for ``AWSResponse.content``."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


# --------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------


class KinesisSimulator:
    """Kinesis SSE control plane for one account and region, evaluated lazily on virtual time."""

    def __init__(
        self,
        clock: VirtualClock,
        *,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        partition: str = "aws",
        update_seconds: float = 3.0,
        describe_tps_limit: float | None = None,
        kms_checks: bool = True,
        stop_requires_matching_key: bool = True,
        tag_tps_limit: float | None = TAG_TPS,
    ) -> None:
        self.clock = clock
        self.account_id = account_id
        self.region = region
        self.partition = partition
        self.update_seconds = update_seconds
        self.describe_tps_limit = describe_tps_limit
        self.kms_checks = kms_checks
        self.stop_requires_matching_key = stop_requires_matching_key
        self._lock = threading.RLock()
        self._streams: dict[str, _Stream] = {}
        self._keys: list[_Key] = []
        self._faults: dict[str, deque[_Fault]] = {op: deque() for op in SUPPORTED_OPERATIONS}
        self._describe_times: deque[float] = deque()
        self.tag_tps_limit = tag_tps_limit
        self._tag_times: dict[str, deque[float]] = {op: deque() for op in TAG_OPERATIONS}
        self._tag_refusals: set[str] = set()
        self._schedule: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = itertools.count()
        self._calls: list[CallRecord] = []
        self.events: list[tuple[float, str]] = []
        self._attached: dict[int, BaseClient] = {}
        self.add_key(AWS_MANAGED_ALIAS)

    # ---- wiring ------------------------------------------------------------------------

    def attach(self, client: BaseClient) -> BaseClient:
        """Serve every Kinesis call of ``client`` from this simulator (idempotent)."""
        if client.meta.service_model.service_name != "kinesis":
            raise ValueError("KinesisSimulator can only serve a kinesis client")
        handler: Callable[..., Any] = self._on_before_call
        client.meta.events.register("before-call.kinesis", handler, unique_id=self._unique_id)
        self._attached[id(client)] = client
        return client

    def detach(self, client: BaseClient) -> None:
        """Stop serving ``client``; its calls would go to the network again."""
        handler: Callable[..., Any] = self._on_before_call
        client.meta.events.unregister("before-call.kinesis", handler, unique_id=self._unique_id)
        self._attached.pop(id(client), None)

    @property
    def _unique_id(self) -> str:
        return f"kinesis-sim-{id(self)}"

    # ---- streams -----------------------------------------------------------------------

    def stream_arn(self, name: str) -> str:
        """The ARN Kinesis would report for ``name`` in this account and region."""
        return f"arn:{self.partition}:kinesis:{self.region}:{self.account_id}:stream/{name}"

    def create_stream(
        self,
        name: str,
        *,
        status: Literal["ACTIVE", "CREATING", "UPDATING"] = "ACTIVE",
        encryption: Literal["NONE", "KMS"] = "NONE",
        key_id: str | None = None,
        active_after: float = 0.0,
        update_seconds: float | None = None,
        mode: Literal["PROVISIONED", "ON_DEMAND"] = "PROVISIONED",
        shards: int | None = None,
    ) -> str:
        """Add a stream; a non-ACTIVE one turns ACTIVE ``active_after`` seconds from now."""
        if (encryption == "KMS") != (key_id is not None):
            raise SimulatorError("a KMS stream needs key_id and a NONE stream must not have one")
        with self._lock:
            now = self._settle()
            if name in self._streams:
                raise SimulatorError(f"stream {name} already exists")
            stream = _Stream(
                name=name,
                arn=self.stream_arn(name),
                created_wall=self.clock.wall(),
                mode=mode,
                shards=shards if shards is not None else (4 if mode == "ON_DEMAND" else 1),
                status=status,
                encryption=encryption,
                key_id=key_id,
                update_seconds=update_seconds,
            )
            if status != "ACTIVE":
                stream.busy_until = now + active_after
            self._streams[name] = stream
            self.events.append((now, f"create {name} {status}"))
            return stream.arn

    def set_update_seconds(self, name: str, seconds: float) -> None:
        """How long this stream stays UPDATING after an accepted Start/Stop."""
        with self._lock:
            self._settle()
            self._existing(name).update_seconds = seconds

    def delete_stream(
        self, name: str, deleting_seconds: float = 2.0, *, at: float | None = None
    ) -> None:
        """Another actor deletes the stream: DELETING, then gone (now, or at virtual time ``at``).

        Deletion wins over anything in progress. A scheduled delete of a stream that is already
        gone or DELETING does nothing; an immediate one raises :class:`SimulatorError`.
        """

        def action(t: float, strict: bool) -> None:
            stream = self._streams.get(name)
            if stream is None or stream.status == "DELETING":
                if strict:
                    raise SimulatorError(f"stream {name} does not exist or is already DELETING")
                return
            stream.status = "DELETING"
            stream.pending.clear()
            stream.busy_until = t + max(0.0, deleting_seconds)
            self.events.append((t, f"delete {name}"))

        self._run_at(at, action)

    def delete_stream_at(self, name: str, t: float, deleting_seconds: float = 2.0) -> None:
        """Schedule :meth:`delete_stream` at virtual time ``t``."""
        self.delete_stream(name, deleting_seconds, at=t)

    def external_update(
        self,
        name: str,
        *,
        encryption: Literal["NONE", "KMS"],
        key_id: str | None = None,
        updating_seconds: float | None = None,
        at: float | None = None,
    ) -> None:
        """Someone else changes the stream's encryption (it counts against the stream's quota).

        The stream is UPDATING for ``updating_seconds`` (default: its update time) and shows the
        new values once ACTIVE. On a stream that is already busy the change is queued and the busy
        window extended.
        """
        if (encryption == "KMS") != (key_id is not None):
            raise SimulatorError("KMS needs key_id and NONE must not have one")

        def action(t: float, strict: bool) -> None:
            stream = self._live(name, strict)
            if stream is None:
                return
            (stream.starts if encryption == "KMS" else stream.stops).append(t)
            self._begin_update(stream, t, updating_seconds, (encryption, key_id))
            self.events.append((t, f"external {encryption} {key_id} on {name}"))

        self._run_at(at, action)

    def begin_external_update(self, name: str, seconds: float, *, at: float | None = None) -> None:
        """Another operation (e.g. resharding) keeps the stream UPDATING with no SSE change."""

        def action(t: float, strict: bool) -> None:
            stream = self._live(name, strict)
            if stream is None:
                return
            self._begin_update(stream, t, seconds, None)
            self.events.append((t, f"external UPDATING {seconds}s on {name}"))

        self._run_at(at, action)

    # ---- keys --------------------------------------------------------------------------

    def add_key(
        self,
        key_id_or_alias: str,
        *,
        aliases: Iterable[str] = (),
        state: str = "Enabled",
        account: str | None = None,
        region: str | None = None,
    ) -> str:
        """Register a KMS key (UUID, key ARN, or an alias for a generated key); returns its ARN."""
        ref = key_id_or_alias
        alias_set = set(aliases)
        if ref.startswith("arn:"):
            parts = ref.split(":", 5)
            if len(parts) != 6 or not parts[5].startswith("key/"):
                raise SimulatorError(f"not a KMS key ARN: {ref}")
            region, account, key_id = parts[3], parts[4], parts[5].removeprefix("key/")
        elif ref.startswith("alias/"):
            alias_set.add(ref)
            scope = f"{account or self.account_id}/{region or self.region}"
            key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}/{ref}"))
        else:
            key_id = ref
        bad = [a for a in alias_set if not a.startswith("alias/")]
        if bad:
            raise SimulatorError(f"aliases must start with 'alias/': {bad}")
        key = _Key(
            key_id=key_id,
            account=account or self.account_id,
            region=region or self.region,
            aliases=alias_set,
            state=state,
        )
        with self._lock:
            existing = self._resolve_key(key.arn)
            if existing is not None:
                existing.aliases |= alias_set
                existing.state = state
                return existing.arn
            self._keys.append(key)
            return key.arn

    def set_key_state(self, key: str, state: str) -> None:
        """Change a registered key's state (any form Start accepts names it)."""
        with self._lock:
            found = self._resolve_key(key)
            if found is None:
                raise SimulatorError(f"unknown key {key}")
            found.state = state

    # ---- tags --------------------------------------------------------------------------

    def tags(self, name: str) -> dict[str, str]:
        """The stream's tags now (a copy)."""
        with self._lock:
            self._settle()
            return dict(self._existing(name).tags)

    def set_tags(self, name: str, tags: dict[str, str]) -> None:
        """Put tags on the stream as another actor would (no limits or rates applied)."""
        with self._lock:
            self._settle()
            self._existing(name).tags.update(tags)

    def refuse_tagging(self, *operations: str) -> None:
        """A tag policy or SCP: these tag operations (default all three) answer AccessDenied."""
        wanted = set(operations or TAG_OPERATIONS)
        if not wanted <= set(TAG_OPERATIONS):
            raise SimulatorError(f"not tag operations: {sorted(wanted - set(TAG_OPERATIONS))}")
        with self._lock:
            self._tag_refusals |= wanted

    # ---- fault injection ---------------------------------------------------------------

    def fail_next(
        self,
        operation: str,
        code: str,
        message: str = "",
        *,
        count: int = 1,
        http_status: int = 400,
    ) -> None:
        """The next ``count`` calls of ``operation`` fail with this AWS error, changing nothing."""
        fault = _Fault(code=code, message=message or f"{code} (injected)", status=http_status)
        self._queue_fault(operation, fault, count)

    def throttle_next(self, operation: str, count: int = 1) -> None:
        """The next ``count`` calls are throttled as Kinesis does (LimitExceededException)."""
        self._queue_fault(operation, _Fault(code="LimitExceededException"), count)

    def connection_error_next(
        self,
        operation: str,
        count: int = 1,
        kind: ConnectionErrorKind = "reset",
        *,
        applied: bool = False,
    ) -> None:
        """The next ``count`` calls raise a botocore connection error instead of answering.

        ``kind``: reset -> ConnectionClosedError, timeout -> ReadTimeoutError,
        connect -> EndpointConnectionError, connect-timeout -> ConnectTimeoutError.
        ``applied=True`` (reset/timeout only): the service performed the call, the answer was lost.
        """
        if applied and kind in ("connect", "connect-timeout"):
            raise SimulatorError("a call that never connected cannot have been applied")
        self._queue_fault(operation, _Fault(connection=kind, applied=applied), count)

    # ---- observability -----------------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        """Every call served so far, in order (a copy)."""
        with self._lock:
            return list(self._calls)

    def count(self, operation: str | None = None, *, outcome: str | None = None) -> int:
        """How many calls matched ``operation`` and ``outcome`` ("OK", an error code, ...)."""
        with self._lock:
            return sum(
                1
                for c in self._calls
                if (operation is None or c.operation == operation)
                and (outcome is None or c.outcome == outcome)
            )

    def exists(self, name: str) -> bool:
        """Whether the stream exists now (DELETING streams still exist)."""
        with self._lock:
            self._settle()
            return name in self._streams

    def stream(self, name: str) -> StreamState:
        """A snapshot of the stream as of the clock's current time."""
        with self._lock:
            now = self._settle()
            s = self._existing(name)
            return StreamState(
                name=s.name,
                arn=s.arn,
                status=s.status,
                encryption_type=s.encryption,
                key_id=s.key_id,
                busy_until=s.busy_until,
                pending=tuple(s.pending),
                starts_in_window=self._in_window(s.starts, now),
                stops_in_window=self._in_window(s.stops, now),
            )

    # ---- request handling --------------------------------------------------------------

    def _on_before_call(
        self,
        model: OperationModel,
        params: dict[str, Any],
        context: dict[str, Any] | None = None,
        **_: Any,
    ) -> tuple[AWSResponse, dict[str, Any]]:
        """botocore ``before-call`` hook: answer instead of sending the HTTP request."""
        operation = model.name
        body = params.get("body") or b"{}"
        request: dict[str, Any] = json.loads(body)
        url = str(params.get("url", ""))
        client_region = (context or {}).get("client_region", self.region)
        with self._lock:
            now = self._settle()
            if operation not in SUPPORTED_OPERATIONS:
                self._record(operation, request, now, "UnsupportedOperationError")
                raise UnsupportedOperationError(
                    f"KinesisSimulator does not model {operation}; "
                    f"supported: {', '.join(SUPPORTED_OPERATIONS)}"
                )
            fault = self._faults[operation].popleft() if self._faults[operation] else None
            if fault is not None and fault.connection is not None and not fault.applied:
                error = _connection_error(fault.connection, url)
                self._record(operation, request, now, type(error).__name__)
                raise error
            try:
                if fault is not None and fault.connection is None:
                    message = fault.message or self._throttle_message(request)
                    raise _ApiError(fault.code, message, fault.status)
                result = self._serve(operation, request, now, client_region)
            except UnsupportedOperationError:
                self._record(operation, request, now, "UnsupportedOperationError")
                raise
            except _ApiError as err:
                self._record(operation, request, now, err.code)
                answer = {"__type": err.code, "message": err.message}
                return _respond(model, err.status, answer, url)
            if fault is not None and fault.connection is not None:
                error = _connection_error(fault.connection, url)
                self._record(operation, request, now, type(error).__name__)
                raise error
            self._record(operation, request, now, "OK")
        return _respond(model, 200, result, url)

    def _serve(
        self, operation: str, request: dict[str, Any], now: float, client_region: str
    ) -> dict[str, Any]:
        """Dispatch one accepted request (lock held); raises _ApiError for AWS errors."""
        if request.get("StreamId") is not None:
            raise UnsupportedOperationError("KinesisSimulator does not model StreamId")
        if operation == "DescribeStreamSummary":
            return self._describe(request, now, client_region)
        if operation == "StartStreamEncryption":
            return self._start(request, now, client_region)
        if operation == "StopStreamEncryption":
            return self._stop(request, now, client_region)
        return self._tag_call(operation, request, now, client_region)

    def _tag_call(
        self, operation: str, request: dict[str, Any], now: float, region: str
    ) -> dict[str, Any]:
        if operation in self._tag_refusals:
            raise _ApiError(
                "AccessDeniedException",
                f"User is not authorized to perform: kinesis:{operation} with an explicit deny "
                "in a service control policy",
            )
        if self.tag_tps_limit is not None and operation != "RemoveTagsFromStream":
            times = self._tag_times[operation]
            while times and times[0] <= now - 1.0:
                times.popleft()
            if len(times) >= self.tag_tps_limit:
                raise _ApiError("LimitExceededException", self._throttle_message(request))
            times.append(now)
        s = self._target(request, region)
        if operation == "ListTagsForStream":
            keys = sorted(s.tags)
            after = request.get("ExclusiveStartTagKey")
            if after is not None:
                keys = [k for k in keys if k > after]
            limit = int(request.get("Limit") or 10)
            page = keys[:limit]
            return {
                "Tags": [{"Key": k, "Value": s.tags[k]} for k in page],
                "HasMoreTags": len(keys) > limit,
            }
        if operation == "AddTagsToStream":
            new: dict[str, str] = request["Tags"]
            for key, value in new.items():
                _check_tag(key, value)
            if len(set(s.tags) | set(new)) > TAGS_PER_STREAM:
                raise _ApiError(
                    "InvalidArgumentException",
                    f"Failed to add tags to stream {s.name} under account {self.account_id} "
                    f"because a given stream cannot have more than {TAGS_PER_STREAM} tags.",
                )
            s.tags.update(new)
            return {}
        for key in request["TagKeys"]:
            s.tags.pop(key, None)
        return {}

    def _describe(self, request: dict[str, Any], now: float, region: str) -> dict[str, Any]:
        if self.describe_tps_limit is not None:
            while self._describe_times and self._describe_times[0] <= now - 1.0:
                self._describe_times.popleft()
            if len(self._describe_times) >= self.describe_tps_limit:
                raise _ApiError("LimitExceededException", self._throttle_message(request))
            self._describe_times.append(now)
        s = self._target(request, region)
        summary: dict[str, Any] = {
            "StreamName": s.name,
            "StreamARN": s.arn,
            "StreamStatus": s.status,
            "StreamModeDetails": {"StreamMode": s.mode},
            "RetentionPeriodHours": 24,
            "StreamCreationTimestamp": s.created_wall,
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": s.encryption,
            "OpenShardCount": s.shards,
            "ConsumerCount": 0,
        }
        if s.encryption == "KMS":
            summary["KeyId"] = s.key_id
        return {"StreamDescriptionSummary": summary}

    def _start(self, request: dict[str, Any], now: float, region: str) -> dict[str, Any]:
        encryption, key = request["EncryptionType"], request["KeyId"]
        _require_kms(encryption)
        s = self._target(request, region)
        self._require_active(s)
        self._check_quota(s, s.starts, now, "StartStreamEncryption")
        if self.kms_checks:
            self._check_key(key)
        s.starts.append(now)
        self._begin_update(s, now, None, ("KMS", key))
        return {}

    def _stop(self, request: dict[str, Any], now: float, region: str) -> dict[str, Any]:
        encryption, key = request["EncryptionType"], request["KeyId"]
        _require_kms(encryption)
        s = self._target(request, region)
        self._require_active(s)
        if self.stop_requires_matching_key and key != s.key_id:
            raise _ApiError(
                "InvalidArgumentException",
                f"KeyId {key} does not match the key currently used by stream {s.name} "
                f"under account {self.account_id}.",
            )
        self._check_quota(s, s.stops, now, "StopStreamEncryption")
        s.stops.append(now)
        self._begin_update(s, now, None, ("NONE", None))
        return {}

    # ---- internals (lock held) ---------------------------------------------------------

    def _target(self, request: dict[str, Any], region: str) -> _Stream:
        """The stream a request names, or the error Kinesis would give."""
        name: str | None = request.get("StreamName")
        arn: str | None = request.get("StreamARN")
        account, regions = self.account_id, {region}
        if name is None and arn is None:
            raise _ApiError(
                "InvalidArgumentException", "Either StreamName or StreamARN must be provided."
            )
        if arn is not None:
            parts = arn.split(":", 5)
            if len(parts) != 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
                raise _ApiError("InvalidArgumentException", f"Invalid StreamARN {arn}.")
            arn_name = parts[5].removeprefix("stream/")
            if name is not None and name != arn_name:
                raise _ApiError(
                    "InvalidArgumentException",
                    f"StreamName {name} and StreamARN {arn} refer to different streams.",
                )
            name, account = arn_name, parts[4]
            regions.add(parts[3])
        stream = self._streams.get(name or "")
        # The request reaches the client's region; an ARN elsewhere names a stream not there.
        if stream is None or account != self.account_id or regions != {self.region}:
            raise _ApiError(
                "ResourceNotFoundException", f"Stream {name} under account {account} not found."
            )
        return stream

    def _require_active(self, s: _Stream) -> None:
        if s.status != "ACTIVE":
            raise _ApiError(
                "ResourceInUseException",
                f"Stream {s.name} under account {self.account_id} not ACTIVE, "
                f"instead in state {s.status}",
            )

    def _check_quota(self, s: _Stream, times: deque[float], now: float, operation: str) -> None:
        if self._in_window(times, now) >= KEY_CHANGES_PER_DAY:
            raise _ApiError(
                "LimitExceededException",
                f"Exceeded the limit of {KEY_CHANGES_PER_DAY} successful {operation} requests "
                f"per stream per rolling 24 hours for stream {s.name} under account "
                f"{self.account_id}.",
            )

    @staticmethod
    def _in_window(times: deque[float], now: float) -> int:
        while times and times[0] <= now - DAY_SECONDS:
            times.popleft()
        return len(times)

    def _check_key(self, ref: str) -> None:
        key = self._resolve_key(ref)
        if key is None:
            raise _ApiError("KMSNotFoundException", f"Key '{ref}' does not exist.")
        if key.state == "Disabled":
            raise _ApiError("KMSDisabledException", f"{key.arn} is disabled.")
        if key.state == "PendingDeletion":
            raise _ApiError("KMSInvalidStateException", f"{key.arn} is pending deletion.")
        if key.state != "Enabled":
            raise _ApiError("KMSInvalidStateException", f"{key.arn} is {key.state}.")

    def _resolve_key(self, ref: str) -> _Key | None:
        """Find a key by UUID, key ARN, alias name or alias ARN, as KMS resolves them."""
        account, region, resource = self.account_id, self.region, ref
        if ref.startswith("arn:"):
            parts = ref.split(":", 5)
            if len(parts) != 6 or parts[2] != "kms":
                return None
            region, account, resource = parts[3], parts[4], parts[5]
            if not resource.startswith(("key/", "alias/")):
                return None
            resource = resource.removeprefix("key/")
        for key in self._keys:
            if key.account != account or key.region != region:
                continue
            if resource in key.aliases or resource == key.key_id:
                return key
        return None

    def _begin_update(
        self, s: _Stream, at: float, seconds: float | None, change: tuple[str, str | None] | None
    ) -> None:
        """UPDATING until ``at + seconds``; ``change`` lands when the stream is ACTIVE again."""
        if seconds is None:
            seconds = s.update_seconds if s.update_seconds is not None else self.update_seconds
        if s.status == "ACTIVE":
            s.status = "UPDATING"
        s.busy_until = max(s.busy_until if s.busy_until is not None else at, at + seconds)
        if change is not None:
            s.pending.append(change)

    def _settle(self) -> float:
        """Apply, in time order, every transition and scheduled action due by now."""
        now = self.clock.now()
        while True:
            busy = [s for s in self._streams.values() if s.busy_until is not None]
            stream = min(busy, key=lambda s: s.busy_until or 0.0, default=None)
            t_stream = stream.busy_until if stream is not None else None
            t_event = self._schedule[0][0] if self._schedule else None
            if (
                stream is not None
                and t_stream is not None
                and t_stream <= now
                and (t_event is None or t_stream <= t_event)
            ):
                self._finish(stream, t_stream)
            elif t_event is not None and t_event <= now:
                _, _, action = heapq.heappop(self._schedule)
                action(t_event)
            else:
                return now

    def _finish(self, s: _Stream, t: float) -> None:
        s.busy_until = None
        if s.status == "DELETING":
            del self._streams[s.name]
            self.events.append((t, f"gone {s.name}"))
            return
        for encryption, key in s.pending:
            s.encryption, s.key_id = encryption, key
        s.pending.clear()
        s.status = "ACTIVE"
        self.events.append((t, f"ACTIVE {s.name} {s.encryption} {s.key_id}"))

    def _run_at(self, at: float | None, action: Callable[[float, bool], None]) -> None:
        """Run an external actor's action now (strict) or schedule it (lenient)."""
        with self._lock:
            now = self._settle()
            if at is None or at <= now:
                action(now, at is None)
            else:
                heapq.heappush(self._schedule, (at, next(self._seq), lambda t: action(t, False)))

    def _live(self, name: str, strict: bool) -> _Stream | None:
        stream = self._streams.get(name)
        if stream is None or stream.status == "DELETING":
            if strict:
                raise SimulatorError(f"stream {name} does not exist or is DELETING")
            return None
        return stream

    def _existing(self, name: str) -> _Stream:
        stream = self._streams.get(name)
        if stream is None:
            raise SimulatorError(f"stream {name} does not exist")
        return stream

    def _queue_fault(self, operation: str, fault: _Fault, count: int) -> None:
        if operation not in SUPPORTED_OPERATIONS:
            raise SimulatorError(f"unknown operation {operation}; use {SUPPORTED_OPERATIONS}")
        with self._lock:
            self._faults[operation].extend([fault] * count)

    def _throttle_message(self, request: dict[str, Any]) -> str:
        name = request.get("StreamName") or str(request.get("StreamARN", "")).rpartition("/")[2]
        return f"Rate exceeded for stream {name} under account {self.account_id}."

    def _record(self, operation: str, request: dict[str, Any], now: float, outcome: str) -> None:
        self._calls.append(CallRecord(operation, dict(request), now, outcome))


def _check_tag(key: str, value: str) -> None:
    if not 1 <= len(key) <= 128 or len(value) > 256:
        raise _ApiError("InvalidArgumentException", f"Tag {key!r} is too long.")
    if key.lower().startswith("aws:"):
        raise _ApiError(
            "InvalidArgumentException", f"Tag key {key!r} uses the reserved aws: prefix."
        )
    if not (_TAG_CHARS.fullmatch(key) and _TAG_CHARS.fullmatch(value)):
        raise _ApiError(
            "InvalidArgumentException",
            f"Tag {key!r} has characters Kinesis does not allow in tag keys and values.",
        )


def _require_kms(encryption: str) -> None:
    if encryption != "KMS":
        raise _ApiError(
            "InvalidArgumentException",
            f"Encryption type {encryption} is not supported; the only valid value is KMS.",
        )


def _connection_error(kind: ConnectionErrorKind, url: str) -> BotoCoreError:
    """The exception botocore's HTTP layer raises for this kind of network failure."""
    if kind == "reset":
        return ConnectionClosedError(endpoint_url=url)
    if kind == "timeout":
        return ReadTimeoutError(endpoint_url=url)
    if kind == "connect":
        return EndpointConnectionError(endpoint_url=url)
    return ConnectTimeoutError(endpoint_url=url)


def _respond(
    model: OperationModel, status: int, payload: dict[str, Any], url: str
) -> tuple[AWSResponse, dict[str, Any]]:
    """Encode ``payload`` as Kinesis would and parse it with botocore's own parser."""
    body = json.dumps(payload).encode()
    request_id = str(uuid.uuid4())
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = request_id
    headers["Content-Type"] = "application/x-amz-json-1.1"
    headers["Content-Length"] = str(len(body))
    http = AWSResponse(url, status, headers, _RawBody(body))
    response_dict = {
        "headers": http.headers,
        "status_code": status,
        "body": body,
        "context": {"operation_name": model.name},
    }
    parser = create_parser(model.service_model.resolved_protocol)
    # Start/Stop have no output shape; botocore's endpoint passes that None to its parser too.
    parsed: dict[str, Any] = parser.parse(response_dict, model.output_shape)  # type: ignore[arg-type]
    if status >= 300:
        error_shape = model.service_model.shape_for_error_code(payload["__type"])
        if error_shape is not None:
            parsed.update(parser.parse(response_dict, error_shape))
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    return http, parsed
