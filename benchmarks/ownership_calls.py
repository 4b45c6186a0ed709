"""Ownership's cost in API calls: what each kind of request calls, tag and CloudFormation calls
shown apart, through the real ``process`` against the Kinesis simulator and the CloudFormation
fake (one resource, no throttling, so the counts are the calls the logic makes, not retries).

ListTagsForStream and AddTagsToStream share nothing with DescribeStreamSummary's 20 per second,
but each is limited to 5 per second per account: they, not Describe, bound how many Creates an
account can run at once (see ``benchmarks.scale``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devsupport.harness import ACCOUNT, REGION, Harness, make_event

ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab"
ENCRYPTION_CALLS = ("DescribeStreamSummary", "StartStreamEncryption", "StopStreamEncryption")
TAG_CALLS = ("ListTagsForStream", "AddTagsToStream", "RemoveTagsFromStream")


@dataclass(frozen=True)
class CallCount:
    scenario: str
    status: str
    encryption_calls: int  # Describe + Start + Stop
    tag_calls: dict[str, int]
    cloudformation_calls: int

    @property
    def extra(self) -> int:
        """Calls ownership adds to the request."""
        return sum(self.tag_calls.values()) + self.cloudformation_calls


def _harness() -> Harness:
    h = Harness(guard_leaks=False, update_seconds=3.0, tag_tps_limit=None)
    h.kinesis.add_key(KEY)
    h.kinesis.add_key(OTHER_KEY)
    return h


def _create(h: Harness, key: str = KEY) -> None:
    h.run(make_event(StreamARN=ARN, KeyId=key))


def _delete(h: Harness) -> str:
    body = h.run(make_event("Delete", physical_id=ARN, StreamARN=ARN, KeyId=KEY))
    return str(body["Status"])


def _measured(
    name: str, arrange: Callable[[Harness], None], act: Callable[[Harness], str]
) -> CallCount:
    h = _harness()
    arrange(h)
    before = {op: h.kinesis.count(op) for op in ENCRYPTION_CALLS + TAG_CALLS}
    cfn_before = len(h.cloudformation.calls)
    status = act(h)
    delta = {op: h.kinesis.count(op) - before[op] for op in before}
    return CallCount(
        name,
        status,
        sum(delta[op] for op in ENCRYPTION_CALLS),
        {op: delta[op] for op in TAG_CALLS},
        len(h.cloudformation.calls) - cfn_before,
    )


def _status_of(h: Harness, event: dict[str, Any]) -> str:
    return str(h.run(event)["Status"])


def _take_over_setup(h: Harness) -> None:
    h.kinesis.create_stream("orders")
    gone = h.cloudformation.add_stack("billing", ("Billing",))
    h.cloudformation.delete_stack(gone)
    h.kinesis.set_tags(
        "orders",
        {
            "kinesis-stream-encryption:owner-stack": gone,
            "kinesis-stream-encryption:owner-resource": "Billing",
            "kinesis-stream-encryption:prior-key": "NONE",
        },
    )


def measure() -> list[CallCount]:
    """One row per kind of request."""

    def fresh(h: Harness) -> None:
        h.kinesis.create_stream("orders")

    def owned(h: Harness) -> None:
        h.kinesis.create_stream("orders")
        _create(h)

    def owned_over_prior_key(h: Harness) -> None:
        h.kinesis.create_stream("orders", encryption="KMS", key_id=OTHER_KEY)
        _create(h)

    def owned_over_same_key(h: Harness) -> None:
        h.kinesis.create_stream("orders", encryption="KMS", key_id=KEY)
        _create(h)

    def untagged_ours(h: Harness) -> None:
        h.kinesis.create_stream("orders", encryption="KMS", key_id=KEY)

    def create(h: Harness) -> str:
        return _status_of(h, make_event(StreamARN=ARN, KeyId=KEY))

    def key_change(h: Harness) -> str:
        return _status_of(h, make_event("Update", physical_id=ARN, StreamARN=ARN, KeyId=OTHER_KEY))

    return [
        _measured("Create, unencrypted stream", fresh, create),
        _measured("Create, owner of another stack gone (take over)", _take_over_setup, create),
        _measured("Update, key change (already owner)", owned, key_change),
        _measured("Create repeated, nothing to change (already owner)", owned, create),
        _measured("Delete, prior NONE (Stop)", owned, _delete),
        _measured("Delete, prior key (Start it again)", owned_over_prior_key, _delete),
        _measured("Delete, prior = current key (touch nothing)", owned_over_same_key, _delete),
        _measured("Delete, no tags (key rule)", untagged_ours, _delete),
    ]


if __name__ == "__main__":
    for row in measure():
        print(row, f"extra {row.extra}")
