"""Simulator tags: List/Add/Remove, 50-tag limit, charset, 5 TPS, refusing tag policies."""

import boto3
import pytest
from botocore.exceptions import ClientError

from devsupport.kinesis_sim import KinesisSimulator, VirtualClock
from stream_encryption.models.progress import Progress

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"


@pytest.fixture
def sim_client():
    sim = KinesisSimulator(VirtualClock())
    client = boto3.client(
        "kinesis", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    sim.attach(client)
    sim.create_stream("orders")
    return sim, client


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_tags_round_trip_and_do_not_change_the_stream_status(sim_client):
    sim, client = sim_client
    client.add_tags_to_stream(StreamARN=ARN, Tags={"b": "2", "a": "1"})
    reply = client.list_tags_for_stream(StreamARN=ARN)
    assert reply["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert reply["HasMoreTags"] is False
    client.remove_tags_from_stream(StreamARN=ARN, TagKeys=["a"])
    assert sim.tags("orders") == {"b": "2"}
    assert sim.stream("orders").status == "ACTIVE"


def test_list_pages_with_limit_and_exclusive_start_key(sim_client):
    sim, client = sim_client
    sim.set_tags("orders", {f"k{i:02d}": "v" for i in range(15)})
    first = client.list_tags_for_stream(StreamARN=ARN)
    assert len(first["Tags"]) == 10 and first["HasMoreTags"] is True
    second = client.list_tags_for_stream(StreamARN=ARN, ExclusiveStartTagKey="k09")
    assert second["Tags"][0]["Key"] == "k10" and second["HasMoreTags"] is False


@pytest.mark.parametrize(
    "tags",
    [{"k": "bad#value"}, {"aws:reserved": "x"}, {"k": "v" * 257}, {"k" * 129: "v"}],
)
def test_invalid_tags_are_rejected(sim_client, tags):
    _, client = sim_client
    with pytest.raises(ClientError) as error:
        client.add_tags_to_stream(StreamARN=ARN, Tags=tags)
    assert code(error) == "InvalidArgumentException"


def test_at_most_fifty_tags(sim_client):
    sim, client = sim_client
    sim.set_tags("orders", {f"k{i}": "v" for i in range(49)})
    client.add_tags_to_stream(StreamARN=ARN, Tags={"k0": "overwrite", "fiftieth": "v"})
    with pytest.raises(ClientError) as error:
        client.add_tags_to_stream(StreamARN=ARN, Tags={"one-more": "v"})
    assert code(error) == "InvalidArgumentException"


def test_list_and_add_are_limited_to_five_per_second(sim_client):
    sim, client = sim_client
    for _ in range(5):
        client.list_tags_for_stream(StreamARN=ARN)
    with pytest.raises(ClientError) as error:
        client.list_tags_for_stream(StreamARN=ARN)
    assert code(error) == "LimitExceededException"
    client.add_tags_to_stream(StreamARN=ARN, Tags={"a": "1"})  # a separate budget
    sim.clock.advance(1.0)
    client.list_tags_for_stream(StreamARN=ARN)


def test_a_tag_policy_refuses_with_access_denied(sim_client):
    sim, client = sim_client
    sim.refuse_tagging("AddTagsToStream")
    client.list_tags_for_stream(StreamARN=ARN)
    with pytest.raises(ClientError) as error:
        client.add_tags_to_stream(StreamARN=ARN, Tags={"a": "1"})
    assert code(error) == "AccessDeniedException"


def test_progress_carries_the_ownership_fields_across_a_hand_over():
    progress = Progress(1.0, ownership="recorded", ownership_note="n", tags_before={"k": "v"})
    again = Progress.from_json(progress.to_json())
    assert again == progress
    older = {
        k: v
        for k, v in progress.to_json().items()
        if k in {"version", "firstReceivedAt", "hop", "changeAccepted", "changeRequested"}
    }
    assert Progress.from_json(older) == Progress(1.0)
