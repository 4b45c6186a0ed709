"""Convergence: how soon after the stream is ACTIVE again does each waiting policy notice?

All policies run on the Kinesis simulator in virtual time, one StartStreamEncryption each, with the
UPDATING window jittered ±10 % per run. Ours is the real ``KinesisAdapter.wait_until_settled``;
the alternatives are their documented polling policies:

* CDK Provider framework: isComplete right after onEvent, then every queryInterval (5 s default).
* Terraform aws_kinesis_stream: StateChangeConf with Delay 10 s, then every 10 s.
* boto3 StreamExists waiter: DescribeStream at once, then every 10 s, 18 attempts (gives up at
  170 s).

Overshoot = the moment the policy reports done minus the moment the stream became ACTIVE.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.dal.kinesis import KinesisAdapter
from stream_encryption.identifiers import StreamArn, StreamRef
from stream_encryption.time_budget import Deadline

WINDOWS = (1, 3, 10, 30, 120, 600)
NAME = "orders"


#: Our poller's jitter draws from its own stream, independent of the window's jitter.
POLL_SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class Run:
    """One waited-for operation."""

    overshoot: float | None  # None: the policy gave up before ACTIVE
    describes: int
    elapsed: float  # from StartStreamEncryption to the policy's answer


def _setup(window: float, seed: int) -> tuple[VirtualClock, KinesisSimulator, Any, float]:
    """A stream, just told to start encryption, UPDATING for ``window`` ±10 % (seeded)."""
    rng = random.Random(seed)
    clock = VirtualClock()
    sim = KinesisSimulator(clock, update_seconds=window * rng.uniform(0.9, 1.1))
    client = boto3.client(
        "kinesis", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    sim.attach(client)
    sim.create_stream(NAME)
    client.start_stream_encryption(StreamName=NAME, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    active_at = sim.stream(NAME).busy_until
    assert active_at is not None
    return clock, sim, client, active_at


def ours(window: float, seed: int) -> Run:
    """The real ``KinesisAdapter.wait_until_settled``, as the handler calls it after Start."""
    clock, sim, client, active_at = _setup(window, seed)
    started = clock.now()
    before = sim.count("DescribeStreamSummary")
    adapter = KinesisAdapter(
        client,
        clock,
        Deadline(clock, clock.now() + 3600),
        rng=random.Random(seed + POLL_SEED_OFFSET),
    )
    adapter.wait_until_settled(StreamRef(StreamArn("aws", "us-east-1", "123456789012", NAME)))
    return Run(
        clock.now() - active_at, sim.count("DescribeStreamSummary") - before, clock.now() - started
    )


def _poll_policy(
    first_delay: float, interval: float, attempts: int | None
) -> Callable[[float, int], Run]:
    """A fixed-interval poller: first look after ``first_delay``, then every ``interval``."""

    def policy(window: float, seed: int) -> Run:
        clock, _sim, client, active_at = _setup(window, seed)
        started = clock.now()
        calls = 0
        clock.sleep(first_delay)
        while attempts is None or calls < attempts:
            calls += 1
            status = client.describe_stream_summary(StreamName=NAME)["StreamDescriptionSummary"]
            if status["StreamStatus"] == "ACTIVE":
                return Run(clock.now() - active_at, calls, clock.now() - started)
            if attempts is not None and calls == attempts:
                break  # a waiter gives up after its last attempt, without sleeping again
            clock.sleep(interval)
        return Run(None, calls, clock.now() - started)

    return policy


POLICIES: dict[str, Callable[[float, int], Run]] = {
    "ours": ours,
    "CDK Provider (5 s)": _poll_policy(0.0, 5.0, None),
    "Terraform (10 s)": _poll_policy(10.0, 10.0, None),
    "boto3 StreamExists (10 s x18)": _poll_policy(0.0, 10.0, 18),
}


def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive method: stays within the observed range)."""
    return (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )


def measure(runs: int = 100) -> list[dict[str, Any]]:
    """One row per (window, policy): overshoot median and p95, Describe calls per operation and
    per second of operation, and how many runs gave up before the stream was ACTIVE."""
    rows: list[dict[str, Any]] = []
    for window in WINDOWS:
        for name, policy in POLICIES.items():
            results = [policy(float(window), seed) for seed in range(runs)]
            done = [r.overshoot for r in results if r.overshoot is not None]
            rows.append(
                {
                    "window_s": window,
                    "policy": name,
                    "median_overshoot_s": statistics.median(done) if done else None,
                    "p95_overshoot_s": p95(done) if done else None,
                    "describes_per_op": statistics.mean(r.describes for r in results),
                    "describes_per_s": statistics.mean(r.describes / r.elapsed for r in results),
                    "gave_up": sum(r.overshoot is None for r in results),
                }
            )
    return rows


if __name__ == "__main__":
    for row in measure():
        print(row)
