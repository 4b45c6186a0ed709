"""The scheduled drift check, end to end through ``process`` on the simulator in virtual time.

Each test builds a small fleet (streams tagged as Create tags them), runs one check as the
schedule would (following hand-overs) and asserts what is observable: log lines, metrics, the
Kinesis calls made and the streams' final encryption.
"""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devsupport.drift_harness import DriftHarness, check_event
from devsupport.harness import ACCOUNT, REGION, STACK_ID, FakeContext
from stream_encryption.dal.stream_inventory import ACCOUNT_TPS, BUDGET_SHARE
from stream_encryption.handlers.invocation import Dependencies, process

UUID_A = "1234abcd-12ab-34cd-56ef-1234567890ab"
UUID_B = "99999999-12ab-34cd-56ef-1234567890ab"
KEY_A = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID_A}"
KEY_B = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID_B}"
OTHER_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:someone-else"


@pytest.fixture
def h() -> DriftHarness:
    harness = DriftHarness()
    harness.fleet.add_key(KEY_A)
    harness.fleet.add_key(KEY_B)
    return harness


def records(h: DriftHarness, level: str | None = None) -> list[dict[str, Any]]:
    return [r for r in h.log_records() if level is None or r.get("level") == level]


def drift_lines(h: DriftHarness) -> list[dict[str, Any]]:
    return [r for r in records(h, "WARNING") if str(r["message"]).startswith("Encryption drift")]


def metric_total(h: DriftHarness, name: str) -> float:
    return sum(value for metric, _, value in h.metrics.recorded if metric == name)


def test_a_stream_whose_encryption_was_stopped_is_reported_with_its_owner(
    h: DriftHarness,
) -> None:
    arn = h.add_stream("orders", None, tagged_key=KEY_A)  # someone stopped the encryption
    h.add_stream("fine", KEY_A)

    h.check()

    [line] = drift_lines(h)
    assert line["stream"] == arn
    assert line["expected"] == f"KMS {KEY_A}"
    assert line["actual"] == "NONE"
    assert line["owner_stack"] == STACK_ID
    assert line["owner_resource"] == "Encryption"
    assert metric_total(h, "EncryptionDrift") == 1
    assert h.fleet.count("StartStreamEncryption") == 0  # repair is off
    assert h.fleet.stream("orders").encryption_type == "NONE"


def test_another_key_is_drift_and_an_equivalent_key_form_is_not(h: DriftHarness) -> None:
    h.add_stream("other-key", KEY_B, tagged_key=KEY_A)
    h.add_stream("bare-form", UUID_A, tagged_key=KEY_A)  # Kinesis echoes the form it was given

    h.check()

    [line] = drift_lines(h)
    assert line["stream"].endswith("/other-key")
    assert line["actual"] == f"KMS {KEY_B}"


def test_streams_of_another_provider_are_not_even_described(h: DriftHarness) -> None:
    h.add_stream("theirs", None, tagged_key=KEY_A, provider=OTHER_FUNCTION)
    h.add_stream("untagged", None, provider=None)

    h.check(repair=True)

    assert drift_lines(h) == []
    assert h.fleet.count("ListTagsForStream") == 2
    assert h.fleet.count("DescribeStreamSummary") == 0
    assert h.fleet.count("StartStreamEncryption") == 0


def test_a_qualified_invocation_arn_still_matches_the_unqualified_provider_tag(
    h: DriftHarness,
) -> None:
    h.add_stream("orders", None, tagged_key=KEY_A)
    h.add_stream("versioned", None, tagged_key=KEY_A)
    tags = h.fleet.tags("versioned")
    h.fleet.set_tags(
        "versioned",
        {"kinesis-stream-encryption:provider": tags["kinesis-stream-encryption:provider"]},
    )

    h.check()

    assert len(drift_lines(h)) == 2


def test_a_stream_without_a_key_tag_is_skipped_with_an_info_line(h: DriftHarness) -> None:
    arn = h.add_stream("legacy", None, tagged_key=None)

    h.check(repair=True)

    skipped = [r for r in records(h, "INFO") if "no key tag" in str(r["message"])]
    assert [r["stream"] for r in skipped] == [arn]
    assert drift_lines(h) == []
    assert h.fleet.count("StartStreamEncryption") == 0


def test_repair_restores_the_tagged_key_once(h: DriftHarness) -> None:
    h.add_stream("orders", None, tagged_key=KEY_A)
    h.add_stream("swapped", KEY_B, tagged_key=KEY_A)

    h.check(repair=True)
    h.clock.advance(10)  # the repairs settle

    assert h.fleet.count("StartStreamEncryption") == 2
    for name in ("orders", "swapped"):
        assert h.fleet.stream(name).key_id == KEY_A
    assert metric_total(h, "EncryptionRepaired") == 2

    h.check(repair=True)  # the next check finds nothing to do
    assert h.fleet.count("StartStreamEncryption") == 2
    assert metric_total(h, "EncryptionDrift") == 2


