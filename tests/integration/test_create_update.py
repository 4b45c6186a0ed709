"""SPEC "Create / Update" and "Physical resource id", against the Kinesis simulator."""

import itertools

import pytest

from devsupport.harness import ACCOUNT, REGION, make_event
from stream_encryption.cfn.physical_ids import FAILED_CREATE_PREFIX

UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID}"
ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"


def starts(h):
    return h.kinesis.count("StartStreamEncryption", outcome="OK")


def test_create_by_name_encrypts_with_the_aws_managed_key(h):
    h.kinesis.create_stream("orders")
    body = h.run(make_event(StreamName="orders"))
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == ARN
    assert body["Data"] == {
        "StreamARN": ARN,
        "StreamName": "orders",
        "KeyId": "alias/aws/kinesis",
        "EncryptionType": "KMS",
    }
    state = h.kinesis.stream("orders")
    assert (state.status, state.encryption_type, state.key_id) == (
        "ACTIVE",
        "KMS",
        "alias/aws/kinesis",
    )
    assert starts(h) == 1
    assert "EncryptionStarted" in h.metrics.names()


def test_success_is_sent_only_after_the_stream_is_active_again(h):
    h.kinesis.create_stream("orders", update_seconds=7.0)
    h.run(make_event(StreamARN=ARN))
    start = next(c for c in h.kinesis.calls if c.operation == "StartStreamEncryption")
    last = h.kinesis.calls[-1]
    assert last.operation == "DescribeStreamSummary"
    assert last.time >= start.time + 7.0


def test_create_with_a_customer_key_by_arn(h):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders")
    body = h.run(make_event(StreamARN=ARN, KeyId=KEY_ARN))
    assert body["Status"] == "SUCCESS" and body["Data"]["KeyId"] == KEY_ARN


@pytest.mark.parametrize("current", [UUID, KEY_ARN])
def test_already_encrypted_with_an_equivalent_key_makes_no_start_call(h, current):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders", encryption="KMS", key_id=current)
    body = h.run(make_event(StreamName="orders", KeyId=KEY_ARN if current == UUID else UUID))
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("StartStreamEncryption") == 0
    assert body["Data"]["KeyId"] == current  # as applied to the stream
    assert "EncryptionUnchanged" in h.metrics.names()


@pytest.mark.parametrize("status", ["CREATING", "UPDATING"])
def test_a_settling_stream_is_waited_for_before_start(h, status):
    h.kinesis.create_stream("orders", status=status, active_after=20.0)
    body = h.run(make_event(StreamName="orders"))
    assert body["Status"] == "SUCCESS"
    start = next(c for c in h.kinesis.calls if c.operation == "StartStreamEncryption")
    assert start.time >= 20.0
    assert h.kinesis.count("StartStreamEncryption") == 1


def test_a_deleting_stream_fails_without_a_start(h):
    h.kinesis.create_stream("orders")
    h.kinesis.delete_stream("orders", deleting_seconds=60)
    body = h.run(make_event(StreamName="orders"))
    assert body["Status"] == "FAILED" and "being deleted" in body["Reason"]
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    assert h.kinesis.count("StartStreamEncryption") == 0


def test_missing_stream_fails_naming_stream_account_and_region(h):
    body = h.run(make_event(StreamName="nope"))
    assert body["Status"] == "FAILED"
    assert "nope" in body["Reason"] and ACCOUNT in body["Reason"] and REGION in body["Reason"]
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    assert "CloudWatch Logs group /aws/lambda/" in body["Reason"]


def test_resource_in_use_on_start_waits_and_decides_again(h):
    h.kinesis.create_stream("orders")
    h.kinesis.fail_next("StartStreamEncryption", "ResourceInUseException", "Stream orders is busy")
    body = h.run(make_event(StreamName="orders"))
    assert body["Status"] == "SUCCESS"
    assert starts(h) == 1 and h.kinesis.count("StartStreamEncryption") == 2


def test_throttled_start_backs_off_and_retries(h):
    h.kinesis.create_stream("orders")
    h.kinesis.throttle_next("StartStreamEncryption", 3)
    body = h.run(make_event(StreamName="orders"))
    assert body["Status"] == "SUCCESS" and starts(h) == 1
    times = [c.time for c in h.kinesis.calls if c.operation == "StartStreamEncryption"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g > 0 for g in gaps) and gaps[-1] > gaps[0]


def test_disabled_key_is_named_in_the_reason(h):
    h.kinesis.add_key(UUID, state="Disabled")
    h.kinesis.create_stream("orders")
    body = h.run(make_event(StreamARN=ARN, KeyId=KEY_ARN))
    assert body["Status"] == "FAILED" and KEY_ARN in body["Reason"] and "disabled" in body["Reason"]


