"""Property-based: ownership invariants over random tag states, owners and requests.

Whatever the stream carries and whatever CloudFormation says: exactly one response; a Delete
never fails; no StartStreamEncryption on a stream a live resource of another stack owns; a
request that fails without any change leaves the stream's tags as they were; a Delete that gave
the stream back leaves none of this resource's tags; other tags are never touched.
"""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devsupport.harness import ACCOUNT, REGION, STACK_ID, Harness, make_event
from stream_encryption.cfn.physical_ids import FAILED_CREATE_PREFIX

ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
KEYS = {
    "ours": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "theirs": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab",
    "disabled": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5555abcd-12ab-34cd-56ef-1234567890ab",
}
PREFIX = "kinesis-stream-encryption:"

owners = st.sampled_from(["none", "me", "renamed", "other-live", "other-gone", "garbage"])
priors = st.sampled_from(
    [None, "NONE", "UNKNOWN", KEYS["theirs"], KEYS["ours"], "alias/aws/kinesis"]
)
encryptions = st.sampled_from([None, "ours", "theirs", "alias/aws/kinesis"])
requests = st.sampled_from(["Create", "Update", "Delete"])
wanted = st.sampled_from(["ours", "theirs", "disabled"])
tag_faults = st.sampled_from([None, "refuse-all", "refuse-add", "refuse-remove", "throttle"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(owners, priors, encryptions, requests, wanted, tag_faults)
@example("me", "NONE", "ours", "Delete", "ours", None)
@example("me", KEYS["theirs"], "ours", "Delete", "ours", "throttle")
@example("other-live", "NONE", "theirs", "Create", "ours", None)
@example("none", None, None, "Create", "disabled", None)
@example("renamed", KEYS["theirs"], "ours", "Update", "disabled", "throttle")
def test_ownership_invariants(owner, prior, encryption, request_type, key, fault):
    h = Harness(guard_leaks=False)
    for arn in KEYS.values():
        h.kinesis.add_key(arn.rpartition("/")[2])
    h.kinesis.set_key_state(KEYS["disabled"].rpartition("/")[2], "Disabled")
    current = KEYS.get(encryption or "", encryption)
    if current:
        h.kinesis.create_stream("orders", encryption="KMS", key_id=current)
    else:
        h.kinesis.create_stream("orders")
    other = h.cloudformation.add_stack("billing", ("Billing",))
    if owner == "other-gone":
        h.cloudformation.delete_stack(other)
    tags = {"team": "payments"}
    stack, resource = {
        "none": (None, None),
        "me": (STACK_ID, "StreamEncryption"),
        "renamed": (STACK_ID, "OldName"),
        "other-live": (other, "Billing"),
        "other-gone": (other, "Billing"),
        "garbage": ("not a stack", "x"),
    }[owner]
    if stack:
        tags |= {f"{PREFIX}owner-stack": stack, f"{PREFIX}owner-resource": resource}
    if prior:
        tags[f"{PREFIX}prior-key"] = prior
    h.kinesis.set_tags("orders", tags)
    if fault == "refuse-all":
        h.kinesis.refuse_tagging()
    elif fault == "refuse-add":
        h.kinesis.refuse_tagging("AddTagsToStream")
    elif fault == "refuse-remove":
        h.kinesis.refuse_tagging("RemoveTagsFromStream")
    elif fault == "throttle":
        for operation in ("ListTagsForStream", "AddTagsToStream", "RemoveTagsFromStream"):
            h.kinesis.throttle_next(operation, 2)
    before = h.kinesis.tags("orders")

    physical_id = None if request_type == "Create" else ARN
    event = make_event(request_type, physical_id=physical_id, StreamARN=ARN, KeyId=KEYS[key])
    body = h.run(event)

    after = h.kinesis.tags("orders")
    assert after["team"] == "payments"
    if request_type == "Delete":
        assert body["Status"] == "SUCCESS", body["Reason"]
    if owner == "other-live" and fault != "refuse-all":
        assert h.kinesis.count("StartStreamEncryption") == 0
        assert h.kinesis.count("StopStreamEncryption") == 0
        assert after == before
    if body["Status"] == "FAILED" and body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX):
        assert h.kinesis.count("StartStreamEncryption", outcome="OK") == 0
        if fault != "refuse-remove":
            assert after == before
    if request_type == "Delete" and owner == "me" and fault not in ("refuse-all", "refuse-remove"):
        assert not any(k.startswith(PREFIX) for k in after)
