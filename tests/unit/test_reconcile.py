"""The use cases on their own: properties and progress in, an outcome or a hand-over out.

No CloudFormation event, no response: what the logic decides, and what it tells the edge (the
stream it resolved to, whether a change may have been applied) so that the edge can pick ids.
"""

import logging
import random

import boto3

from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.dal.kinesis import KinesisAdapter
from stream_encryption.logic.reconcile import Runtime, apply_encryption, remove_encryption
from stream_encryption.models.outcome import Handover, Outcome
from stream_encryption.models.place import FunctionPlace
from stream_encryption.models.progress import Progress
from stream_encryption.time_budget import TimeBudget

ACCOUNT, REGION = "123456789012", "us-east-1"
ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
TOKEN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"


class Rig:
    def __init__(self, invocation_seconds: float = 300.0, **options):
        self.clock = VirtualClock()
        self.sim = KinesisSimulator(self.clock, account_id=ACCOUNT, region=REGION, **options)
        client = boto3.client(
            "kinesis", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.sim.attach(client)
        ends = self.clock.now() + invocation_seconds
        self.regions: list[str] = []

        def open_streams(region, deadline, *, access_denied_grace_until):
            self.regions.append(region)
            return KinesisAdapter(
                client,
                self.clock,
                deadline,
                rng=random.Random(3),
                access_denied_grace_until=access_denied_grace_until,
            )

        self.runtime = Runtime(
            place=FunctionPlace("aws", REGION, ACCOUNT),
            budget=TimeBudget(self.clock, lambda: ends - self.clock.now()),
            open_streams=open_streams,
            log=logging.getLogger("test-reconcile"),
        )

    def fresh(self) -> Progress:
        return Progress(first_received_at=self.clock.wall())


def test_encrypting_reports_the_stream_and_that_a_change_was_made():
    rig = Rig()
    rig.sim.create_stream("orders")
    progress = rig.fresh()
    outcome = apply_encryption(
        {"ServiceToken": TOKEN, "StreamName": "orders"}, progress, rig.runtime
    )
    assert isinstance(outcome, Outcome) and outcome.succeeded and outcome.kind == "started"
    assert outcome.stream_arn == ARN and outcome.change_requested
    assert outcome.data["KeyId"] == "alias/aws/kinesis" and outcome.seconds > 0
    assert progress.change_accepted


def test_the_streams_region_chooses_where_to_call():
    rig = Rig()
    arn = f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/orders"
    apply_encryption({"ServiceToken": TOKEN, "StreamARN": arn}, rig.fresh(), rig.runtime)
    assert rig.regions == ["eu-west-1"]


def test_bad_properties_fail_before_any_call_and_name_no_stream():
    rig = Rig()
    outcome = apply_encryption({"ServiceToken": TOKEN}, rig.fresh(), rig.runtime)
    assert isinstance(outcome, Outcome) and not outcome.succeeded
    assert outcome.stream_arn is None and not outcome.change_requested
    assert "StreamARN or StreamName" in outcome.reason
    assert rig.sim.count() == 0


def test_a_failure_after_the_start_was_accepted_says_a_change_may_be_applied():
    rig = Rig()
    rig.sim.create_stream("orders")
    rig.sim.fail_next("DescribeStreamSummary", "InvalidArgumentException")
    carried = Progress(rig.clock.wall(), hop=1, change_accepted=True, change_requested=True)
    outcome = apply_encryption({"ServiceToken": TOKEN, "StreamARN": ARN}, carried, rig.runtime)
    assert isinstance(outcome, Outcome) and not outcome.succeeded
    assert outcome.stream_arn == ARN and outcome.change_requested


def test_out_of_invocation_time_hands_over_with_the_progress_so_far():
    rig = Rig(invocation_seconds=20.0, update_seconds=120.0)
    rig.sim.create_stream("orders")
    props = {"ServiceToken": TOKEN, "StreamName": "orders", "ServiceTimeout": "600"}
    result = apply_encryption(props, rig.fresh(), rig.runtime)
    assert isinstance(result, Handover)
    assert result.progress.hop == 1 and result.progress.change_accepted
    assert not result.fallback.succeeded and "Handing the wait over" in result.fallback.reason


def test_a_resumed_request_never_starts_again():
    rig = Rig(update_seconds=5.0)
    rig.sim.create_stream("orders")
    rig.sim.begin_external_update("orders", 5.0)
    carried = Progress(rig.clock.wall(), hop=1, change_accepted=True, change_requested=True)
    props = {"ServiceToken": TOKEN, "StreamName": "orders"}
    outcome = apply_encryption(props, carried, rig.runtime)
    # Our Start was accepted earlier, yet the stream settles unencrypted: someone else undid it.
    assert isinstance(outcome, Outcome) and not outcome.succeeded
    assert "changed by someone else" in outcome.reason
    assert rig.sim.count("StartStreamEncryption") == 0


def test_past_service_timeout_fails_asking_for_a_longer_one():
    rig = Rig(update_seconds=600.0)
    rig.sim.create_stream("orders")
    props = {"ServiceToken": TOKEN, "StreamName": "orders", "ServiceTimeout": "60"}
    result = apply_encryption(props, rig.fresh(), rig.runtime)
    assert isinstance(result, Outcome) and not result.succeeded
    assert "Raise ServiceTimeout" in result.reason


def test_removing_from_an_id_that_is_no_stream_touches_nothing():
    rig = Rig()
    outcome = remove_encryption("not-an-arn", {"ServiceToken": TOKEN}, rig.fresh(), rig.runtime)
    assert isinstance(outcome, Outcome) and outcome.succeeded and outcome.kind == "unchanged"
    assert rig.sim.count() == 0


def test_removing_stops_the_encryption_this_resource_set():
    rig = Rig()
    rig.sim.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    props = {"ServiceToken": TOKEN, "StreamARN": ARN}
    outcome = remove_encryption(ARN, props, rig.fresh(), rig.runtime)
    assert isinstance(outcome, Outcome) and outcome.kind == "stopped"
    assert rig.sim.stream("orders").encryption_type == "NONE"


def test_after_our_own_stop_a_stream_encrypted_again_is_left_on():
    rig = Rig()
    rig.sim.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    carried = Progress(rig.clock.wall(), hop=1, change_accepted=True, change_requested=True)
    props = {"ServiceToken": TOKEN, "StreamARN": ARN}
    outcome = remove_encryption(ARN, props, carried, rig.runtime)
    assert isinstance(outcome, Outcome) and outcome.succeeded
    assert outcome.warning and "turned on again by someone else" in outcome.warning
    assert rig.sim.count("StopStreamEncryption") == 0
