"""SPEC "Ownership (tags on the stream)" and the ownership rules of "Delete", end to end through
``process`` against the Kinesis simulator and the CloudFormation fake."""

import pytest

from devsupport.harness import ACCOUNT, FUNCTION_ARN, REGION, STACK_ID, make_event
from stream_encryption.cfn.physical_ids import FAILED_CREATE_PREFIX

ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
OLD_UUID = "9999abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID}"
OLD_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{OLD_UUID}"
STACK_TAG = "kinesis-stream-encryption:owner-stack"
RESOURCE_TAG = "kinesis-stream-encryption:owner-resource"
PRIOR_TAG = "kinesis-stream-encryption:prior-key"
KEY_TAG = "kinesis-stream-encryption:key"
PROVIDER_TAG = "kinesis-stream-encryption:provider"


def create(h, logical_id="StreamEncryption", stack_id=STACK_ID, **properties):
    event = make_event(**{"StreamARN": ARN, "KeyId": KEY_ARN, **properties})
    event["LogicalResourceId"], event["StackId"] = logical_id, stack_id
    return h.run(event)


def delete(h, logical_id="StreamEncryption", stack_id=STACK_ID):
    event = make_event("Delete", physical_id=ARN, StreamARN=ARN, KeyId=KEY_ARN)
    event["LogicalResourceId"], event["StackId"] = logical_id, stack_id
    return h.run(event)


def owned_by(stack_id, logical_id, prior):
    return {STACK_TAG: stack_id, RESOURCE_TAG: logical_id, PRIOR_TAG: prior}


def tag_calls(h):
    return [c.operation for c in h.kinesis.calls if "Tags" in c.operation]


@pytest.fixture
def keys(h):
    h.kinesis.add_key(UUID)
    h.kinesis.add_key(OLD_UUID)


# -- Create ----------------------------------------------------------------------------------


def test_create_reads_then_writes_the_tags_before_starting_encryption(h, keys):
    h.kinesis.create_stream("orders")
    body = create(h)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.tags("orders") == {
        **owned_by(STACK_ID, "StreamEncryption", "NONE"),
        KEY_TAG: KEY_ARN,
        PROVIDER_TAG: FUNCTION_ARN,
    }
    operations = [c.operation for c in h.kinesis.calls]
    start = operations.index("StartStreamEncryption")
    assert operations.index("ListTagsForStream") < operations.index("AddTagsToStream") < start


