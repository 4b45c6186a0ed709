"""Load: 100 resources in flight at once against Kinesis' account limits, in virtual time.

The simulator enforces DescribeStreamSummary's 20 calls per second per account and a 3 s UPDATING
window per change; every resource must succeed (none gives up early) and the virtual wall time is
recorded against the quota-bound minimum.
"""

import logging

from devsupport.harness import FakeContext, Harness, Invokes, Metrics, Puts, make_event
from stream_encryption.handlers.invocation import Dependencies, process

RESOURCES = 100
DESCRIBE_TPS = 20
UPDATE_SECONDS = 3.0


def run_load(resources: int) -> tuple[Harness, list[Puts], float]:
    h = Harness(describe_tps_limit=DESCRIBE_TPS, update_seconds=UPDATE_SECONDS)
    logger = logging.getLogger("load")
    names = [f"stream-{i:03d}" for i in range(resources)]
    for name in names:
        h.kinesis.create_stream(name)
    puts = [Puts() for _ in names]

    def resource(index: int):
        def run() -> None:
            deps = Dependencies(
                logger=logger,
                metrics=Metrics(),
                kinesis_client=lambda region: h.client,
                lambda_client=lambda region: Invokes(),
                clock=h.clock,
                opener=puts[index],
            )
            process(make_event(StreamName=names[index]), FakeContext(h.clock, 300), deps)

        return run

    began = h.clock.now()
    h.clock.run_threads([resource(i) for i in range(resources)], timeout=120)
    return h, puts, h.clock.now() - began


def test_one_hundred_resources_at_once_all_succeed_within_the_account_limits():
    h, puts, elapsed = run_load(RESOURCES)
    bodies = [p.bodies for p in puts]
    assert all(len(b) == 1 for b in bodies), "every resource answers exactly once"
    assert all(b[0]["Status"] == "SUCCESS" for b in bodies), [
        b[0]["Reason"] for b in bodies if b[0]["Status"] != "SUCCESS"
    ]
    assert h.kinesis.count("StartStreamEncryption", outcome="OK") == RESOURCES
    # Quota-bound minimum: each resource needs at least two reads (before Start, after ACTIVE)
    # at 20 per second, and one UPDATING window.
    # Ownership adds a ListTagsForStream and an AddTagsToStream per resource, each limited to 5
    # per second per account: those bind first.
    minimum = max(2 * RESOURCES / DESCRIBE_TPS, RESOURCES / 5) + UPDATE_SECONDS
    throttled = h.kinesis.count("DescribeStreamSummary", outcome="LimitExceededException")
    print(
        f"\nload: {RESOURCES} resources, virtual wall {elapsed:.1f} s, quota-bound minimum "
        f"{minimum:.1f} s, ratio {elapsed / minimum:.2f}, describes "
        f"{h.kinesis.count('DescribeStreamSummary')}, throttled {throttled}, tag calls "
        f"{h.kinesis.count('ListTagsForStream') + h.kinesis.count('AddTagsToStream')}"
    )
    assert elapsed < 300  # nobody needed a hand-over, nobody gave up
    # Ownership: every stream is tagged, within the account's 5-per-second tag budgets.
    assert all(
        h.kinesis.tags(f"stream-{i:03d}")["kinesis-stream-encryption:prior-key"] == "NONE"
        for i in range(RESOURCES)
    )
    assert h.kinesis.count("ListTagsForStream", outcome="OK") == RESOURCES
    assert h.kinesis.count("AddTagsToStream", outcome="OK") == RESOURCES
    assert elapsed >= RESOURCES / 5  # the tag rate, not Describe, is now the bound
