"""Many streams in one stack: IAM's quotas are computed at synth, least privilege per stream is
kept as far as they allow, ``stream_name_prefix`` takes over past that, and every Delete of a
removed resource still finds its permission (CloudFormation deletes removed resources only in
the cleanup phase, after it has updated every remaining resource, shared policies included)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from kinesis_stream_encryption import (
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_LIMIT,
    RESOURCE_TYPE,
    ROLE_INLINE_POLICIES_LIMIT,
    STREAM_ACTIONS,
    KinesisStreamEncryption,
)
from kinesis_stream_encryption.provider import estimated_policy_chars

from .synth_helpers import join_text

pytestmark = pytest.mark.infra

ACCOUNT = "123456789012"
REGION = "us-east-1"
FLEET = 200
PREFIX = "fleet-"


def stream_arn(index: int) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{PREFIX}{index:03d}"


def key_arn(index: int) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{index:08x}-12ab-34cd-56ef-1234567890ab"


def fleet_template(
    indexes: range | list[int], *, prefix: str | None, keys: bool = True
) -> dict[str, Any]:
    """One stack, one resource per index (construct id by index: stable across versions)."""
    app = cdk.App()
    stack = cdk.Stack(app, "Fleet")
    for index in indexes:
        KinesisStreamEncryption(
            stack,
            f"Enc{index:03d}",
            stream=stream_arn(index),
            key=key_arn(index) if keys else None,
            stream_name_prefix=prefix,
        )
    assembly = app.synth()
    return assembly.get_stack_by_name("Fleet").template  # type: ignore[no-any-return]


def role_policy_sizes(template: dict[str, Any]) -> tuple[int, list[int]]:
    """(inline characters on the role, characters of each managed policy attached to it)."""
    resources = template["Resources"]
    (role_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"]
    inline, managed = 0, []
    for resource in resources.values():
        roles = resource.get("Properties", {}).get("Roles", [])
        if {"Ref": role_id} not in roles:
            continue
        size = estimated_policy_chars(resource["Properties"]["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Policy":
            inline += size
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            managed.append(size)
    inline += sum(
        estimated_policy_chars(p["PolicyDocument"])
        for p in resources[role_id]["Properties"].get("Policies", [])
    )
    return inline, managed


@pytest.fixture(scope="module")
def prefix_fleet() -> dict[str, Any]:
    return fleet_template(range(FLEET), prefix=PREFIX)


def test_per_stream_policies_past_the_quota_fail_synth_naming_the_option() -> None:
    with pytest.raises(RuntimeError, match=r"10240.*stream_name_prefix="):
        fleet_template(range(FLEET), prefix=None)


def test_200_streams_with_their_own_keys_fit_the_quotas_with_a_prefix(
    prefix_fleet: dict[str, Any],
) -> None:
    resources = prefix_fleet["Resources"]
    assert sum(r["Type"] == RESOURCE_TYPE for r in resources.values()) == FLEET
    inline, managed = role_policy_sizes(prefix_fleet)
    assert inline <= ROLE_INLINE_POLICIES_LIMIT
    assert managed, "the keys' statements live in managed policies"
    assert all(size <= MANAGED_POLICY_LIMIT for size in managed)
    assert len(managed) <= MANAGED_POLICIES_PER_ROLE
    # Every key is granted, through Kinesis, for the prefix's streams only.
    granted = {
        key
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "kms:GenerateDataKey"
        for key in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert granted == {key_arn(i) for i in range(FLEET)}
    for r in resources.values():
        if r["Type"] == "AWS::IAM::ManagedPolicy":
            for s in r["Properties"]["PolicyDocument"]["Statement"]:
                if s["Action"] == "kms:GenerateDataKey":
                    context = s["Condition"]["StringLike"]["kms:EncryptionContext:aws:kinesis:arn"]
                    assert join_text(context).endswith(f":stream/{PREFIX}*")


def test_the_prefix_grant_is_one_statement_every_resource_depends_on(
    prefix_fleet: dict[str, Any],
) -> None:
    resources = prefix_fleet["Resources"]
    kinesis = [
        (pid, s)
        for pid, r in resources.items()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "kinesis:" in str(s["Action"])
    ]
    ((policy_id, statement),) = kinesis
    assert sorted(statement["Action"]) == sorted(STREAM_ACTIONS)
    assert join_text(statement["Resource"]) == (
        f"arn:${{AWS::Partition}}:kinesis:*:${{AWS::AccountId}}:stream/{PREFIX}*"
    )
    for resource in resources.values():
        if resource["Type"] == RESOURCE_TYPE:
            assert policy_id in resource["DependsOn"]


def test_a_stream_outside_the_prefix_is_refused(fresh_stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="does not start with stream_name_prefix"):
        KinesisStreamEncryption(fresh_stack, "E", stream="orders", stream_name_prefix=PREFIX)


@pytest.mark.parametrize("prefix", ["", "a*", "a/b", "x" * 128])
def test_a_prefix_that_is_no_stream_name_start_is_refused(
    fresh_stack: cdk.Stack, prefix: str
) -> None:
    with pytest.raises(ValueError, match="stream_name_prefix"):
        KinesisStreamEncryption(fresh_stack, "E", stream="a", stream_name_prefix=prefix)


def test_one_stack_one_prefix(fresh_stack: cdk.Stack) -> None:
    KinesisStreamEncryption(fresh_stack, "A", stream="fleet-a", stream_name_prefix=PREFIX)
    with pytest.raises(ValueError, match="stream_name_prefix='fleet-'"):
        KinesisStreamEncryption(fresh_stack, "B", stream="fleet-b")


def test_per_stream_least_privilege_is_kept_while_it_fits() -> None:
    template = fleet_template(range(10), prefix=None)
    inline, managed = role_policy_sizes(template)
    assert inline <= ROLE_INLINE_POLICIES_LIMIT
    assert managed == []
    kinesis_resources = sorted(
        join_text(s["Resource"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "kinesis:" in str(s["Action"])
    )
    assert kinesis_resources == sorted(stream_arn(i) for i in range(10))


def test_the_size_warning_comes_before_the_error() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Fleet")
    warned_at = None
    for index in range(40):
        construct = KinesisStreamEncryption(
            stack, f"Enc{index:03d}", stream=stream_arn(index), key=key_arn(index)
        )
        if any(e.type == "aws:cdk:warning" for e in construct.provider.node.metadata):
            warned_at = index + 1
            break
    assert warned_at is not None
    inline = construct.provider.policy_sizes().inline
    assert 0.8 * ROLE_INLINE_POLICIES_LIMIT < inline <= ROLE_INLINE_POLICIES_LIMIT
    app.synth()  # still within the quota: synthesis succeeds


# --- a resource removed: its Delete runs in the cleanup phase; is its permission still there? -


def _policies(template: dict[str, Any]) -> dict[str, Any]:
    return {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
    }


def _resource_id(template: dict[str, Any], arn: str) -> str:
    (found,) = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == RESOURCE_TYPE and r["Properties"].get("StreamARN") == arn
    ]
    return found


def test_removed_resource_keeps_its_own_policy_until_its_delete() -> None:
    """Per-stream mode. Update phase of version 2: policies that stay are unchanged, so none
    loses the removed stream. Cleanup phase: CloudFormation deletes the removed resource and
    its own policy in reverse dependency order -- the resource (which depends on the policy)
    first, so its Delete runs while the policy still grants its stream."""
    removed = 2
    v1 = fleet_template(range(5), prefix=None)
    v2 = fleet_template([i for i in range(5) if i != removed], prefix=None)
    p1, p2 = _policies(v1), _policies(v2)
    for logical_id, policy in p2.items():
        assert p1.get(logical_id) == policy, f"{logical_id} changed in the update phase"
    gone = set(p1) - set(p2)
    mentions = {k for k, p in p1.items() if stream_arn(removed) in json.dumps(p)}
    assert mentions == gone and len(gone) == 1
    assert gone <= set(v1["Resources"][_resource_id(v1, stream_arn(removed))]["DependsOn"])


def test_removed_resource_in_a_prefix_fleet_keeps_the_shared_grant(
    prefix_fleet: dict[str, Any],
) -> None:
    """Prefix mode: the Kinesis grant does not change when a resource goes, so the removed
    resource's Delete (cleanup phase) still has it; its key leaves the key policies in the
    update phase, which Delete does not need (StopStreamEncryption uses no key permission)."""
    removed = 57
    v2 = fleet_template([i for i in range(FLEET) if i != removed], prefix=PREFIX)
    p1, p2 = _policies(prefix_fleet), _policies(v2)
    (grant_id,) = [
        k
        for k, p in p1.items()
        if any(
            "kinesis:" in str(statement["Action"])
            for statement in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert p2[grant_id] == p1[grant_id]
    assert (
        grant_id
        in prefix_fleet["Resources"][_resource_id(prefix_fleet, stream_arn(removed))]["DependsOn"]
    )
    assert f"stream/{PREFIX}" in stream_arn(removed)
    assert key_arn(removed) not in json.dumps(v2)


def test_a_new_prefix_is_a_new_policy() -> None:
    """Changing the prefix does not edit the old grant in place (which would drop it before the
    cleanup phase's Deletes): the old policy, named after its prefix, leaves in cleanup."""

    def grant_ids(prefix: str) -> set[str]:
        stack = cdk.Stack(cdk.App(), "S")
        KinesisStreamEncryption(stack, "E", stream=f"{prefix}a", stream_name_prefix=prefix)
        return {
            k
            for k in Template.from_stack(stack).find_resources("AWS::IAM::Policy")
            if "PrefixStreamsPolicy" in k
        }

    first, again, other = grant_ids("fleet-"), grant_ids("fleet-"), grant_ids("other-")
    assert len(first) == 1
    assert first == again
    assert first != other


def test_the_readme_states_the_fleets_managed_policy_count(prefix_fleet: dict[str, Any]) -> None:
    import re

    from .conftest import REPO

    words = {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
    text = " ".join((REPO / "README.md").read_text().split())
    match = re.search(r"200 streams with a key each fit in (\w+)", text)
    assert match is not None
    _inline, managed = role_policy_sizes(prefix_fleet)
    assert words[match[1]] == len(managed)


def test_with_a_prefix_a_token_name_is_warned_about_and_a_literal_one_checked(
    fresh_stack: cdk.Stack,
) -> None:
    from kinesis_stream_encryption import StreamName

    from .synth_helpers import warning_ids

    parameter = cdk.CfnParameter(fresh_stack, "Name").value_as_string
    by_token = KinesisStreamEncryption(
        fresh_stack, "T", stream=StreamName(parameter), stream_name_prefix=PREFIX
    )
    by_name = KinesisStreamEncryption(
        fresh_stack, "N", stream=f"{PREFIX}orders", stream_name_prefix=PREFIX
    )
    assert warning_ids(by_token) == ["streamNameUnchecked"]
    assert warning_ids(by_name) == []
    assert by_token.policy is by_name.policy is by_name.provider.prefix_policy()
    template = Template.from_stack(fresh_stack)
    names = sorted(
        str(r["Properties"]["StreamName"]) for r in template.find_resources(RESOURCE_TYPE).values()
    )
    assert names == sorted([f"{PREFIX}orders", str({"Ref": "Name"})])
