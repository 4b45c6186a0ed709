"""The Kinesis simulator must behave like Kinesis through a real boto3 client, in virtual time.

Other tests trust it to show UPDATING, reject bad keys, enforce quotas and throttle; these tests
pin each of those behaviours, and the VirtualClock scheduler that load tests rely on.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from devsupport.kinesis_sim import (
    AWS_MANAGED_ALIAS,
    ClockStalledError,
    KinesisSimulator,
    SimulatorError,
    UnsupportedOperationError,
    VirtualClock,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_UUID}"
ALIAS = "alias/team-key"
ALIAS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:{ALIAS}"


def make_client(region: str = REGION) -> BaseClient:
    return boto3.client(
        "kinesis", region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sim(clock: VirtualClock) -> KinesisSimulator:
    simulator = KinesisSimulator(clock)
    simulator.create_stream("s")
    simulator.add_key(KEY_UUID, aliases=[ALIAS])
    return simulator


@pytest.fixture
def kinesis(sim: KinesisSimulator) -> BaseClient:
    return sim.attach(make_client())


def summary(kinesis: BaseClient, name: str = "s") -> dict[str, Any]:
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]


def start(kinesis: BaseClient, key: str = KEY_ARN, name: str = "s") -> dict[str, Any]:
    return kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key)


def stop(kinesis: BaseClient, key: str = KEY_ARN, name: str = "s") -> dict[str, Any]:
    return kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# ---- DescribeStreamSummary and addressing -------------------------------------------------


def test_summary_is_realistic(kinesis: BaseClient, clock: VirtualClock) -> None:
    got = summary(kinesis)
    assert got["StreamName"] == "s"
    assert got["StreamARN"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s"
    assert got["StreamStatus"] == "ACTIVE"
    assert got["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert got["RetentionPeriodHours"] == 24
    assert isinstance(got["StreamCreationTimestamp"], datetime)
    assert got["StreamCreationTimestamp"] == datetime.fromtimestamp(clock.wall(), UTC)
    assert got["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]
    assert got["EncryptionType"] == "NONE"
    assert "KeyId" not in got
    assert got["OpenShardCount"] == 1
    assert got["ConsumerCount"] == 0


def test_stream_arn_addresses_the_same_stream(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    by_arn = kinesis.describe_stream_summary(StreamARN=sim.stream_arn("s"))
    assert by_arn["StreamDescriptionSummary"]["StreamName"] == "s"
    both = kinesis.describe_stream_summary(StreamName="s", StreamARN=sim.stream_arn("s"))
    assert both["StreamDescriptionSummary"]["StreamARN"] == sim.stream_arn("s")


def test_unknown_stream_is_not_found_like_kinesis(kinesis: BaseClient) -> None:
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as exc:
        summary(kinesis, "nope")
    assert exc.value.response["Error"]["Message"] == (
        f"Stream nope under account {ACCOUNT} not found."
    )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:kinesis:us-east-1:210987654321:stream/s",
        "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
    ],
    ids=["other-account", "other-region"],
)
def test_arn_elsewhere_is_not_found(kinesis: BaseClient, arn: str) -> None:
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.describe_stream_summary(StreamARN=arn)


def test_client_in_another_region_sees_no_streams(sim: KinesisSimulator) -> None:
    other = sim.attach(make_client("eu-west-1"))
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        summary(other)


@pytest.mark.parametrize(
    "params",
    [{}, {"StreamName": "other", "StreamARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s"}],
    ids=["neither", "mismatch"],
)
def test_bad_stream_identification_is_invalid_argument(
    kinesis: BaseClient, params: dict[str, str]
) -> None:
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.describe_stream_summary(**params)


def test_parameter_validation_is_botocores(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    with pytest.raises(ParamValidationError):
        kinesis.start_stream_encryption(StreamName="s", EncryptionType="KMS")
    assert sim.calls == []


def test_unsupported_operation_is_loud(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    with pytest.raises(UnsupportedOperationError, match="ListStreams"):
        kinesis.list_streams()
    with pytest.raises(SimulatorError):
        sim.fail_next("DescribeStream", "InternalFailure")


# ---- Start / Stop lifecycle ---------------------------------------------------------------


def test_start_shows_updating_then_new_key_once_active(
    kinesis: BaseClient, clock: VirtualClock
) -> None:
    start(kinesis)
    during = summary(kinesis)
    assert during["StreamStatus"] == "UPDATING"
    assert during["EncryptionType"] == "NONE"  # new values only once ACTIVE
    assert "KeyId" not in during
    clock.sleep(2.9)
    assert summary(kinesis)["StreamStatus"] == "UPDATING"
    clock.sleep(0.1)
    after = summary(kinesis)
    assert (after["StreamStatus"], after["EncryptionType"], after["KeyId"]) == (
        "ACTIVE",
        "KMS",
        KEY_ARN,
    )


def test_key_is_reported_exactly_as_given(kinesis: BaseClient, clock: VirtualClock) -> None:
    start(kinesis, ALIAS)
    clock.sleep(3)
    assert summary(kinesis)["KeyId"] == ALIAS


def test_start_and_stop_need_active(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    start(kinesis)
    with pytest.raises(kinesis.exceptions.ResourceInUseException) as exc:
        start(kinesis)
    assert "UPDATING" in exc.value.response["Error"]["Message"]
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        stop(kinesis)
    assert sim.count("StartStreamEncryption", outcome="OK") == 1


def test_update_time_is_configurable_per_stream(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    sim.set_update_seconds("s", 60)
    sim.create_stream("fast", update_seconds=0.5)
    start(kinesis)
    start(kinesis, name="fast")
    clock.sleep(0.5)
    assert summary(kinesis, "fast")["StreamStatus"] == "ACTIVE"
    clock.sleep(59)
    assert summary(kinesis)["StreamStatus"] == "UPDATING"
    clock.sleep(0.5)
    assert summary(kinesis)["StreamStatus"] == "ACTIVE"


def test_creating_stream_turns_active_later(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    sim.create_stream("new", status="CREATING", active_after=10)
    assert summary(kinesis, "new")["StreamStatus"] == "CREATING"
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        start(kinesis, name="new")
    clock.sleep(10)
    assert summary(kinesis, "new")["StreamStatus"] == "ACTIVE"
    start(kinesis, name="new")


def test_only_kms_is_a_valid_encryption_type(kinesis: BaseClient) -> None:
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.start_stream_encryption(StreamName="s", EncryptionType="NONE", KeyId=KEY_ARN)


def test_stop_returns_to_none_without_key(kinesis: BaseClient, clock: VirtualClock) -> None:
    start(kinesis)
    clock.sleep(3)
    stop(kinesis)
    assert summary(kinesis)["EncryptionType"] == "KMS"
    clock.sleep(3)
    after = summary(kinesis)
    assert (after["StreamStatus"], after["EncryptionType"]) == ("ACTIVE", "NONE")
    assert "KeyId" not in after


def test_stop_with_another_key_is_invalid_argument(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    start(kinesis, KEY_ARN)
    clock.sleep(3)
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        stop(kinesis, KEY_UUID)  # same key, other form: compared as an exact string
    sim.stop_requires_matching_key = False
    stop(kinesis, KEY_UUID)


# ---- KMS ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [KEY_UUID, KEY_ARN, ALIAS, ALIAS_ARN, AWS_MANAGED_ALIAS])
def test_every_key_form_resolves(kinesis: BaseClient, key: str) -> None:
    start(kinesis, key)


def test_unknown_key_is_kms_not_found(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    with pytest.raises(kinesis.exceptions.KMSNotFoundException):
        start(kinesis, "alias/missing")
    with pytest.raises(kinesis.exceptions.KMSNotFoundException):
        start(kinesis, KEY_ARN.replace(ACCOUNT, "210987654321"))
    assert sim.stream("s").status == "ACTIVE"
    assert sim.stream("s").starts_in_window == 0


@pytest.mark.parametrize(
    ("state", "exception"),
    [
        ("Disabled", "KMSDisabledException"),
        ("PendingDeletion", "KMSInvalidStateException"),
        ("PendingImport", "KMSInvalidStateException"),
    ],
)
def test_key_state_errors(
    kinesis: BaseClient, sim: KinesisSimulator, state: str, exception: str
) -> None:
    sim.set_key_state(ALIAS, state)
    with pytest.raises(getattr(kinesis.exceptions, exception)):
        start(kinesis, KEY_UUID)


def test_cross_account_key_resolves_only_by_arn(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    other = "210987654321"
    arn = sim.add_key("abcd", aliases=["alias/shared"], account=other)
    assert arn == f"arn:aws:kms:{REGION}:{other}:key/abcd"
    with pytest.raises(kinesis.exceptions.KMSNotFoundException):
        start(kinesis, "alias/shared")  # alias names resolve in the caller's account
    with pytest.raises(kinesis.exceptions.KMSNotFoundException):
        start(kinesis, "abcd")
    start(kinesis, arn)


def test_kms_checks_can_be_switched_off(clock: VirtualClock) -> None:
    sim = KinesisSimulator(clock, kms_checks=False)
    sim.create_stream("s")
    start(sim.attach(make_client()), "alias/anything")


# ---- quotas, throttling, faults ------------------------------------------------------------


def test_26th_start_within_24h_exceeds_quota_and_window_rolls(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    for i in range(25):
        start(kinesis, KEY_ARN if i % 2 else ALIAS)
        clock.sleep(3)
    with pytest.raises(kinesis.exceptions.LimitExceededException) as exc:
        start(kinesis)
    message = exc.value.response["Error"]["Message"]
    assert "25" in message
    assert "24 hours" in message
    assert summary(kinesis)["StreamStatus"] == "ACTIVE"
    clock.advance(86_400 - 75 - 1)  # the first start is still inside the window
    with pytest.raises(kinesis.exceptions.LimitExceededException):
        start(kinesis)
    clock.advance(1)
    start(kinesis)
    assert sim.count("StartStreamEncryption", outcome="OK") == 26


def test_stop_quota_is_separate(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    sim.stop_requires_matching_key = False
    for _ in range(25):
        stop(kinesis)
        clock.sleep(3)
    with pytest.raises(kinesis.exceptions.LimitExceededException, match="25"):
        stop(kinesis)
    start(kinesis)


def test_throttle_next(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    sim.throttle_next("DescribeStreamSummary", 2)
    for _ in range(2):
        with pytest.raises(kinesis.exceptions.LimitExceededException) as exc:
            summary(kinesis)
        assert exc.value.response["Error"]["Message"] == (
            f"Rate exceeded for stream s under account {ACCOUNT}."
        )
    summary(kinesis)
    assert sim.count("DescribeStreamSummary", outcome="LimitExceededException") == 2


def test_describe_tps_limit_is_a_sliding_second(clock: VirtualClock) -> None:
    sim = KinesisSimulator(clock, describe_tps_limit=20)
    sim.create_stream("s")
    kinesis = sim.attach(make_client())
    for _ in range(10):
        summary(kinesis)
    clock.advance(0.5)
    for _ in range(10):
        summary(kinesis)
    with pytest.raises(kinesis.exceptions.LimitExceededException, match="Rate exceeded"):
        summary(kinesis)
    clock.advance(0.5)  # the first ten fall out of the window
    for _ in range(10):
        summary(kinesis)
    with pytest.raises(kinesis.exceptions.LimitExceededException):
        summary(kinesis)


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("StartStreamEncryption", "AccessDeniedException"),
        ("StartStreamEncryption", "KMSAccessDeniedException"),
        ("StartStreamEncryption", "KMSOptInRequired"),
        ("StartStreamEncryption", "KMSThrottlingException"),
        ("StartStreamEncryption", "InvalidArgumentException"),
        ("StopStreamEncryption", "LimitExceededException"),
        ("DescribeStreamSummary", "AccessDeniedException"),
    ],
)
def test_fail_next_raises_the_modeled_exception(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock, operation: str, code: str
) -> None:
    start(kinesis)
    clock.sleep(3)
    sim.fail_next(operation, code, "you shall not pass")
    call = {
        "StartStreamEncryption": lambda: start(kinesis),
        "StopStreamEncryption": lambda: stop(kinesis),
        "DescribeStreamSummary": lambda: summary(kinesis),
    }[operation]
    with pytest.raises(getattr(kinesis.exceptions, code)) as exc:
        call()
    assert exc.value.response["Error"]["Message"] == "you shall not pass"
    assert sim.stream("s").status == "ACTIVE"  # a failed call changed nothing
    call()  # the fault was used up


def test_unmodeled_500_is_a_plain_client_error(kinesis: BaseClient, sim: KinesisSimulator) -> None:
    sim.fail_next("DescribeStreamSummary", "InternalFailure", count=2, http_status=500)
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            summary(kinesis)
        assert error_code(exc) == "InternalFailure"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    summary(kinesis)


@pytest.mark.parametrize(
    ("kind", "exception"),
    [
        ("reset", ConnectionClosedError),
        ("timeout", ReadTimeoutError),
        ("connect", EndpointConnectionError),
        ("connect-timeout", ConnectTimeoutError),
    ],
)
def test_connection_errors_are_botocores(
    kinesis: BaseClient, sim: KinesisSimulator, kind: Any, exception: type[Exception]
) -> None:
    sim.connection_error_next("StartStreamEncryption", 1, kind)
    with pytest.raises(exception, match="kinesis"):
        start(kinesis)
    assert sim.stream("s").status == "ACTIVE"
    assert sim.calls[-1].outcome == exception.__name__


def test_connection_error_after_the_service_applied_the_call(
    kinesis: BaseClient, sim: KinesisSimulator
) -> None:
    sim.connection_error_next("StartStreamEncryption", kind="timeout", applied=True)
    with pytest.raises(ReadTimeoutError):
        start(kinesis)
    assert sim.stream("s").status == "UPDATING"
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        start(kinesis)  # the retry meets the update the lost answer started
    with pytest.raises(SimulatorError):
        sim.connection_error_next("StartStreamEncryption", kind="connect", applied=True)


# ---- other actors and lifecycle -------------------------------------------------------------


def test_delete_stream_goes_through_deleting(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    start(kinesis)
    sim.delete_stream("s", deleting_seconds=2)
    assert summary(kinesis)["StreamStatus"] == "DELETING"
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        start(kinesis)
    clock.sleep(2)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        summary(kinesis)
    assert not sim.exists("s")
    with pytest.raises(SimulatorError):
        sim.delete_stream("s")


def test_delete_stream_at_virtual_time(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    sim.delete_stream_at("s", 10.0, deleting_seconds=1)
    clock.sleep(9.9)
    assert summary(kinesis)["StreamStatus"] == "ACTIVE"
    clock.sleep(0.1)
    assert summary(kinesis)["StreamStatus"] == "DELETING"
    clock.sleep(1)
    assert not sim.exists("s")


def test_scheduled_actions_apply_at_their_own_time(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    sim.delete_stream_at("s", 5.0, deleting_seconds=1)
    clock.advance(100)  # nobody looked in between: the history is still replayed in order
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        summary(kinesis)
    assert [event for _, event in sim.events][-2:] == ["delete s", "gone s"]
    assert [t for t, _ in sim.events][-2:] == [5.0, 6.0]


def test_external_update_changes_encryption_and_spends_quota(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    sim.external_update("s", encryption="KMS", key_id="alias/theirs", updating_seconds=5)
    assert summary(kinesis)["StreamStatus"] == "UPDATING"
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        start(kinesis)
    clock.sleep(5)
    got = summary(kinesis)
    assert (got["StreamStatus"], got["KeyId"]) == ("ACTIVE", "alias/theirs")
    assert sim.stream("s").starts_in_window == 1


def test_begin_external_update_keeps_encryption(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    start(kinesis)
    clock.sleep(3)
    sim.begin_external_update("s", 30)
    got = summary(kinesis)
    assert (got["StreamStatus"], got["KeyId"]) == ("UPDATING", KEY_ARN)
    clock.sleep(30)
    assert summary(kinesis)["StreamStatus"] == "ACTIVE"


def test_external_change_during_our_update_lands_last(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    start(kinesis)
    sim.external_update("s", encryption="KMS", key_id="alias/theirs", at=1.0, updating_seconds=4)
    clock.sleep(3)
    assert summary(kinesis)["StreamStatus"] == "UPDATING"  # busy window extended to t=5
    clock.sleep(2)
    assert summary(kinesis)["KeyId"] == "alias/theirs"


def test_calls_are_recorded(
    kinesis: BaseClient, sim: KinesisSimulator, clock: VirtualClock
) -> None:
    summary(kinesis)
    clock.sleep(1.5)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        start(kinesis, name="nope")
    first, second = sim.calls
    assert (first.operation, first.params, first.time, first.ok) == (
        "DescribeStreamSummary",
        {"StreamName": "s"},
        0.0,
        True,
    )
    assert (second.time, second.outcome) == (1.5, "ResourceNotFoundException")
    assert sim.count() == 2
    assert sim.count(outcome="OK") == 1


def test_detach_stops_serving(sim: KinesisSimulator) -> None:
    client = make_client()
    sim.attach(client)
    sim.attach(client)  # idempotent
    summary(client)
    sim.detach(client)
    client.meta.events.register("before-call.kinesis", _refuse_network)
    with pytest.raises(RuntimeError, match="network"):
        summary(client)
    assert sim.count() == 1


def _refuse_network(**_: Any) -> None:
    raise RuntimeError("would use the network")


# ---- VirtualClock -------------------------------------------------------------------------


def test_single_thread_clock_is_plain_advance() -> None:
    clock = VirtualClock(start_wall=1_000.0)
    real = time.monotonic()
    clock.sleep(3600)
    clock.advance(0.5)
    clock.sleep(-1)
    assert clock.now() == 3600.5
    assert clock.wall() == 4600.5
    assert time.monotonic() - real < 0.1
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert VirtualClock().wall() == 1_800_000_000.0


def test_participants_wake_in_virtual_order(clock: VirtualClock) -> None:
    log: list[tuple[float, str]] = []
    lock = threading.Lock()

    def sleeper(name: str, delays: list[float]) -> float:
        for delay in delays:
            clock.sleep(delay)
            with lock:
                log.append((clock.now(), name))
        return clock.now()

    real = time.monotonic()
    ends = clock.run_threads(
        [
            lambda: sleeper("a", [5.0]),
            lambda: sleeper("b", [1.0, 1.0, 1.0]),
            lambda: sleeper("c", [2.5, 0.25]),
            lambda: sleeper("d", [4.0]),
        ]
    )
    assert time.monotonic() - real < 1.0
    assert ends == [5.0, 3.0, 2.75, 4.0]
    assert log == [
        (1.0, "b"),
        (2.0, "b"),
        (2.5, "c"),
        (2.75, "c"),
        (3.0, "b"),
        (4.0, "d"),
        (5.0, "a"),
    ]
    assert clock.participant_count == 0


def test_a_running_participant_holds_time_still(clock: VirtualClock) -> None:
    seen: dict[str, float] = {}

    def busy() -> None:
        time.sleep(0.05)  # real work, no virtual sleep: time must not move under it
        seen["busy"] = clock.now()

    def sleeper() -> None:
        clock.sleep(1)
        seen["sleeper"] = clock.now()

    clock.run_threads([busy, sleeper])
    assert seen == {"busy": 0.0, "sleeper": 1.0}


def test_participant_leaving_or_failing_does_not_deadlock(clock: VirtualClock) -> None:
    def leaves() -> str:
        return "left"

    def fails() -> None:
        clock.sleep(0.5)
        raise KeyError("boom")

    def sleeps() -> float:
        clock.sleep(2)
        return clock.now()

    with pytest.raises(KeyError, match="boom"):
        clock.run_threads([leaves, fails, sleeps], timeout=5)
    assert clock.now() == 2.0
    assert clock.participant_count == 0


def test_participant_context_manager(clock: VirtualClock) -> None:
    done: list[float] = []

    def worker() -> None:
        with clock.participant(), clock.participant():  # re-entrant
            clock.sleep(7)
            done.append(clock.now())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(2)
    assert done == [7.0]
    assert clock.participant_count == 0


def test_stalled_participant_is_reported_not_hung() -> None:
    clock = VirtualClock(stall_timeout=0.1)
    release = threading.Event()

    def blocked_outside_the_clock() -> None:
        release.wait(2)

    def sleeper() -> None:
        try:
            clock.sleep(1)
        finally:
            release.set()

    with pytest.raises(ClockStalledError):
        clock.run_threads([blocked_outside_the_clock, sleeper], timeout=5)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(1, 20), min_size=1, max_size=4), min_size=1, max_size=5))
def test_each_participant_wakes_at_its_cumulative_times(delays: list[list[int]]) -> None:
    clock = VirtualClock()

    def run(steps: list[int]) -> list[float]:
        woke = []
        for step in steps:
            clock.sleep(step)
            woke.append(clock.now())
        return woke

    results = clock.run_threads([lambda steps=steps: run(steps) for steps in delays], timeout=5)
    for steps, woke in zip(delays, results, strict=True):
        expected = [float(sum(steps[: i + 1])) for i in range(len(steps))]
        assert woke == expected
    assert clock.now() == max(sum(steps) for steps in delays)


# ---- simulator under concurrent load ------------------------------------------------------


def test_concurrent_pollers_hit_the_tps_limit_then_recover(clock: VirtualClock) -> None:
    sim = KinesisSimulator(clock, describe_tps_limit=20)
    sim.create_stream("s")
    kinesis = sim.attach(make_client())

    def poll() -> float:
        while True:
            try:
                summary(kinesis)
                return clock.now()
            except kinesis.exceptions.LimitExceededException:
                clock.sleep(1)

    finished = clock.run_threads([poll] * 30)
    assert sorted(finished) == [0.0] * 20 + [1.0] * 10
    assert sim.count(outcome="LimitExceededException") == 10


def test_concurrent_waiters_see_their_updates_finish(clock: VirtualClock) -> None:
    sim = KinesisSimulator(clock, update_seconds=3)
    names = [f"s{i}" for i in range(5)]
    for i, name in enumerate(names):
        sim.create_stream(name, update_seconds=float(i + 1))
    kinesis = sim.attach(make_client())

    def encrypt(name: str) -> float:
        start(kinesis, AWS_MANAGED_ALIAS, name)
        while summary(kinesis, name)["StreamStatus"] != "ACTIVE":
            clock.sleep(0.5)
        return clock.now()

    ends = clock.run_threads([lambda name=name: encrypt(name) for name in names])
    assert ends == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(sim.stream(name).key_id == AWS_MANAGED_ALIAS for name in names)