def test_create_on_an_already_encrypted_stream_records_that_key_as_prior(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    create(h)
    assert h.kinesis.tags("orders")[PRIOR_TAG] == OLD_KEY_ARN
    assert h.kinesis.stream("orders").key_id == KEY_ARN


def test_create_with_the_key_already_on_records_it_and_does_not_start(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=UUID)
    body = create(h)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("StartStreamEncryption") == 0
    assert h.kinesis.tags("orders")[PRIOR_TAG] == UUID


def test_other_tags_on_the_stream_are_kept(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.set_tags("orders", {"team": "payments", "cost-center": "42"})
    create(h)
    delete(h)
    assert h.kinesis.tags("orders") == {"team": "payments", "cost-center": "42"}


def test_a_duplicate_create_proceeds_as_the_owner_without_rewriting(h, keys):
    h.kinesis.create_stream("orders")
    create(h)
    writes = h.kinesis.count("AddTagsToStream")
    body = create(h)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("AddTagsToStream") == writes
    assert h.kinesis.tags("orders")[PRIOR_TAG] == "NONE"  # not the key we applied meanwhile


def test_a_live_resource_of_another_stack_keeps_the_stream(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    other = h.cloudformation.add_stack("billing", ("BillingEncryption",))
    theirs = owned_by(other, "BillingEncryption", "NONE")
    h.kinesis.set_tags("orders", theirs)
    body = create(h)
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    assert "BillingEncryption" in body["Reason"] and "billing" in body["Reason"]
    assert h.kinesis.count("StartStreamEncryption") == 0
    assert h.kinesis.tags("orders") == theirs
    assert h.cloudformation.calls[-1]["region"] == REGION


@pytest.mark.parametrize("gone", ["deleted", "retained", "removed", "forgotten"])
def test_an_owner_cloudformation_no_longer_has_is_taken_over_keeping_prior_key(h, keys, gone):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    other = h.cloudformation.add_stack("billing", ("BillingEncryption",))
    h.kinesis.set_tags("orders", owned_by(other, "BillingEncryption", "NONE"))
    if gone == "deleted":
        h.cloudformation.delete_stack(other)
    elif gone == "retained":
        h.cloudformation.delete_stack(other, retained=("BillingEncryption",))
    elif gone == "removed":
        h.cloudformation.remove_resource(other, "BillingEncryption")
    else:
        h.cloudformation.forget_stack(other)
    body = create(h)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.tags("orders") == {
        **owned_by(STACK_ID, "StreamEncryption", "NONE"),
        KEY_TAG: KEY_ARN,
        PROVIDER_TAG: FUNCTION_ARN,
    }
    assert "Taking over" in body["Reason"] and "BillingEncryption" in body["Reason"]
    assert "Taking over" in h.logs


def test_unknown_logical_id_answered_with_an_empty_list_counts_as_gone(h, keys):
    h.kinesis.create_stream("orders")
    other = h.cloudformation.add_stack("billing", ())
    h.cloudformation.empty_list_for_unknown_resource = True  # moto 5.2's answer
    h.kinesis.set_tags("orders", owned_by(other, "BillingEncryption", "NONE"))
    assert create(h)["Status"] == "SUCCESS"


def test_the_owner_stack_is_asked_in_its_own_region(h, keys):
    h.kinesis.create_stream("orders")
    other = h.cloudformation.add_stack("billing", ("BillingEncryption",), region="eu-west-1")
    h.kinesis.set_tags("orders", owned_by(other, "BillingEncryption", "NONE"))
    body = create(h)
    assert body["Status"] == "FAILED"
    assert h.cloudformation.calls[-1]["region"] == "eu-west-1"


def test_cloudformation_access_denied_fails_saying_so(h, keys):
    h.kinesis.create_stream("orders")
    other = h.cloudformation.add_stack("billing", ("BillingEncryption",))
    h.kinesis.set_tags("orders", owned_by(other, "BillingEncryption", "NONE"))
    h.cloudformation.denied = True
    body = create(h)
    assert body["Status"] == "FAILED"
    assert "cloudformation:DescribeStackResources" in body["Reason"]
    assert h.kinesis.count("StartStreamEncryption") == 0


def test_cloudformation_throttling_is_retried(h, keys):
    h.kinesis.create_stream("orders")
    other = h.cloudformation.add_stack("billing", ("BillingEncryption",))
    h.cloudformation.delete_stack(other)
    h.kinesis.set_tags("orders", owned_by(other, "BillingEncryption", "NONE"))
    h.cloudformation.throttle_next(2)
    assert create(h)["Status"] == "SUCCESS"
    assert len(h.cloudformation.calls) == 3


def test_a_renamed_resource_of_the_same_stack_is_taken_over(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    create(h, logical_id="OldName")
    body = create(h, logical_id="NewName")
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.tags("orders")[RESOURCE_TAG] == "NewName"
    assert h.kinesis.tags("orders")[PRIOR_TAG] == OLD_KEY_ARN
    assert not h.cloudformation.calls  # the same stack: no need to ask
    # CloudFormation then deletes the old resource in its cleanup: it leaves the stream alone.
    body = delete(h, logical_id="OldName")
    assert body["Status"] == "SUCCESS" and "NewName" in body["Reason"]
    assert h.kinesis.stream("orders").key_id == KEY_ARN
    assert h.kinesis.tags("orders")[RESOURCE_TAG] == "NewName"
    # And the new one, deleted later, gives back the key that was there first.
    delete(h, logical_id="NewName")
    assert h.kinesis.stream("orders").key_id == OLD_KEY_ARN
    assert h.kinesis.tags("orders") == {}


def test_an_owner_tag_that_is_no_stack_id_is_refused(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.set_tags("orders", owned_by("hand-written", "Somebody", "NONE"))
    body = create(h)
    assert body["Status"] == "FAILED" and "not a CloudFormation StackId" in body["Reason"]


def test_an_owner_in_another_account_is_refused(h, keys):
    h.kinesis.create_stream("orders")
    elsewhere = f"arn:aws:cloudformation:{REGION}:210987654321:stack/billing/0000"
    h.kinesis.set_tags("orders", owned_by(elsewhere, "BillingEncryption", "NONE"))
    body = create(h)
    assert body["Status"] == "FAILED" and "another account" in body["Reason"]


# -- Update ----------------------------------------------------------------------------------


def update(h, physical_id, **properties):
    return h.run(make_event("Update", physical_id=physical_id, **properties))


def test_an_update_of_a_stream_managed_before_ownership_records_unknown(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=KEY_ARN)
    body = update(h, ARN, StreamARN=ARN, KeyId=KEY_ARN)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.tags("orders")[PRIOR_TAG] == "UNKNOWN"
    # Delete then uses the key rule: the key is ours, so encryption stops.
    delete(h)
    assert h.kinesis.stream("orders").encryption_type == "NONE"
    assert h.kinesis.tags("orders") == {}


def test_an_update_to_another_stream_records_that_streams_prior_encryption(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.create_stream("audit", encryption="KMS", key_id=OLD_KEY_ARN)
    create(h)
    audit = h.kinesis.stream_arn("audit")
    body = update(h, ARN, StreamARN=audit, KeyId=KEY_ARN)
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == audit
    assert h.kinesis.tags("audit")[PRIOR_TAG] == OLD_KEY_ARN


def test_an_update_changing_the_key_keeps_prior_and_updates_the_key_tag(h, keys):
    h.kinesis.create_stream("orders")
    create(h)
    update(h, ARN, StreamARN=ARN, KeyId=OLD_KEY_ARN)
    tags = h.kinesis.tags("orders")
    assert tags[PRIOR_TAG] == "NONE" and tags[KEY_TAG] == OLD_KEY_ARN


# -- Delete ----------------------------------------------------------------------------------


def test_delete_gives_back_a_pre_existing_key(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    create(h)
    body = delete(h)
    assert body["Status"] == "SUCCESS" and OLD_KEY_ARN in body["Reason"]
    state = h.kinesis.stream("orders")
    assert (state.status, state.key_id) == ("ACTIVE", OLD_KEY_ARN)
    assert h.kinesis.count("StopStreamEncryption") == 0
    assert h.kinesis.tags("orders") == {}


def test_delete_touches_nothing_when_the_stream_was_encrypted_that_way_before(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=UUID)
    create(h)
    changes = h.kinesis.count("StartStreamEncryption") + h.kinesis.count("StopStreamEncryption")
    body = delete(h)
    assert body["Status"] == "SUCCESS" and "already encrypted" in body["Reason"]
    assert (
        h.kinesis.count("StartStreamEncryption") + h.kinesis.count("StopStreamEncryption")
        == changes
    )
    assert h.kinesis.stream("orders").key_id == UUID
    assert h.kinesis.tags("orders") == {}


def test_delete_stops_encryption_the_resource_turned_on(h, keys):
    h.kinesis.create_stream("orders")
    create(h)
    delete(h)
    assert h.kinesis.stream("orders").encryption_type == "NONE"
    stop = next(c for c in h.kinesis.calls if c.operation == "StopStreamEncryption")
    assert stop.params["KeyId"] == KEY_ARN
    assert h.kinesis.tags("orders") == {}
    # Tags are removed only after the stream is ACTIVE again.
    remove = next(c for c in h.kinesis.calls if c.operation == "RemoveTagsFromStream")
    assert remove.time >= stop.time + 3


@pytest.mark.parametrize("trouble", ["disabled", "pending-deletion", "quota"])
def test_a_prior_key_that_cannot_be_given_back_leaves_encryption_on(h, keys, trouble):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    create(h)
    if trouble == "quota":
        h.kinesis.fail_next(
            "StartStreamEncryption",
            "LimitExceededException",
            "Exceeded the limit of 25 encryption changes per 24 hours",
            count=9,
        )
    else:
        h.kinesis.set_key_state(
            OLD_UUID, "Disabled" if trouble == "disabled" else "PendingDeletion"
        )
    body = delete(h)
    assert body["Status"] == "SUCCESS"
    assert "could not be given back" in body["Reason"] and OLD_KEY_ARN in body["Reason"]
    assert "could not be given back" in h.logs
    assert h.kinesis.stream("orders").key_id == KEY_ARN
    assert h.kinesis.tags("orders") == {}


def test_delete_leaves_a_stream_another_resource_owns(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=KEY_ARN)
    other = h.cloudformation.add_stack("billing", ("BillingEncryption",))
    theirs = owned_by(other, "BillingEncryption", "NONE")
    h.kinesis.set_tags("orders", theirs)
    body = delete(h)
    assert body["Status"] == "SUCCESS" and "BillingEncryption" in body["Reason"]
    assert h.kinesis.stream("orders").key_id == KEY_ARN
    assert h.kinesis.tags("orders") == theirs
    assert "BillingEncryption" in h.logs


def test_delete_of_an_untagged_stream_uses_the_key_rule(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    body = delete(h)
    assert body["Status"] == "SUCCESS" and h.kinesis.stream("orders").key_id == OLD_KEY_ARN
    h.kinesis.create_stream("other", encryption="KMS", key_id=KEY_ARN)
    other = h.kinesis.stream_arn("other")
    event = make_event("Delete", physical_id=other, StreamARN=other, KeyId=KEY_ARN)
    assert h.run(event)["Status"] == "SUCCESS"
    assert h.kinesis.stream("other").encryption_type == "NONE"


def test_retain_then_a_new_stack_takes_over_and_gives_back_the_first_prior(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    first = h.cloudformation.add_stack("first", ("Enc",))
    create(h, logical_id="Enc", stack_id=first)
    h.cloudformation.delete_stack(first, retained=("Enc",))  # RETAIN: no Delete is sent
    assert h.kinesis.tags("orders")[STACK_TAG] == first
    second = h.cloudformation.add_stack("second", ("Enc",))
    assert create(h, logical_id="Enc", stack_id=second)["Status"] == "SUCCESS"
    delete(h, logical_id="Enc", stack_id=second)
    assert h.kinesis.stream("orders").key_id == OLD_KEY_ARN


# -- tagging refused -------------------------------------------------------------------------


@pytest.mark.parametrize("refused", [("ListTagsForStream",), ("AddTagsToStream",)])
def test_refused_tagging_still_encrypts_and_says_ownership_was_not_recorded(h, keys, refused):
    h.kinesis.create_stream("orders")
    h.kinesis.refuse_tagging(*refused)
    body = create(h)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.stream("orders").key_id == KEY_ARN
    assert "could not be recorded" in body["Reason"] and refused[0] in body["Reason"]
    assert "could not be recorded" in h.logs
    assert h.kinesis.tags("orders") == {}


def test_tagging_denied_just_after_the_policy_was_created_is_waited_out(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next("AddTagsToStream", "AccessDeniedException", count=2)
    body = create(h)
    assert body["Status"] == "SUCCESS" and "could not be recorded" not in body["Reason"]
    assert h.kinesis.tags("orders")[PRIOR_TAG] == "NONE"


def test_delete_with_refused_tagging_uses_the_key_rule(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=KEY_ARN)
    h.kinesis.refuse_tagging()
    body = delete(h)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.stream("orders").encryption_type == "NONE"
    assert "key rule" in h.logs


def test_tag_throttling_is_retried_with_backoff(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.throttle_next("ListTagsForStream", 2)
    h.kinesis.throttle_next("AddTagsToStream", 2)
    assert create(h)["Status"] == "SUCCESS"
    assert h.kinesis.count("ListTagsForStream") == 3 and h.kinesis.count("AddTagsToStream") == 3
    times = [c.time for c in h.kinesis.calls if c.operation == "ListTagsForStream"]
    assert times[1] > times[0] and times[2] > times[1]


def test_many_tags_are_read_page_by_page(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.set_tags("orders", {f"k{i:02d}": "v" for i in range(60)})
    other = h.cloudformation.add_stack("billing", ("BillingEncryption",))
    h.kinesis.set_tags("orders", owned_by(other, "BillingEncryption", "NONE"))  # sorts last
    body = create(h)
    assert body["Status"] == "FAILED" and "BillingEncryption" in body["Reason"]
    assert h.kinesis.count("ListTagsForStream") >= 2


# -- failed requests put the tags back --------------------------------------------------------


def test_a_create_failing_before_start_removes_the_tags_it_wrote(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.set_key_state(UUID, "Disabled")
    body = create(h)
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    assert h.kinesis.count("AddTagsToStream") == 1
    assert h.kinesis.tags("orders") == {}


def test_a_failed_takeover_puts_the_previous_owner_back(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    create(h, logical_id="OldName")
    before = h.kinesis.tags("orders")
    h.kinesis.add_key("3333abcd-12ab-34cd-56ef-1234567890ab")
    h.kinesis.set_key_state("3333abcd-12ab-34cd-56ef-1234567890ab", "Disabled")
    body = create(h, logical_id="NewName", KeyId="3333abcd-12ab-34cd-56ef-1234567890ab")
    assert body["Status"] == "FAILED" and "disabled" in body["Reason"]
    assert h.kinesis.tags("orders") == before
    assert h.kinesis.count("AddTagsToStream") == 3  # OldName's, NewName's, and the put-back


def test_a_create_failing_after_start_keeps_the_tags_for_rollback(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    # Someone stops encryption while this request waits: FAILED after Start was accepted.
    h.kinesis.external_update("orders", encryption="NONE", at=h.clock.now() + 1)
    body = create(h)
    assert body["Status"] == "FAILED" and "changed by someone else" in body["Reason"]
    assert body["PhysicalResourceId"] == ARN
    assert h.kinesis.tags("orders")[PRIOR_TAG] == OLD_KEY_ARN
    # Rollback's Delete gives the prior key back.
    assert delete(h)["Status"] == "SUCCESS"
    assert h.kinesis.stream("orders").key_id == OLD_KEY_ARN
    assert h.kinesis.tags("orders") == {}


def test_a_failed_update_to_another_stream_leaves_its_tags_as_they_were(h, keys):
    h.kinesis.create_stream("orders")
    h.kinesis.create_stream("audit")
    create(h)
    h.kinesis.set_key_state(UUID, "Disabled")
    audit = h.kinesis.stream_arn("audit")
    body = update(h, ARN, StreamARN=audit, KeyId=KEY_ARN)
    assert body["Status"] == "FAILED" and body["PhysicalResourceId"] == ARN
    assert h.kinesis.tags("audit") == {}
    # CloudFormation's rollback: Update back to the first stream, still owned.
    h.kinesis.set_key_state(UUID, "Enabled")
    assert update(h, ARN, StreamARN=ARN, KeyId=KEY_ARN)["Status"] == "SUCCESS"
    assert h.kinesis.tags("orders")[RESOURCE_TAG] == "StreamEncryption"


def test_replacement_then_cleanup_delete_gives_back_the_old_stream(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    h.kinesis.create_stream("audit")
    create(h)
    audit = h.kinesis.stream_arn("audit")
    assert update(h, ARN, StreamARN=audit, KeyId=KEY_ARN)["Status"] == "SUCCESS"
    assert delete(h)["Status"] == "SUCCESS"  # cleanup of the old physical id
    assert h.kinesis.stream("orders").key_id == OLD_KEY_ARN
    assert h.kinesis.tags("orders") == {}
    assert h.kinesis.tags("audit")[RESOURCE_TAG] == "StreamEncryption"
    assert h.kinesis.stream("audit").key_id == KEY_ARN


# -- hand-overs ------------------------------------------------------------------------------


def test_a_handed_over_create_remembers_it_wrote_the_tags_fresh(h, keys):
    h.kinesis.create_stream("orders", status="UPDATING", active_after=1)
    h.kinesis.set_update_seconds("orders", 400)
    event = make_event(StreamARN=ARN, KeyId=KEY_ARN, ServiceTimeout="3600")
    body = h.run(event, timeout=60)
    assert body["Status"] == "SUCCESS"
    handovers = h.handovers()
    assert handovers and handovers[0]["ownership"] == "recorded"
    assert handovers[0]["tagsBefore"] == {}
    assert h.kinesis.count("AddTagsToStream") == 1


def test_a_handed_over_give_back_starts_the_prior_key_once_and_untags_at_the_end(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    create(h)
    h.kinesis.set_update_seconds("orders", 400)
    event = make_event(
        "Delete", physical_id=ARN, StreamARN=ARN, KeyId=KEY_ARN, ServiceTimeout="3600"
    )
    body = h.run(event, timeout=60)
    assert body["Status"] == "SUCCESS" and "given back" in body["Reason"]
    assert len(h.handovers()) >= 2
    restores = [
        c
        for c in h.kinesis.calls
        if c.operation == "StartStreamEncryption" and c.params["KeyId"] == OLD_KEY_ARN
    ]
    assert len(restores) == 1
    assert h.kinesis.stream("orders").key_id == OLD_KEY_ARN
    assert h.kinesis.tags("orders") == {}
    assert h.kinesis.count("RemoveTagsFromStream") == 1


def test_unknown_prior_and_a_foreign_key_leaves_encryption_on_and_untags(h, keys):
    h.kinesis.create_stream("orders", encryption="KMS", key_id=OLD_KEY_ARN)
    h.kinesis.set_tags("orders", owned_by(STACK_ID, "StreamEncryption", "UNKNOWN"))
    body = delete(h)
    assert body["Status"] == "SUCCESS" and "not with this resource's key" in body["Reason"]
    assert h.kinesis.stream("orders").key_id == OLD_KEY_ARN
    assert h.kinesis.count("StopStreamEncryption") == 0
    assert h.kinesis.tags("orders") == {}


def test_untagging_that_runs_out_of_time_still_answers_success(h, keys):
    h.kinesis.create_stream("orders")
    create(h)
    h.kinesis.fail_next("RemoveTagsFromStream", "ResourceInUseException", count=9999)
    body = delete(h)
    assert body["Status"] == "SUCCESS" and "could not be removed" in body["Reason"]
    assert h.kinesis.stream("orders").encryption_type == "NONE"


def test_a_stack_id_no_tag_can_hold_means_ownership_not_recorded(h, keys):
    h.kinesis.create_stream("orders")
    body = create(h, stack_id=STACK_ID + "x" * 300)
    assert body["Status"] == "SUCCESS" and "could not be recorded" in body["Reason"]
    assert h.kinesis.stream("orders").key_id == KEY_ARN


def test_a_crash_retry_that_fails_while_the_stream_may_show_its_start_keeps_the_tags(h, keys):
    # An earlier attempt of this Create wrote the tags, started encryption, then crashed; Lambda's
    # retry starts afresh, finds the stream UPDATING past ServiceTimeout and fails.
    h.kinesis.create_stream("orders")
    h.kinesis.set_tags("orders", owned_by(STACK_ID, "StreamEncryption", "NONE"))
    h.kinesis.begin_external_update("orders", 4000)
    body = create(h, ServiceTimeout="60")
    assert body["Status"] == "FAILED" and body["PhysicalResourceId"] == ARN
    assert h.kinesis.tags("orders")[PRIOR_TAG] == "NONE"  # rollback's Delete needs them
