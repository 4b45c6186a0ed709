"""Scale: many resources created at once in one account, against Kinesis' account limits.

Every resource runs the real ``stream_encryption.app.process`` (a Create of SSE with the default
key on its own unencrypted stream) in its own thread, all on one ``VirtualClock`` through
``run_threads`` (a discrete-event scheduler: virtual time jumps when every thread sleeps), against
one ``KinesisSimulator`` that allows 20 successful DescribeStreamSummary calls per second for the
whole account and keeps each stream UPDATING for 3 s after StartStreamEncryption.

Quota-bound minimum (the fastest any client could finish, to within the simulator's one-second
rate window):

    T_min = max(2N / R, N / R + U, N / T + U)

with N resources, R = 20 reads per second, U = 3 s, T = 5 tag calls per second. Each resource
needs two successful reads (one to decide, before Start; one to confirm, once ACTIVE), so 2N reads
at R per second take 2N/R. And the N deciding reads alone take N/R, so the last Start is issued no
earlier than that and confirmed U later. Ownership adds one ListTagsForStream and one
AddTagsToStream before each Start, each limited to T per second per account: the last Start
cannot come before N/T either. A scheduler that knew everything (deciding reads and tag calls at
the full rate, then each confirming read the moment it is due) reaches the largest of the three,
so the bound is tight. The load test (tests/faults/test_load.py) uses the simpler
max(2N/R, N/T) + U, which is never smaller; both are reported.
"""

from __future__ import annotations

import json
import logging
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

import boto3

from devsupport.harness import FakeContext, Invokes, Metrics, Puts, make_event
from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.handlers.invocation import Dependencies, process

SIZES = (100, 500)
DESCRIBE_TPS = 20
TAG_TPS = 5  # ListTagsForStream and AddTagsToStream, each, per account
UPDATE_SECONDS = 3.0
FUNCTION_TIMEOUT = 300.0  # the construct's function timeout: a hand-over would show as a failure


def quota_bound_minimum(resources: int) -> float:
    """T_min = max(2N/R, N/R + U, N/T + U): see the module docstring."""
    return max(
        2 * resources / DESCRIBE_TPS,
        resources / DESCRIBE_TPS + UPDATE_SECONDS,
        resources / TAG_TPS + UPDATE_SECONDS,
    )


def lenient_minimum(resources: int) -> float:
    """The load test's reference: the reads (or the tag calls) and the UPDATING window never
    overlap."""
    return max(2 * resources / DESCRIBE_TPS, resources / TAG_TPS) + UPDATE_SECONDS


@dataclass(frozen=True)
class ScaleRun:
    """One run of N concurrent Creates."""

    resources: int
    virtual_seconds: float  # first request to last response
    minimum_seconds: float
    lenient_minimum_seconds: float
    failures: int  # anything but exactly one SUCCESS response
    describes: int  # every DescribeStreamSummary call, throttled ones included
    throttled: int
    starts: int  # every StartStreamEncryption call
    tag_calls: int  # every ListTagsForStream and AddTagsToStream call, throttled ones included
    tag_throttled: int
    finish_p50: float  # when resources got their response (virtual seconds from the start)
    finish_p95: float
    real_seconds: float

    @property
    def ratio(self) -> float:
        return self.virtual_seconds / self.minimum_seconds


class _TimedPuts(Puts):
    """The ResponseURL's side, noting when (virtual time) each response arrived."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock
        self.times: list[float] = []

    def __call__(self, request: Any, timeout: float) -> Any:
        self.times.append(self.clock.now())
        return super().__call__(request, timeout)


def _quiet_logger() -> logging.Logger:
    """A stdlib logger that keeps the handler's records to itself (as in the load test)."""
    logger = logging.getLogger("benchmarks.scale")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


def run(resources: int, *, seed: int = 0) -> ScaleRun:
    """N Creates at virtual time 0, each its own thread; returns what it took."""
    # Hundreds of threads on two cores: give a busy participant time to reach its next sleep.
    clock = VirtualClock(stall_timeout=300.0)
    sim = KinesisSimulator(clock, describe_tps_limit=DESCRIBE_TPS, update_seconds=UPDATE_SECONDS)
    client: Any = boto3.client(  # the handler sees it through its own KinesisClient protocol
        "kinesis", region_name=sim.region, aws_access_key_id="x", aws_secret_access_key="x"
    )
    sim.attach(client)
    logger = _quiet_logger()
    names = [f"s-{i:03d}" for i in range(resources)]
    for name in names:
        sim.create_stream(name)
    puts = [_TimedPuts(clock) for _ in names]
    invokes = [Invokes() for _ in names]

    def resource(index: int) -> Any:
        def body() -> None:
            deps = Dependencies(
                logger=logger,
                metrics=Metrics(),
                kinesis_client=lambda region: client,
                lambda_client=lambda region: invokes[index],
                clock=clock,
                opener=puts[index],
                rng=random.Random(seed * 1_000_003 + index),
            )
            event = make_event(StreamARN=sim.stream_arn(names[index]))
            process(event, FakeContext(clock, FUNCTION_TIMEOUT), deps)

        return body

    began_real, began = time.perf_counter(), clock.now()
    clock.run_threads([resource(i) for i in range(resources)], timeout=600.0)
    elapsed, real = clock.now() - began, time.perf_counter() - began_real
    failures = sum(
        1
        for p in puts
        if len(p.requests) != 1 or json.loads(p.requests[0]["body"])["Status"] != "SUCCESS"
    )
    finished = sorted(p.times[0] - began for p in puts if p.times)
    return ScaleRun(
        resources=resources,
        virtual_seconds=elapsed,
        minimum_seconds=quota_bound_minimum(resources),
        lenient_minimum_seconds=lenient_minimum(resources),
        failures=failures,
        describes=sim.count("DescribeStreamSummary"),
        throttled=sim.count("DescribeStreamSummary", outcome="LimitExceededException"),
        starts=sim.count("StartStreamEncryption"),
        tag_calls=sim.count("ListTagsForStream") + sim.count("AddTagsToStream"),
        tag_throttled=sim.count("ListTagsForStream", outcome="LimitExceededException")
        + sim.count("AddTagsToStream", outcome="LimitExceededException"),
        finish_p50=statistics.median(finished) if finished else float("nan"),
        finish_p95=(
            statistics.quantiles(finished, n=20, method="inclusive")[18]
            if len(finished) > 1
            else float("nan")
        ),
        real_seconds=real,
    )


def measure(sizes: tuple[int, ...] = SIZES) -> list[ScaleRun]:
    return [run(n) for n in sizes]


if __name__ == "__main__":
    for result in measure():
        print(result, f"ratio {result.ratio:.2f}")
