"""The simulator's fleet side: ListStreams paging (Kinesis' way and moto's), tags, throttling."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from devsupport.kinesis_sim import VirtualClock
from devsupport.kinesis_sim_inventory import FleetSimulator


def fleet(pagination: str, streams: int) -> tuple[FleetSimulator, Any]:
    sim = FleetSimulator(VirtualClock(), pagination=pagination)  # type: ignore[arg-type]
    client = boto3.client(
        "kinesis", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    sim.attach(client)
    for index in range(streams):
        sim.create_stream(f"s{index:02}")
    return sim, client


def test_kinesis_pages_with_next_token_and_boto3s_paginator_sees_every_stream() -> None:
    sim, client = fleet("kinesis", 25)
    first = client.list_streams(Limit=10)
    assert first["HasMoreStreams"] and "NextToken" in first
    assert len(first["StreamSummaries"]) == 10
    sim.clock.advance(1)
    names = [
        n
        for page in client.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 10})
        for n in page["StreamNames"]
    ]
    assert names == sorted(f"s{i:02}" for i in range(25))
    after = client.list_streams(ExclusiveStartStreamName="s20")
    assert after["StreamNames"] == ["s21", "s22", "s23", "s24"] and not after["HasMoreStreams"]


def test_moto_style_stops_a_paginator_at_ten_but_exclusive_start_pages_on() -> None:
    _, client = fleet("moto", 25)
    names = [
        n for page in client.get_paginator("list_streams").paginate() for n in page["StreamNames"]
    ]
    assert len(names) == 10  # no NextToken: boto3's paginator stops here
    reply = client.list_streams(ExclusiveStartStreamName=names[-1])
    assert reply["HasMoreStreams"] and len(reply["StreamNames"]) == 10
    assert len(reply["StreamSummaries"]) == 25  # moto lists every summary whatever the page


def test_list_tags_pages_and_answers_not_found_for_a_missing_stream() -> None:
    sim, client = fleet("kinesis", 1)
    sim.set_tags("s00", {f"k{i:02}": str(i) for i in range(12)})
    page = client.list_tags_for_stream(StreamName="s00")
    assert len(page["Tags"]) == 10 and page["HasMoreTags"]
    sim.clock.advance(1)
    rest = client.list_tags_for_stream(StreamName="s00", ExclusiveStartTagKey="k09")
    assert [t["Key"] for t in rest["Tags"]] == ["k10", "k11"] and not rest["HasMoreTags"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_stream(StreamName="missing")


def test_list_tags_beyond_five_per_second_is_throttled() -> None:
    sim, client = fleet("kinesis", 1)
    for _ in range(5):
        client.list_tags_for_stream(StreamName="s00")
    with pytest.raises(client.exceptions.LimitExceededException, match="Rate exceeded"):
        client.list_tags_for_stream(StreamName="s00")
    sim.clock.advance(1.0)
    client.list_tags_for_stream(StreamName="s00")
    assert sim.count("ListTagsForStream", outcome="LimitExceededException") == 1


def test_injected_listing_throttles() -> None:
    sim, client = fleet("kinesis", 1)
    sim.throttle_next("ListStreams", 2)
    for _ in range(2):
        with pytest.raises(client.exceptions.LimitExceededException):
            client.list_streams()
    assert client.list_streams()["StreamNames"] == ["s00"]