def test_a_stream_that_is_not_active_is_reported_but_not_repaired(h: DriftHarness) -> None:
    h.add_stream("busy", None, tagged_key=KEY_A)
    h.fleet.begin_external_update("busy", 600)

    h.check(repair=True)

    assert len(drift_lines(h)) == 1
    assert h.fleet.count("StartStreamEncryption") == 0
    assert any("not ACTIVE" in str(r["message"]) for r in records(h, "WARNING"))


# ---- fault matrix ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inject", "said"),
    [
        ("quota", "25 key changes"),
        ("kms-disabled", "disabled"),
        ("access-denied", "kinesis:StartStreamEncryption"),
    ],
)
def test_a_refused_repair_is_reported_and_not_retried(
    h: DriftHarness, inject: str, said: str
) -> None:
    h.add_stream("orders", None, tagged_key=KEY_A)
    h.add_stream("next", None, tagged_key=KEY_B)
    if inject == "quota":
        h.fleet.fail_next(
            "StartStreamEncryption",
            "LimitExceededException",
            "Exceeded the limit of 25 encryption changes per 24 hours for stream next.",
        )
    elif inject == "kms-disabled":
        h.fleet.set_key_state(KEY_B, "Disabled")
    else:
        h.fleet.fail_next("StartStreamEncryption", "AccessDeniedException", "not authorized")

    h.check(repair=True)

    starts = [c for c in h.fleet.calls if c.operation == "StartStreamEncryption"]
    assert [c.params["StreamARN"].rpartition("/")[2] for c in starts] == ["next", "orders"]
    assert starts[0].outcome != "OK"  # refused once, never asked again
    [refused] = [r for r in records(h, "ERROR") if "refused" in str(r["message"])]
    assert refused["stream"].endswith("/next")
    assert said in refused["error"]
    assert metric_total(h, "EncryptionRepairFailed") == 1
    assert metric_total(h, "EncryptionRepaired") == 1  # the check went on to the next stream


def test_a_stream_deleted_mid_check_is_passed_over(h: DriftHarness) -> None:
    for index in range(6):
        h.add_stream(f"s{index}", None, tagged_key=KEY_A)
    h.fleet.delete_stream_at("s4", h.clock.now() + 2.0, deleting_seconds=0.1)

    h.check(repair=True)
    h.clock.advance(10)

    assert not h.fleet.exists("s4")
    assert records(h, "ERROR") == []
    assert metric_total(h, "EncryptionRepaired") == 5
    assert any("Drift check complete" in str(r["message"]) for r in records(h, "INFO"))


def test_a_throttled_listing_is_retried_and_the_check_completes(h: DriftHarness) -> None:
    for index in range(12):
        h.add_stream(f"s{index:02}", None, tagged_key=KEY_A)
    h.fleet.throttle_next("ListStreams", 3)
    h.fleet.throttle_next("ListTagsForStream", 4)

    h.check()

    assert h.fleet.count("ListStreams", outcome="LimitExceededException") == 3
    assert h.fleet.count("ListTagsForStream", outcome="LimitExceededException") == 4
    assert metric_total(h, "EncryptionDrift") == 12


def test_an_access_denied_listing_is_an_error_and_no_stream_call(h: DriftHarness) -> None:
    h.add_stream("orders", None, tagged_key=KEY_A)
    h.fleet.fail_next("ListStreams", "AccessDeniedException", "not authorized to ListStreams")

    h.check()

    [error] = records(h, "ERROR")
    assert "could not read the streams" in error["message"]
    assert metric_total(h, "DriftCheckFailed") == 1
    assert h.fleet.count("ListTagsForStream") == 0


def test_a_hand_over_mid_check_neither_misses_nor_repeats_a_stream(h: DriftHarness) -> None:
    names = [f"s{index:03}" for index in range(40)]
    for name in names:
        h.add_stream(name, None, tagged_key=KEY_A)

    invocations = h.check(repair=True, timeout=20.0)

    assert invocations > 2
    assert all("cursor" in p for p in h.invokes.payloads)
    assert metric_total(h, "EncryptionDrift") == 40
    starts = [
        c.params["StreamARN"] for c in h.fleet.calls if c.operation == "StartStreamEncryption"
    ]
    assert sorted(s.rpartition("/")[2] for s in starts) == names  # each exactly once
    assert h.puts.requests == []  # a check never PUTs anywhere


@pytest.mark.parametrize("pagination", ["kinesis", "moto"])
def test_every_stream_is_listed_beyond_ten(pagination: str) -> None:
    h = DriftHarness(pagination=pagination)  # type: ignore[arg-type]
    h.fleet.add_key(KEY_A)
    for index in range(25):
        h.add_stream(f"s{index:02}", None, tagged_key=KEY_A)

    h.check()

    assert metric_total(h, "EncryptionDrift") == 25
    assert h.fleet.count("ListTagsForStream") == 25


