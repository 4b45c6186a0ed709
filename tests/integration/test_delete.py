"""SPEC "Delete": act on the physical id's stream, never fail on properties, undo only our key."""

import pytest

from devsupport.harness import ACCOUNT, REGION, make_event

ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID}"


def delete(h, physical_id=ARN, **properties):
    return h.run(make_event("Delete", physical_id=physical_id, **properties))


def test_delete_stops_our_encryption_with_the_stream_current_key(h):
    h.kinesis.add_key(UUID)
    h.kinesis.create_stream("orders", encryption="KMS", key_id=UUID, update_seconds=4)
    body = delete(h, StreamARN=ARN, KeyId=KEY_ARN)
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == ARN
    stop = next(c for c in h.kinesis.calls if c.operation == "StopStreamEncryption")
    assert stop.params["KeyId"] == UUID
    state = h.kinesis.stream("orders")
    assert (state.status, state.encryption_type) == ("ACTIVE", "NONE")
    assert h.kinesis.calls[-1].time >= stop.time + 4  # waited for ACTIVE before answering
    assert "EncryptionStopped" in h.metrics.names()


@pytest.mark.parametrize(
    "properties",
    [
        {"StreamName": "orders", "Typo": "x"},
        {"StreamName": "orders", "EncryptionType": "NONE"},
        {"StreamName": "bad name"},
        {},
    ],
)
def test_delete_with_unreadable_properties_succeeds_without_touching(h, properties):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    body = delete(h, **properties)
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count() == 0
    assert h.kinesis.stream("orders").encryption_type == "KMS"
    assert '"level":"WARNING"' in h.logs


@pytest.mark.parametrize(
    ("physical_id", "answered_id"),
    [
        (
            "kinesis-stream-encryption-failed-create:abc",
            "kinesis-stream-encryption-failed-create:abc",
        ),
        ("whatever", "whatever"),
        # A response needs a non-empty id; an empty one (CloudFormation never sends it) becomes:
        ("", "unknown"),
    ],
)
def test_delete_of_an_id_that_is_no_stream_arn_touches_nothing(h, physical_id, answered_id):
    body = delete(h, physical_id=physical_id, StreamName="orders")
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == answered_id
    assert h.kinesis.count() == 0


def test_delete_of_a_vanished_stream_succeeds(h):
    body = delete(h, StreamName="orders")
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.count("StopStreamEncryption") == 0


def test_delete_of_an_unencrypted_stream_makes_no_stop(h):
    h.kinesis.create_stream("orders")
    assert delete(h, StreamName="orders")["Status"] == "SUCCESS"
    assert h.kinesis.count("StopStreamEncryption") == 0


def test_delete_leaves_another_owners_key_on_and_warns(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/theirs")
    body = delete(h, StreamName="orders")
    assert body["Status"] == "SUCCESS"
    assert h.kinesis.stream("orders").key_id == "alias/theirs"
    assert h.kinesis.count("StopStreamEncryption") == 0
    assert "someone else owns" in h.logs


def test_delete_acts_on_the_physical_id_not_on_the_properties(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    h.kinesis.create_stream("payments", encryption="KMS", key_id="alias/aws/kinesis")
    delete(h, StreamName="payments")
    assert h.kinesis.stream("orders").encryption_type == "NONE"
    assert h.kinesis.stream("payments").encryption_type == "KMS"


def test_delete_waits_for_an_updating_stream(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    h.kinesis.begin_external_update("orders", 15)
    body = delete(h, StreamName="orders")
    assert body["Status"] == "SUCCESS"
    stop = next(c for c in h.kinesis.calls if c.operation == "StopStreamEncryption")
    assert stop.time >= 15


def test_delete_of_a_deleting_stream_succeeds(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    h.kinesis.delete_stream("orders", deleting_seconds=30)
    assert delete(h, StreamName="orders")["Status"] == "SUCCESS"
    assert h.kinesis.count("StopStreamEncryption") == 0


def test_stop_refused_for_permissions_fails_with_what_to_grant(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    h.kinesis.fail_next("StopStreamEncryption", "AccessDeniedException", "no", count=999)
    body = delete(h, StreamName="orders")
    assert body["Status"] == "FAILED" and "kinesis:StopStreamEncryption" in body["Reason"]
    assert body["PhysicalResourceId"] == ARN


def test_malformed_delete_event_succeeds_without_touching(h):
    h.kinesis.create_stream("orders", encryption="KMS", key_id="alias/aws/kinesis")
    event = make_event("Delete", physical_id=ARN, StreamName="orders")
    del event["StackId"]
    h.invoke(event)
    assert h.puts.bodies[-1]["Status"] == "SUCCESS"
    assert h.kinesis.count() == 0
