"""The ownership rules as pure functions: claim (Create/Update) and release (Delete)."""

import pytest

from stream_encryption.decisions import Done, Start, Stop, Wait
from stream_encryption.identifiers import parse_stream_arn
from stream_encryption.models.ownership import (
    KEY_TAG,
    OWNER_RESOURCE_TAG,
    OWNER_STACK_TAG,
    PRIOR_KEY_TAG,
    Owner,
    OwnershipTags,
    is_tag_value,
    prior_key_of,
)
from stream_encryption.models.stream import StreamState
from stream_encryption.ownership_decisions import (
    AskOwner,
    GiveBack,
    KeyRule,
    LeaveAlone,
    Proceed,
    Record,
    Refuse,
    TakeOver,
    decide_after_asking,
    decide_claim,
    decide_give_back,
    decide_release,
)

ACCOUNT, REGION = "123456789012", "us-east-1"
ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
STREAM = parse_stream_arn(ARN)
UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID}"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab"
MY_STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/orders/6c1d2c10-0000-11ef-9d5a-0a1b"
THEIR_STACK = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/billing/0000-1111"
ME = Owner(MY_STACK, "Enc")


def state(encryption="NONE", key=None, status="ACTIVE"):
    return StreamState(ARN, "orders", status, encryption, key)


def tags(stack=None, resource=None, prior=None, key=None):
    raw = {OWNER_STACK_TAG: stack, OWNER_RESOURCE_TAG: resource, PRIOR_KEY_TAG: prior, KEY_TAG: key}
    return OwnershipTags.from_tags({k: v for k, v in raw.items() if v is not None})


def claim(found, current=None, *, managed_before=False):
    return decide_claim(
        found, ME, current or state(), KEY_ARN, managed_before=managed_before, my_account=ACCOUNT
    )


# -- claim -----------------------------------------------------------------------------------


def test_an_unowned_unencrypted_stream_is_recorded_with_prior_none():
    step = claim(tags())
    assert step == Record(
        {
            OWNER_STACK_TAG: MY_STACK,
            OWNER_RESOURCE_TAG: "Enc",
            PRIOR_KEY_TAG: "NONE",
            KEY_TAG: KEY_ARN,
        }
    )


def test_an_unowned_encrypted_stream_records_its_key_as_kinesis_reported_it():
    step = claim(tags(), state("KMS", "alias/team-key"))
    assert isinstance(step, Record) and step.tags[PRIOR_KEY_TAG] == "alias/team-key"


def test_a_stream_managed_before_ownership_records_unknown():
    step = claim(tags(), state("KMS", KEY_ARN), managed_before=True)
    assert isinstance(step, Record) and step.tags[PRIOR_KEY_TAG] == "UNKNOWN"


def test_a_partial_owner_record_is_no_claim():
    assert isinstance(claim(tags(stack=THEIR_STACK)), Record)


def test_owned_by_this_resource_proceeds_and_only_updates_a_changed_key_tag():
    assert claim(tags(MY_STACK, "Enc", "NONE", KEY_ARN)) == Proceed({})
    assert claim(tags(MY_STACK, "Enc", "NONE", OTHER_KEY)) == Proceed({KEY_TAG: KEY_ARN})


def test_the_provider_tag_names_the_function_and_is_refreshed_when_it_differs():
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider"
    step = decide_claim(
        tags(), ME, state(), KEY_ARN, managed_before=False, my_account=ACCOUNT, provider=function
    )
    assert isinstance(step, Record)
    assert step.tags["kinesis-stream-encryption:provider"] == function
    owned = OwnershipTags.from_tags({**step.tags})
    again = decide_claim(
        owned, ME, state(), KEY_ARN, managed_before=False, my_account=ACCOUNT, provider=function
    )
    assert again == Proceed({})
    moved = decide_claim(
        owned, ME, state(), KEY_ARN, managed_before=False, my_account=ACCOUNT, provider="f2"
    )
    assert moved == Proceed({"kinesis-stream-encryption:provider": "f2"})


def test_a_renamed_resource_of_the_same_stack_is_taken_over_keeping_prior():
    step = claim(tags(MY_STACK, "OldName", OTHER_KEY))
    assert isinstance(step, TakeOver)
    assert step.tags[OWNER_RESOURCE_TAG] == "Enc" and step.tags[PRIOR_KEY_TAG] == OTHER_KEY
    assert "OldName" in step.warning


