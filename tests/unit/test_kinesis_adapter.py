"""The Kinesis adapter on its own (SPEC "Create / Update" 4, "Waiting"): error mapping, retries,
waiting, and the deadline, against the simulator on a virtual clock."""

import random

import boto3
import pytest

from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.dal.kinesis import KinesisAdapter, poll_gap
from stream_encryption.dal.streams import DeadlineReached, KinesisError
from stream_encryption.identifiers import StreamArn, StreamRef
from stream_encryption.time_budget import Deadline

ORDERS = StreamRef(StreamArn("aws", "us-east-1", "123456789012", "orders"))


class Rig:
    def __init__(self, deadline_in: float = 300.0, grace: float = 0.0, **options):
        self.clock = VirtualClock()
        self.sim = KinesisSimulator(self.clock, **options)
        client = boto3.client(
            "kinesis", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.sim.attach(client)
        self.adapter = KinesisAdapter(
            client,
            self.clock,
            Deadline(self.clock, self.clock.now() + deadline_in),
            rng=random.Random(7),
            access_denied_grace_until=self.clock.now() + grace,
        )


def test_describe_reports_the_stream_and_none_when_it_is_missing():
    rig = Rig()
    assert rig.adapter.describe(ORDERS) is None
    rig.sim.create_stream("orders")
    state = rig.adapter.describe(ORDERS)
    assert state is not None
    assert (state.arn, state.status, state.encryption_type) == (ORDERS.arn.arn, "ACTIVE", "NONE")


def test_a_stream_named_by_name_is_called_by_name():
    rig = Rig()
    rig.sim.create_stream("orders")
    rig.adapter.describe(StreamRef(ORDERS.arn, by_name=True))
    assert rig.sim.calls[-1].params == {"StreamName": "orders"}


def test_start_then_wait_until_settled_sees_the_key_applied():
    rig = Rig(update_seconds=4.0)
    rig.sim.create_stream("orders")
    assert rig.adapter.start(ORDERS, "alias/aws/kinesis") == "accepted"
    state = rig.adapter.wait_until_settled(ORDERS)
    assert state is not None and (state.status, state.encryption_type) == ("ACTIVE", "KMS")
    assert 4.0 <= rig.clock.now() <= 5.0  # noticed within a second of settling


def test_throttled_describes_are_retried():
    rig = Rig()
    rig.sim.create_stream("orders")
    rig.sim.throttle_next("DescribeStreamSummary", count=3)
    assert rig.adapter.describe(ORDERS) is not None
    assert rig.adapter.throttles == 3


def test_start_on_a_busy_stream_is_in_use_not_an_error():
    rig = Rig(update_seconds=30.0)
    rig.sim.create_stream("orders", status="UPDATING", active_after=30.0)
    assert rig.adapter.start(ORDERS, "alias/aws/kinesis") == "in-use"


def test_a_start_whose_answer_was_lost_is_unknown_and_not_repeated():
    rig = Rig()
    rig.sim.create_stream("orders")
    rig.sim.connection_error_next("StartStreamEncryption", kind="reset", applied=True)
    assert rig.adapter.start(ORDERS, "alias/aws/kinesis") == "unknown"
    assert rig.sim.count("StartStreamEncryption") == 1


def test_kms_errors_become_a_reason_naming_the_key():
    rig = Rig()
    rig.sim.create_stream("orders")
    rig.sim.fail_next("StartStreamEncryption", "KMSDisabledException")
    with pytest.raises(KinesisError) as raised:
        rig.adapter.start(ORDERS, "alias/disabled")
    assert raised.value.code == "KMSDisabledException"
    assert "alias/disabled" in raised.value.reason and "Enable it" in raised.value.reason


def test_access_denied_is_retried_only_within_the_iam_grace():
    rig = Rig(grace=15.0)
    rig.sim.create_stream("orders")
    rig.sim.fail_next("StartStreamEncryption", "AccessDeniedException", count=2)
    assert rig.adapter.start(ORDERS, "alias/aws/kinesis") == "accepted"
    late = Rig(grace=0.0)
    late.sim.create_stream("orders")
    late.sim.fail_next("StartStreamEncryption", "AccessDeniedException")
    with pytest.raises(KinesisError, match="kinesis:StartStreamEncryption"):
        late.adapter.start(ORDERS, "alias/aws/kinesis")


def test_the_daily_quota_is_reported_after_looking_twice_more():
    rig = Rig()
    rig.sim.create_stream("orders")
    rig.sim.fail_next("StartStreamEncryption", "LimitExceededException", "quota", count=5)
    with pytest.raises(KinesisError, match="25 key changes per rolling 24 hours"):
        rig.adapter.start(ORDERS, "alias/aws/kinesis")
    assert rig.sim.count("StartStreamEncryption") == 3


def test_waiting_stops_at_the_deadline_with_the_last_state_seen():
    rig = Rig(deadline_in=10.0)
    rig.sim.create_stream("orders", status="UPDATING", active_after=600.0)
    with pytest.raises(DeadlineReached) as reached:
        rig.adapter.wait_until_settled(ORDERS)
    assert rig.clock.now() <= 10.0
    assert reached.value.last_state is not None and reached.value.last_state.status == "UPDATING"


@pytest.mark.parametrize(
    ("waited", "gap"),
    [(0.0, 1.0), (10.0, 1.0), (20.0, 1.0), (40.0, 2.0), (60.0, 3.0), (100.0, 5.0), (3000.0, 5.0)],
)
def test_the_poll_gap_is_a_second_while_young_then_five_percent_of_the_wait_at_most_five(
    waited, gap
):
    assert poll_gap(waited) == pytest.approx(gap)


def test_throttling_multiplies_the_gap_up_to_twenty_seconds():
    assert poll_gap(10.0, throttle_factor=4.0) == pytest.approx(4.0)
    assert poll_gap(600.0, throttle_factor=8.0) == pytest.approx(20.0)
