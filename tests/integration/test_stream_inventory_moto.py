"""The check's Kinesis adapter against moto 5.2 itself: its ListStreams gives no NextToken, a
default Limit of 10 and every stream's summary on each page; paging by name still sees all."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from devsupport.kinesis_sim import VirtualClock
from stream_encryption.dal.stream_inventory import Pacer, StreamInventory
from stream_encryption.time_budget import Deadline

REGION = "us-east-1"


def _inventory(client: Any, clock: VirtualClock) -> StreamInventory:
    return StreamInventory(
        client,
        clock,
        Deadline(clock, clock.now() + 3600),
        region=REGION,
        account="123456789012",
        pacer=Pacer(clock),
    )


@mock_aws
def test_every_stream_and_its_tags_are_read_from_moto() -> None:
    client = boto3.client("kinesis", region_name=REGION)
    for index in range(25):
        client.create_stream(StreamName=f"s{index:02}", ShardCount=1)
    client.add_tags_to_stream(StreamName="s07", Tags={f"k{i:02}": str(i) for i in range(12)})
    clock = VirtualClock()
    inventory = _inventory(client, clock)

    seen: list[tuple[str, str]] = []
    after: str | None = None
    while True:
        page = inventory.list_streams(after)
        seen.extend(page.streams)
        if not page.has_more:
            break
        after = page.streams[-1][0]

    assert [name for name, _ in seen] == [f"s{i:02}" for i in range(25)]
    assert all(arn.endswith(f":stream/{name}") for name, arn in seen)
    assert inventory.tags(dict(seen)["s07"]) == {f"k{i:02}": str(i) for i in range(12)}
    assert inventory.describe(dict(seen)["s07"]) is not None
    client.delete_stream(StreamName="s08")
    assert inventory.tags(dict(seen)["s08"]) is None  # gone: not an error
