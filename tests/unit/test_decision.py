"""The pure reconcile decision (SPEC "Create / Update" 2-3 and "Delete")."""

import pytest

from stream_encryption.decisions import (
    Done,
    Fail,
    Start,
    Stop,
    Wait,
    decide_decrypt,
    decide_encrypt,
    may_show_an_earlier_start,
)
from stream_encryption.identifiers import StreamArn
from stream_encryption.models.stream import StreamState

STREAM = StreamArn("aws", "us-east-1", "123456789012", "orders")
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{UUID}"


def state(status="ACTIVE", encryption="NONE", key=None):
    return StreamState(STREAM.arn, "orders", status, encryption, key)


@pytest.mark.parametrize("status", ["CREATING", "UPDATING"])
def test_settling_streams_are_waited_for(status):
    assert decide_encrypt(UUID, STREAM, state(status), start_accepted=False) == Wait()
    assert decide_decrypt(UUID, STREAM, state(status, "KMS", UUID), stop_accepted=False) == Wait()


def test_deleting_stream_fails_create_but_not_delete():
    decision = decide_encrypt(UUID, STREAM, state("DELETING"), start_accepted=False)
    assert isinstance(decision, Fail) and "being deleted" in decision.reason
    assert (
        decide_decrypt(UUID, STREAM, state("DELETING", "KMS", UUID), stop_accepted=False) == Done()
    )


def test_unencrypted_stream_is_started_with_the_key_as_given():
    assert decide_encrypt(KEY_ARN, STREAM, state(), start_accepted=False) == Start(KEY_ARN)


@pytest.mark.parametrize("current", [UUID, KEY_ARN])
def test_equivalent_key_means_no_call_at_all(current):
    assert (
        decide_encrypt(KEY_ARN, STREAM, state(encryption="KMS", key=current), start_accepted=False)
        == Done()
    )


def test_other_key_is_replaced():
    decision = decide_encrypt(
        KEY_ARN, STREAM, state(encryption="KMS", key="alias/aws/kinesis"), start_accepted=False
    )
    assert decision == Start(KEY_ARN)


def test_never_start_twice_in_one_request():
    decision = decide_encrypt(
        KEY_ARN, STREAM, state(encryption="KMS", key="alias/other"), start_accepted=True
    )
    assert isinstance(decision, Fail)
    assert "someone else" in decision.reason and "alias/other" in decision.reason


def test_delete_stops_with_the_stream_current_key_form():
    assert decide_decrypt(
        KEY_ARN, STREAM, state(encryption="KMS", key=UUID), stop_accepted=False
    ) == Stop(UUID)


def test_delete_leaves_unencrypted_stream_alone():
    assert decide_decrypt(KEY_ARN, STREAM, state(), stop_accepted=False) == Done()


def test_delete_leaves_someone_elses_key_alone_with_a_warning():
    decision = decide_decrypt(
        KEY_ARN, STREAM, state(encryption="KMS", key="alias/theirs"), stop_accepted=False
    )
    assert isinstance(decision, Done)
    assert decision.warning is not None and "alias/theirs" in decision.warning


def test_a_stream_encrypted_again_after_our_own_stop_is_left_on():
    # Our Stop was accepted, yet the stream shows our key again: someone else turned it back on.
    encrypted = state(encryption="KMS", key=UUID)
    decision = decide_decrypt(KEY_ARN, STREAM, encrypted, stop_accepted=True)
    assert isinstance(decision, Done) and "turned on again by someone else" in decision.warning


@pytest.mark.parametrize(
    ("observed", "maybe_ours"),
    [
        (state("UPDATING"), True),  # an earlier attempt's Start may still be applying
        (state("ACTIVE", "KMS", UUID), True),  # the wanted key, in another form
        (state("ACTIVE", "KMS", "alias/other"), False),
        (state("ACTIVE"), False),
        (state("CREATING"), False),  # no Start is accepted on a stream being created
        (state("DELETING", "KMS", KEY_ARN), True),
    ],
)
def test_a_crash_retry_counts_states_its_earlier_start_may_have_caused(observed, maybe_ours):
    assert may_show_an_earlier_start(KEY_ARN, STREAM, observed) is maybe_ours