def test_another_stack_is_asked_about():
    assert claim(tags(THEIR_STACK, "Billing", "NONE")) == AskOwner(Owner(THEIR_STACK, "Billing"))
    assert Owner(THEIR_STACK, "Billing").stack_region == "eu-west-1"


def test_an_owner_that_still_exists_is_refused_by_name():
    found = tags(THEIR_STACK, "Billing", "NONE")
    step = decide_after_asking(found, ME, state(), KEY_ARN, owner_exists=True)
    assert isinstance(step, Refuse)
    assert "Billing" in step.reason and "billing" in step.reason and THEIR_STACK in step.reason


def test_an_owner_that_is_gone_is_taken_over_keeping_prior_or_unknown():
    step = decide_after_asking(
        tags(THEIR_STACK, "Billing", OTHER_KEY), ME, state(), KEY_ARN, owner_exists=False
    )
    assert isinstance(step, TakeOver) and step.tags[PRIOR_KEY_TAG] == OTHER_KEY
    step = decide_after_asking(
        tags(THEIR_STACK, "Billing"), ME, state(), KEY_ARN, owner_exists=False
    )
    assert isinstance(step, TakeOver) and step.tags[PRIOR_KEY_TAG] == "UNKNOWN"


@pytest.mark.parametrize(
    "stack",
    ["not-a-stack-id", f"arn:aws:cloudformation:{REGION}:210987654321:stack/billing/0000"],
)
def test_an_owner_that_cannot_be_asked_about_is_refused(stack):
    assert isinstance(claim(tags(stack, "Billing", "NONE")), Refuse)


def test_tag_values_respect_kinesis_charset_and_length():
    assert is_tag_value(MY_STACK) and is_tag_value(KEY_ARN) and is_tag_value("alias/aws/kinesis")
    assert not is_tag_value("a" * 257) and not is_tag_value("key#1")
    assert prior_key_of("KMS", "bad#key") == "UNKNOWN"
    assert prior_key_of("NONE", None) == "NONE"


# -- release ---------------------------------------------------------------------------------


def test_release_decides_by_the_owner_tags():
    assert decide_release(None, ME, STREAM) == KeyRule()
    assert decide_release(tags(), ME, STREAM) == KeyRule()
    assert decide_release(tags(MY_STACK, "Enc", "UNKNOWN"), ME, STREAM) == KeyRule()
    assert decide_release(tags(MY_STACK, "Enc"), ME, STREAM) == KeyRule()
    assert decide_release(tags(MY_STACK, "Enc", "NONE"), ME, STREAM) == GiveBack("NONE")
    other = decide_release(tags(MY_STACK, "NewName", "NONE"), ME, STREAM)
    assert isinstance(other, LeaveAlone) and "NewName" in other.warning


def give_back(prior, current, accepted=False):
    return decide_give_back(prior, STREAM, current, change_accepted=accepted)


def test_prior_none_stops_with_the_current_key():
    assert give_back("NONE", state("KMS", OTHER_KEY)) == Stop(OTHER_KEY)
    assert give_back("NONE", state()) == Done()
    assert give_back("NONE", state("KMS", KEY_ARN), accepted=True).warning


def test_prior_equivalent_to_current_touches_nothing():
    assert give_back(UUID, state("KMS", KEY_ARN)) == Done()


def test_another_prior_key_is_started_again():
    assert give_back(OTHER_KEY, state("KMS", KEY_ARN)) == Start(OTHER_KEY)
    assert give_back(OTHER_KEY, state()) == Start(OTHER_KEY)
    assert give_back(OTHER_KEY, state("KMS", OTHER_KEY), accepted=True) == Done()
    assert give_back(OTHER_KEY, state("KMS", KEY_ARN), accepted=True).warning


def test_give_back_waits_for_a_busy_stream_and_ignores_a_deleting_one():
    assert give_back("NONE", state("KMS", KEY_ARN, "UPDATING")) == Wait()
    assert give_back("NONE", state("KMS", KEY_ARN, "DELETING")) == Done()
