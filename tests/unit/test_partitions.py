"""One region/partition rule for every partition and region botocore knows (its partitions.json
and endpoints.json): stream and key ARNs there parse, with the right partition and region."""

from __future__ import annotations

import re

import pytest
from botocore.loaders import Loader

from stream_encryption.identifiers import (
    PARTITION_PATTERN,
    REGION_PATTERN,
    StreamArn,
    keys_equivalent,
    parse_key_id,
    parse_stream_arn,
)

ACCOUNT = "123456789012"
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def _known_regions() -> list[tuple[str, str]]:
    """(partition, region) for every real region botocore lists in either data file.

    Pseudo-regions such as ``aws-global`` do not match their partition's own ``regionRegex`` and
    never appear in a resource ARN: they are left out.
    """
    loader = Loader()
    found: set[tuple[str, str]] = set()
    for partition in loader.load_data("partitions")["partitions"]:
        pattern = re.compile(partition["regionRegex"])
        found.update(
            (partition["id"], region) for region in partition["regions"] if pattern.match(region)
        )
    for partition in loader.load_data("endpoints")["partitions"]:
        pattern = re.compile(partition["regionRegex"])
        found.update(
            (partition["partition"], region)
            for region in partition["regions"]
            if pattern.match(region)
        )
    return sorted(found)


KNOWN = _known_regions()


def test_botocore_knows_the_partitions_that_matter():
    partitions = {partition for partition, _ in KNOWN}
    assert {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-eusc"} <= partitions
    assert ("aws-eusc", "eusc-de-east-1") in KNOWN


@pytest.mark.parametrize(("partition", "region"), KNOWN, ids=[r for _, r in KNOWN])
def test_every_known_region_parses_in_stream_arns(partition, region):
    arn = f"arn:{partition}:kinesis:{region}:{ACCOUNT}:stream/orders"
    parsed = parse_stream_arn(arn)
    assert parsed == StreamArn(partition, region, ACCOUNT, "orders")
    assert parsed.arn == arn


@pytest.mark.parametrize(("partition", "region"), KNOWN, ids=[r for _, r in KNOWN])
def test_every_known_region_parses_in_key_and_alias_arns(partition, region):
    stream = StreamArn(partition, region, ACCOUNT, "orders")
    key_arn = f"arn:{partition}:kms:{region}:{ACCOUNT}:key/{UUID}"
    alias_arn = f"arn:{partition}:kms:{region}:{ACCOUNT}:alias/orders"
    key, alias = parse_key_id(key_arn), parse_key_id(alias_arn)
    assert key is not None and (key.region, key.account) == (region, ACCOUNT)
    assert alias is not None and alias.name == "alias/orders"
    assert keys_equivalent(key_arn, UUID, stream)
    assert keys_equivalent(alias_arn, "alias/orders", stream)


def test_the_patterns_match_whole_names_of_every_known_partition_and_region():
    for partition, region in KNOWN:
        assert re.fullmatch(PARTITION_PATTERN, partition), partition
        assert re.fullmatch(REGION_PATTERN, region), region


@pytest.mark.parametrize("region", ["aws-global", "us-east", "useast1", "us_east_1", "US-EAST-1"])
def test_things_that_are_no_region_do_not_parse(region):
    assert parse_stream_arn(f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/orders") is None
