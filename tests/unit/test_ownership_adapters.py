"""dal/tagging and dal/cloudformation: pagination, error mapping, retries within the deadline."""

import random

import boto3
import pytest

from devsupport.cloudformation_fake import CloudFormationFake
from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.dal.cloudformation import CloudFormationResources, OwnerCheckFailed
from stream_encryption.dal.streams import DeadlineReached
from stream_encryption.dal.tagging import KinesisTagging, TaggingRefused
from stream_encryption.identifiers import parse_stream_arn
from stream_encryption.models.ownership import Owner
from stream_encryption.time_budget import Deadline

ACCOUNT, REGION = "123456789012", "us-east-1"
STREAM = parse_stream_arn(f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders")


@pytest.fixture
def rig():
    clock = VirtualClock()
    sim = KinesisSimulator(clock, account_id=ACCOUNT, region=REGION)
    client = boto3.client(
        "kinesis", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    sim.attach(client)
    sim.create_stream("orders")

    def tagging(seconds=60.0, grace=0.0):
        deadline = Deadline(clock, clock.now() + seconds)
        return KinesisTagging(
            client, clock, deadline, rng=random.Random(1), access_denied_grace_until=grace
        )

    return clock, sim, tagging


def test_read_follows_has_more_tags_by_exclusive_start_key(rig):
    _, sim, tagging = rig
    wanted = {f"k{i:02d}": f"v{i}" for i in range(50)}
    sim.set_tags("orders", wanted)
    sim.tag_tps_limit = None
    assert tagging().read(STREAM) == wanted
    pages = [c for c in sim.calls if c.operation == "ListTagsForStream"]
    assert len(pages) == 1 and pages[0].params["StreamARN"] == STREAM.arn
    sim.set_tags("orders", {"zz": "last"})  # 51 set by another actor: two pages of 50
    assert tagging().read(STREAM)["zz"] == "last"
    later = [c for c in sim.calls if c.operation == "ListTagsForStream"][1:]
    assert [c.params.get("ExclusiveStartTagKey") for c in later] == [None, "k49"]


def test_write_and_remove_use_the_stream_arn(rig):
    _, sim, tagging = rig
    tagging().write(STREAM, {"a": "1", "b": "2"})
    tagging().remove(STREAM, ["a", "missing"])
    assert sim.tags("orders") == {"b": "2"}
    assert all(c.params.get("StreamARN") == STREAM.arn for c in sim.calls)


def test_the_account_tag_rate_is_waited_out(rig):
    clock, sim, tagging = rig
    adapter = tagging()
    for _ in range(12):
        adapter.read(STREAM)
    assert sim.count("ListTagsForStream", outcome="OK") == 12
    assert sim.count("ListTagsForStream", outcome="LimitExceededException") >= 1
    assert clock.now() >= 2.0  # 12 calls at 5 per second


def test_throttling_past_the_deadline_raises_deadline_reached(rig):
    _, sim, tagging = rig
    sim.throttle_next("AddTagsToStream", 999)
    with pytest.raises(DeadlineReached):
        tagging(seconds=5).write(STREAM, {"a": "1"})


def test_access_denied_is_refused_naming_the_action_unless_within_iam_grace(rig):
    clock, sim, tagging = rig
    sim.refuse_tagging("AddTagsToStream")
    with pytest.raises(TaggingRefused) as refused:
        tagging().write(STREAM, {"a": "1"})
    assert "kinesis:AddTagsToStream" in refused.value.reason
    assert refused.value.code == "AccessDeniedException"
    sim.fail_next("ListTagsForStream", "AccessDeniedException", count=2)
    assert tagging(grace=clock.now() + 15).read(STREAM) == {}


def test_invalid_tags_are_refused(rig):
    _, sim, tagging = rig
    with pytest.raises(TaggingRefused):
        tagging().write(STREAM, {"a": "no#hash"})
    sim.set_tags("orders", {f"k{i}": "v" for i in range(50)})
    with pytest.raises(TaggingRefused) as refused:
        tagging().write(STREAM, {"one-more": "v"})
    assert "50 tags" in refused.value.reason


# -- CloudFormation --------------------------------------------------------------------------


@pytest.fixture
def stacks():
    clock = VirtualClock()
    fake = CloudFormationFake(ACCOUNT)

    def resources(seconds=60.0):
        deadline = Deadline(clock, clock.now() + seconds)
        return CloudFormationResources(fake.client(REGION), clock, deadline, rng=random.Random(1))

    return fake, resources


def test_a_live_resource_exists(stacks):
    fake, resources = stacks
    stack = fake.add_stack("billing", ("Enc",))
    assert resources().exists(Owner(stack, "Enc")) is True
    assert fake.calls[-1]["StackName"] == stack and fake.calls[-1]["LogicalResourceId"] == "Enc"


@pytest.mark.parametrize("how", ["deleted", "retained", "removed", "forgotten", "moto-empty"])
def test_a_gone_resource_does_not_exist(stacks, how):
    fake, resources = stacks
    stack = fake.add_stack("billing", ("Enc",))
    if how == "deleted":
        fake.delete_stack(stack)
    elif how == "retained":
        fake.delete_stack(stack, retained=("Enc",))
    elif how == "removed":
        fake.remove_resource(stack, "Enc")
    elif how == "forgotten":
        fake.forget_stack(stack)
    else:
        fake.remove_resource(stack, "Enc")
        fake.empty_list_for_unknown_resource = True
    assert resources().exists(Owner(stack, "Enc")) is False


def test_access_denied_cannot_answer(stacks):
    fake, resources = stacks
    stack = fake.add_stack("billing", ("Enc",))
    fake.denied = True
    with pytest.raises(OwnerCheckFailed) as failed:
        resources().exists(Owner(stack, "Enc"))
    assert "cloudformation:DescribeStackResources" in failed.value.reason


def test_throttling_is_retried_then_bounded_by_the_deadline(stacks):
    fake, resources = stacks
    stack = fake.add_stack("billing", ("Enc",))
    fake.throttle_next(2)
    assert resources().exists(Owner(stack, "Enc")) is True
    fake.throttle_next(999)
    with pytest.raises(DeadlineReached):
        resources(seconds=3).exists(Owner(stack, "Enc"))