def test_the_check_paces_itself_within_a_quarter_of_the_account_budgets(h: DriftHarness) -> None:
    for index in range(30):
        h.add_stream(f"s{index:02}", None if index % 3 == 0 else KEY_A, tagged_key=KEY_A)

    h.check(repair=True, timeout=15.0)  # several hand-overs: pacing holds across them too

    for operation in ("ListTagsForStream", "DescribeStreamSummary", "ListStreams"):
        times = [c.time for c in h.fleet.calls if c.operation == operation]
        allowed = ACCOUNT_TPS[operation] * BUDGET_SHARE
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 1.0 / allowed - 1e-9 for gap in gaps), operation
        for start in times:  # and no 4-second window holds more than a quarter of 4 s of budget
            assert sum(1 for t in times if start <= t < start + 4.0 - 1e-6) <= 4 * allowed, (
                operation
            )


def test_a_check_stops_when_its_period_is_over(
    h: DriftHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_CHECK_PERIOD_SECONDS", "40")
    for index in range(100):
        h.add_stream(f"s{index:03}", None, tagged_key=KEY_A)
    started = h.clock.now()

    h.check(timeout=15.0)

    last_call = max(c.time for c in h.fleet.calls)
    assert last_call < started + 40 - 4  # stopped a margin before the next check is due
    assert metric_total(h, "DriftCheckIncomplete") == 1
    assert 0 < metric_total(h, "EncryptionDrift") < 100


def test_a_late_hand_over_of_a_finished_period_makes_no_call(h: DriftHarness) -> None:
    h.add_stream("orders", None, tagged_key=KEY_A)
    stale = {
        **check_event(),
        "cursor": {
            "started_at": h.clock.wall() - 7200.0,
            "stop_at": h.clock.wall() - 3660.0,
            "regions": [REGION],
            "hop": 3,
        },
    }

    h.invoke(stale)

    assert h.fleet.calls == []
    assert h.invokes.payloads == []


def test_regions_come_from_the_environment(
    h: DriftHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_CHECK_REGIONS", f"{REGION}, eu-west-1")
    h.add_stream("orders", None, tagged_key=KEY_A)
    regions: list[str] = []
    elsewhere: Any = boto3.client(
        "kinesis", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    h.fleet.attach(elsewhere)

    def client_for(region: str) -> Any:
        regions.append(region)
        return h.client if region == REGION else elsewhere

    deps = Dependencies(
        logger=h.logger,
        metrics=h.metrics,
        kinesis_client=client_for,
        lambda_client=lambda region: h.invokes,
        clock=h.clock,
        opener=h.puts,
        rng=h.rng,
    )
    process(check_event(), FakeContext(h.clock, 300.0), deps)

    assert regions == [REGION, "eu-west-1"]
    assert metric_total(h, "EncryptionDrift") == 1  # the simulated eu-west-1 has no streams
    assert [c.operation for c in h.fleet.calls].count("ListStreams") == 2


def test_a_refused_hand_over_ends_the_check_with_an_error(h: DriftHarness) -> None:
    for index in range(40):
        h.add_stream(f"s{index:03}", None, tagged_key=KEY_A)
    h.invokes.fail_with = ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": "Lambda said no"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "Invoke",
    )

    invocations = h.check(timeout=20.0)

    assert invocations == 1
    [error] = records(h, "ERROR")
    assert "Could not hand the drift check over" in error["message"]
    assert metric_total(h, "DriftCheckIncomplete") == 1
    assert 0 < metric_total(h, "EncryptionDrift") < 40


def test_a_hand_over_without_an_answer_is_not_repeated(h: DriftHarness) -> None:
    """The Invoke may have been queued: invoking again could run two checks side by side."""
    for index in range(40):
        h.add_stream(f"s{index:03}", None, tagged_key=KEY_A)
    h.invokes.fail_with = TimeoutError("read timed out")

    invocations = h.check(timeout=20.0)

    assert invocations == 1
    [error] = records(h, "ERROR")
    assert "may or may not go on" in error["message"]
    assert metric_total(h, "HandOverUnknown") == 1


def test_streams_whose_tags_the_role_may_not_read_are_not_ours(h: DriftHarness) -> None:
    h.add_stream("a-foreign", None, provider=None)  # listed first: outside the role's scope
    h.add_stream("orders", None, tagged_key=KEY_A)
    h.fleet.fail_next("ListTagsForStream", "AccessDeniedException", "not authorized")

    h.check()

    assert records(h, "ERROR") == []
    assert [line["stream"].rpartition("/")[2] for line in drift_lines(h)] == ["orders"]


def test_a_stream_that_cannot_be_described_is_reported_and_the_check_goes_on(
    h: DriftHarness,
) -> None:
    h.add_stream("a-first", None, tagged_key=KEY_A)
    h.add_stream("b-second", None, tagged_key=KEY_A)
    h.fleet.fail_next("DescribeStreamSummary", "AccessDeniedException", "not authorized")

    h.check()

    [error] = records(h, "ERROR")
    assert error["stream"].endswith("/a-first")
    assert "AccessDeniedException" in error["error"]
    assert [line["stream"].rpartition("/")[2] for line in drift_lines(h)] == ["b-second"]
    assert metric_total(h, "DriftCheckFailed") == 1