def test_the_daily_key_change_quota_fails_with_when_to_retry(h):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders", update_seconds=0.5)
    for _ in range(25):
        h.kinesis.external_update("orders", encryption="NONE", key_id=None, updating_seconds=0.0)
        h.clock.advance(1)
        h.client.start_stream_encryption(
            StreamName="orders", EncryptionType="KMS", KeyId="alias/aws/kinesis"
        )
        h.clock.advance(1)
    body = h.run(make_event(StreamName="orders", KeyId=UUID))
    assert body["Status"] == "FAILED"
    assert "25" in body["Reason"] and "24 hours" in body["Reason"]


def test_failed_create_after_start_was_accepted_reports_the_stream_arn(h):
    h.kinesis.create_stream("orders", update_seconds=10_000)
    body = h.run(make_event(StreamName="orders", ServiceTimeout="60"), timeout=30)
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == ARN  # so rollback's Delete undoes it
    assert "still UPDATING" in body["Reason"]


def test_failed_update_reports_the_id_cloudformation_sent(h):
    h.kinesis.create_stream("orders")
    body = h.run(make_event("Update", physical_id="old-id", StreamName="orders", KeyId="not a key"))
    assert body["Status"] == "FAILED" and body["PhysicalResourceId"] == "old-id"
    assert "KeyId" in body["Reason"]


def test_update_to_another_stream_returns_its_arn_and_leaves_the_old_one(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    h.kinesis.create_stream("payments")
    event = make_event("Update", physical_id=ARN, StreamName="payments")
    event["OldResourceProperties"] = {"ServiceToken": event["ServiceToken"], "StreamName": "orders"}
    body = h.run(event)
    assert body["PhysicalResourceId"] == h.kinesis.stream_arn("payments")
    assert h.kinesis.stream("orders").encryption_type == "KMS"
    assert h.kinesis.stream("payments").encryption_type == "KMS"


def test_switching_between_name_and_arn_keeps_the_physical_id(h):
    h.kinesis.create_stream("orders")
    first = h.run(make_event(StreamName="orders"))
    second = h.run(make_event("Update", physical_id=first["PhysicalResourceId"], StreamARN=ARN))
    assert second["PhysicalResourceId"] == first["PhysicalResourceId"] == ARN
    assert starts(h) == 1


def test_key_change_update_starts_with_the_new_key(h):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    body = h.run(make_event("Update", physical_id=ARN, StreamARN=ARN, KeyId=UUID))
    assert body["Status"] == "SUCCESS" and body["Data"]["KeyId"] == UUID
    assert starts(h) == 1


def test_unknown_property_fails_create_naming_it(h):
    h.kinesis.create_stream("orders")
    body = h.run(make_event(StreamName="orders", StreamArn=ARN))
    assert body["Status"] == "FAILED" and "StreamArn" in body["Reason"]
    assert body["PhysicalResourceId"].startswith(FAILED_CREATE_PREFIX)
    assert h.kinesis.count() == 0


def test_someone_else_changing_the_key_meanwhile_is_not_fought(h):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders", update_seconds=5)
    h.kinesis.external_update(
        "orders", encryption="KMS", key_id="alias/theirs", updating_seconds=5, at=2.0
    )
    body = h.run(make_event(StreamName="orders", KeyId=UUID))
    assert body["Status"] == "FAILED" and "someone else" in body["Reason"]
    assert h.kinesis.count("StartStreamEncryption") == 1
    assert body["PhysicalResourceId"] == ARN


def test_stream_deleted_while_waiting_fails(h):
    h.kinesis.create_stream("orders", update_seconds=10)
    h.kinesis.delete_stream("orders", deleting_seconds=1, at=2.0)
    body = h.run(make_event(StreamName="orders"))
    assert body["Status"] == "FAILED"
    assert "deleted" in body["Reason"]


def test_the_same_event_twice_changes_the_key_once(h):
    h.kinesis.create_stream("orders")
    event = make_event(StreamName="orders")
    first, second = h.run(event), h.run(event)
    assert first["Status"] == second["Status"] == "SUCCESS"
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
    assert starts(h) == 1


def test_connection_reset_on_start_that_landed_is_not_repeated(h):
    h.kinesis.create_stream("orders")
    h.kinesis.connection_error_next("StartStreamEncryption", kind="reset", applied=True)
    body = h.run(make_event(StreamName="orders"))
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("StartStreamEncryption") == 1  # the lost answer is not re-sent
    assert h.kinesis.stream("orders").encryption_type == "KMS"
