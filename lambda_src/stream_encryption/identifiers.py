"""Stream and KMS key identifiers: parsing every form Kinesis accepts, and key equivalence.

Kinesis echoes a stream's KeyId in the form it was given, so "is this stream already encrypted
with the key we want?" needs form-aware comparison: a key ARN equals its bare key id, an alias ARN
equals ``alias/Name`` (in the stream's own account and region). Key ids and aliases are not
comparable without a KMS call, so they count as different.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_KEY_ID = "alias/aws/kinesis"

# One rule for every partition botocore knows (tests/unit/test_partitions.py checks each of its
# regions): "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f",
# "aws-eusc"; regions such as us-east-1, cn-north-1, us-gov-west-1, us-isob-east-1,
# eu-isoe-west-1, eusc-de-east-1. Region = 2-4 letters, one or more "-letters" parts, "-digits"
# (the shape of every partition's regionRegex in botocore's partitions.json).
PARTITION_PATTERN = r"aws(?:-[a-z]+)*"
REGION_PATTERN = r"[a-z]{2,4}(?:-[a-z]+)+-\d+"
_PARTITION = PARTITION_PATTERN
_REGION = REGION_PATTERN
_ACCOUNT = r"\d{12}"
STREAM_NAME_PATTERN = r"[a-zA-Z0-9_.-]{1,128}"
_STREAM_NAME_RE = re.compile(rf"^{STREAM_NAME_PATTERN}$")
_STREAM_ARN_RE = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):kinesis:(?P<region>{_REGION}):(?P<account>{_ACCOUNT})"
    rf":stream/(?P<name>{STREAM_NAME_PATTERN})$"
)
_KEY_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_KEY_MRK = r"mrk-[0-9a-fA-F]{32}"
_KEY_ID = rf"(?:{_KEY_UUID}|{_KEY_MRK})"
_ALIAS_NAME = r"alias/[a-zA-Z0-9/_-]{1,250}"
_KEY_ARN_RE = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):kms:(?P<region>{_REGION}):(?P<account>{_ACCOUNT})"
    rf":(?P<name>key/{_KEY_ID}|{_ALIAS_NAME})$"
)
_BARE_KEY_RE = re.compile(rf"^(?P<name>{_KEY_ID}|{_ALIAS_NAME})$")

KeyKind = Literal["key", "alias"]


@dataclass(frozen=True)
class StreamArn:
    """A parsed Kinesis stream ARN."""

    partition: str
    region: str
    account: str
    name: str

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:kinesis:{self.region}:{self.account}:stream/{self.name}"


def parse_stream_arn(value: str) -> StreamArn | None:
    """The parts of a stream ARN, or None when ``value`` is not one."""
    match = _STREAM_ARN_RE.match(value)
    if match is None:
        return None
    return StreamArn(
        partition=match["partition"],
        region=match["region"],
        account=match["account"],
        name=match["name"],
    )


@dataclass(frozen=True)
class StreamRef:
    """The stream a request targets: by ARN, or by name in the function's account and region.

    ``arn`` is always filled (built from the function's account and region for a name) so reasons
    can name account and region; API calls use the form the user gave.
    """

    arn: StreamArn
    by_name: bool = False

    def api_params(self) -> dict[str, str]:
        return {"StreamName": self.arn.name} if self.by_name else {"StreamARN": self.arn.arn}


def is_stream_name(value: str) -> bool:
    return _STREAM_NAME_RE.match(value) is not None


@dataclass(frozen=True)
class KeyRef:
    """A KMS key reference in one of the forms Kinesis accepts.

    ``name`` is ``<key id>`` (lower-cased) for keys and ``alias/Name`` for aliases; ``region`` and
    ``account`` are None for the bare forms, which mean "the stream's own account and region".
    """

    kind: KeyKind
    name: str
    region: str | None = None
    account: str | None = None


def parse_key_id(value: str) -> KeyRef | None:
    """Parse any KeyId form Kinesis accepts; None when ``value`` is none of them."""
    match = _KEY_ARN_RE.match(value)
    if match is not None:
        return _key_ref(match["name"], match["region"], match["account"])
    match = _BARE_KEY_RE.match(value)
    if match is not None:
        return _key_ref(match["name"], None, None)
    return None


def _key_ref(name: str, region: str | None, account: str | None) -> KeyRef:
    if name.startswith("alias/"):
        return KeyRef("alias", name, region, account)
    key_id = name.removeprefix("key/").lower()
    return KeyRef("key", key_id, region, account)


def keys_equivalent(wanted: str, current: str | None, stream: StreamArn) -> bool:
    """True when ``current`` (as Kinesis reports it) names the same key as ``wanted``.

    Bare forms resolve in the stream's account and region. Unparseable values compare as strings.
    """
    if current is None:
        return False
    if wanted == current:
        return True
    left, right = parse_key_id(wanted), parse_key_id(current)
    if left is None or right is None:
        return False
    return _resolve(left, stream) == _resolve(right, stream)


def _resolve(key: KeyRef, stream: StreamArn) -> KeyRef:
    return KeyRef(key.kind, key.name, key.region or stream.region, key.account or stream.account)
