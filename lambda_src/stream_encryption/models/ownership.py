"""Who owns a stream's encryption, as recorded in tags on the stream (SPEC "Ownership").

Domain values only: the CloudFormation edge turns a request's StackId and LogicalResourceId into
an ``Owner``; the tag adapter turns the stream's tags into ``OwnershipTags``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

TAG_PREFIX = "kinesis-stream-encryption:"
OWNER_STACK_TAG = TAG_PREFIX + "owner-stack"
OWNER_RESOURCE_TAG = TAG_PREFIX + "owner-resource"
PRIOR_KEY_TAG = TAG_PREFIX + "prior-key"
KEY_TAG = TAG_PREFIX + "key"  # the key this resource applied, as given (for the drift check)
PROVIDER_TAG = TAG_PREFIX + "provider"  # the function's unqualified ARN (for the drift check)

PRIOR_NONE = "NONE"  # the stream was not encrypted before its first owner
PRIOR_UNKNOWN = "UNKNOWN"  # what was there before is not known: Delete uses the key rule

# Kinesis tag values: letters, digits, spaces and _ . : / = + - @, at most 256 characters.
_TAG_VALUE = re.compile(r"[A-Za-z0-9 _.:/=+\-@]{0,256}")
_STACK_ID = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):cloudformation:(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):stack/(?P<name>[A-Za-z][A-Za-z0-9-]*)/(?P<uuid>[A-Za-z0-9-]+)"
)


def is_tag_value(value: str) -> bool:
    """Whether Kinesis would accept ``value`` as a tag value."""
    return _TAG_VALUE.fullmatch(value) is not None


@dataclass(frozen=True)
class Owner:
    """A resource of a stack: the CloudFormation StackId and the LogicalResourceId."""

    stack_id: str
    logical_id: str

    @property
    def stack_region(self) -> str | None:
        """The region the stack lives in (where CloudFormation must be asked), from its id."""
        match = _STACK_ID.fullmatch(self.stack_id)
        return match["region"] if match else None

    @property
    def stack_account(self) -> str | None:
        match = _STACK_ID.fullmatch(self.stack_id)
        return match["account"] if match else None

    @property
    def stack_name(self) -> str:
        match = _STACK_ID.fullmatch(self.stack_id)
        return match["name"] if match else self.stack_id

    def same_stack(self, other: Owner) -> bool:
        return self.stack_id == other.stack_id

    def describe(self) -> str:
        """How a Reason names it: logical id and stack (name and id)."""
        return f"resource {self.logical_id} of stack {self.stack_name} ({self.stack_id})"


@dataclass(frozen=True)
class OwnershipTags:
    """This project's tags as read from a stream; ``owner`` None when either owner tag is
    missing (a partial set is no claim)."""

    owner: Owner | None
    prior_key: str | None
    key: str | None  # the key tag: what the owner applied
    provider: str | None  # the provider tag: the function that manages it
    present: frozenset[str]  # every kinesis-stream-encryption:* key on the stream

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> OwnershipTags:
        stack, resource = tags.get(OWNER_STACK_TAG), tags.get(OWNER_RESOURCE_TAG)
        owner = Owner(stack, resource) if stack and resource else None
        present = frozenset(key for key in tags if key.startswith(TAG_PREFIX))
        return cls(
            owner, tags.get(PRIOR_KEY_TAG), tags.get(KEY_TAG), tags.get(PROVIDER_TAG), present
        )


def prior_key_of(encryption_type: str, key_id: str | None) -> str:
    """The prior-key tag value for a stream's encryption as Kinesis reported it now."""
    if encryption_type != "KMS":
        return PRIOR_NONE
    if key_id and is_tag_value(key_id) and key_id not in (PRIOR_NONE, PRIOR_UNKNOWN):
        return key_id
    return PRIOR_UNKNOWN  # a key Kinesis reported that no tag can hold: not knowable later


def unqualified_function_arn(function_arn: str) -> str | None:
    """``arn:...:function:name`` without a version or alias qualifier (the provider tag's form:
    a stream tagged through ``$LATEST`` is still checked by the function invoked through an
    alias); None when ``function_arn`` is no Lambda function ARN."""
    parts = function_arn.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function":
        return ":".join(parts[:7])
    return None


def ownership_tags(
    owner: Owner, prior_key: str, key_id: str | None, provider: str | None = None
) -> dict[str, str]:
    """The tags that record ``owner``, plus the key it applies and the function that manages it
    (each when a tag can hold it)."""
    tags = {
        OWNER_STACK_TAG: owner.stack_id,
        OWNER_RESOURCE_TAG: owner.logical_id,
        PRIOR_KEY_TAG: prior_key,
    }
    return {**tags, **managed_by_tags(key_id, provider)}


def managed_by_tags(key_id: str | None, provider: str | None) -> dict[str, str]:
    """The key and provider tags (for the drift check), leaving out a value no tag can hold."""
    tags: dict[str, str] = {}
    if key_id and is_tag_value(key_id):
        tags[KEY_TAG] = key_id
    if provider and is_tag_value(provider):
        tags[PROVIDER_TAG] = provider
    return tags
