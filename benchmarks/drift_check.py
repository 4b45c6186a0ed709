"""Drift check: API calls, wall time and Describe budget share of one check; detection latency.

Everything runs the real ``process`` (the scheduled check event, following its hand-overs with a
5-minute function timeout, as deployed) against the simulator in virtual time, so the figures are
those of the pacing policy, not of this machine. The fleet: N streams this provider encrypted
(tagged as Create tags them), one in ten drifted (encryption stopped outside CloudFormation),
report only.

Detection latency: drifts happen at random moments over several periods of a schedule; each is
detected when the next check reaches its stream. A check visits a stable fleet in the same order
at the same offset every period, so the latency is at most one period.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

from devsupport.drift_harness import DriftHarness
from devsupport.harness import ACCOUNT, REGION
from stream_encryption.dal.stream_inventory import ACCOUNT_TPS

SIZES = (10, 100, 1000)
FUNCTION_TIMEOUT = 300.0
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OPERATIONS = ("ListStreams", "ListTagsForStream", "DescribeStreamSummary", "StartStreamEncryption")


@dataclass(frozen=True)
class CheckRun:
    streams: int
    calls: dict[str, int]
    invocations: int
    seconds: float  # virtual: first call to last call
    drifted_found: int
    describe_share_mean: float  # Describe calls / (20 TPS x duration)
    describe_share_peak: float  # most Describe calls in any one second / 20


def _fleet(size: int, drifted_every: int = 10) -> tuple[DriftHarness, int]:
    harness = DriftHarness(guard_leaks=False)
    harness.fleet.add_key(KEY)
    drifted = 0
    for index in range(size):
        off = index % drifted_every == 0
        drifted += off
        harness.add_stream(f"stream-{index:05}", None if off else KEY, tagged_key=KEY)
    return harness, drifted


def one_check(size: int) -> CheckRun:
    """One scheduled check over ``size`` streams."""
    harness, drifted = _fleet(size)
    invocations = harness.check(timeout=FUNCTION_TIMEOUT)
    calls = harness.fleet.calls
    times = [c.time for c in calls]
    seconds = max(times) - min(times) if times else 0.0
    describes = [c.time for c in calls if c.operation == "DescribeStreamSummary"]
    peak = max((sum(1 for t in describes if s <= t < s + 1.0) for s in describes), default=0)
    tps = ACCOUNT_TPS["DescribeStreamSummary"]
    found = int(sum(v for n, _, v in harness.metrics.recorded if n == "EncryptionDrift"))
    assert found == drifted, (found, drifted)
    return CheckRun(
        streams=size,
        calls={op: harness.fleet.count(op) for op in OPERATIONS},
        invocations=invocations,
        seconds=seconds,
        drifted_found=found,
        describe_share_mean=len(describes) / (tps * seconds) if seconds else 0.0,
        describe_share_peak=peak / tps,
    )


@dataclass(frozen=True)
class Latency:
    streams: int
    period: float
    drifts: int
    median: float
    worst: float


def detection_latency(size: int = 100, period: float = 600.0, checks: int = 4) -> Latency:
    """Drifts at random moments during ``checks - 1`` periods; latency to the first check that
    describes the stream after it drifted."""
    harness, _ = _fleet(size, drifted_every=size + 1)  # none drifted at the start
    rng = random.Random(13)
    start = harness.clock.now()
    victims = rng.sample(range(size), k=min(20, size))
    drift_at = {
        f"stream-{index:05}": start + rng.uniform(0.0, period * (checks - 1)) for index in victims
    }
    for name, at in drift_at.items():
        harness.fleet.external_update(name, encryption="NONE", updating_seconds=0.0, at=at)
    for number in range(checks):
        harness.clock.advance(max(0.0, start + number * period - harness.clock.now()))
        harness.check(timeout=FUNCTION_TIMEOUT)
    latencies = []
    for name, at in drift_at.items():
        arn = harness.fleet.stream_arn(name)
        seen = [
            c.time
            for c in harness.fleet.calls
            if c.operation == "DescribeStreamSummary"
            and c.params.get("StreamARN") == arn
            and c.time >= at
        ]
        latencies.append(min(seen) - at)
    return Latency(size, period, len(latencies), statistics.median(latencies), max(latencies))


def measure() -> dict[str, object]:
    return {"checks": [one_check(size) for size in SIZES], "latency": detection_latency()}


if __name__ == "__main__":
    result = measure()
    for run in result["checks"]:  # type: ignore[attr-defined]
        print(run)
    print(result["latency"])
