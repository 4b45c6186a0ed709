"""Synth-time parsing of the ``stream`` and ``key`` strings a user hands the construct.

Each string is classified once, here, so the construct can send the right resource property and
grant IAM on the right ARN. Obviously wrong literals fail at synth time rather than during a
deployment; values that are CDK tokens (parameters, imports, attributes) cannot be inspected and
are passed through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Token, Tokenization

#: The AWS managed key Kinesis uses when no key is named; needs no IAM from the caller.
DEFAULT_KINESIS_KEY_ALIAS = "alias/aws/kinesis"

# The same rules as the Lambda's ``stream_encryption/identifiers.py`` (a test holds the two copies
# to the same cases): what the construct accepts at synth, the function accepts at deploy.
PARTITION_PATTERN = r"aws(?:-[a-z]+)*"
REGION_PATTERN = r"[a-z]{2,4}(?:-[a-z]+)+-\d+"
ACCOUNT_PATTERN = r"\d{12}"
STREAM_NAME_PATTERN = r"[a-zA-Z0-9_.-]{1,128}"
_STREAM_NAME = re.compile(STREAM_NAME_PATTERN)
_STREAM_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):kinesis:(?P<region>{REGION_PATTERN})"
    rf":(?P<account>{ACCOUNT_PATTERN}):stream/(?P<name>{STREAM_NAME_PATTERN})"
)
# Key ids: a UUID, or a multi-Region key id (mrk- followed by 32 hex digits).
_KEY_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|mrk-[0-9a-fA-F]{32}"
)
_ALIAS_NAME = re.compile(r"alias/[a-zA-Z0-9/_-]{1,250}")
_KMS_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):kms:(?P<region>{REGION_PATTERN})"
    rf":(?P<account>{ACCOUNT_PATTERN}):(?P<resource>key/.+|alias/.+)"
)


def _is_whole_token(value: str) -> bool:
    """True when the string is exactly one unresolved token (a Ref, GetAtt, parameter...)."""
    fragments = Tokenization.reverse_string(value)
    return fragments.length == 1 and fragments.first_token is not None


@dataclass(frozen=True)
class StreamName:
    """A stream given by name, in the stack's own account and region.

    A literal string needs no wrapper (``"orders"`` is a name, ``"arn:..."`` an ARN). A token -- a
    ``CfnParameter``, an ``Fn.import_value`` -- cannot be told apart by looking at it, so say what
    it holds: ``StreamName(parameter.value_as_string)`` for a name, and
    ``kinesis.Stream.from_stream_arn(scope, id, token)`` for an ARN.
    """

    name: str


class StreamForm(Enum):
    """How the resource names its stream (decides StreamARN vs StreamName)."""

    ARN = "StreamARN"
    NAME = "StreamName"


@dataclass(frozen=True)
class StreamReference:
    """A stream given as a string: the form, and the value to send."""

    form: StreamForm
    value: str


# How CDK encodes a token inside a string; what is left is the literal text.
_TOKEN_MARKER = re.compile(r"\$\{Token\[[^\]]*\]\}")
_STREAM_FORM_HELP = (
    "a token can hold a name or an ARN, and the two are sent as different properties: pass "
    "StreamName(token) for a name or kinesis.Stream.from_stream_arn(scope, id, token) for an ARN"
)


def parse_stream(value: str | StreamName) -> StreamReference:
    """Classify a stream string as an ARN or a name, validating literals.

    A literal ``arn:`` prefix means an ARN (``Stack.format_arn`` output included); a string whose
    literal parts are all stream-name characters is a name. A string that is one whole token is
    refused with a clear error (see ``StreamName``) rather than guessed.
    """
    if isinstance(value, StreamName):
        name = value.name
        if not Token.is_unresolved(name) and _STREAM_NAME.fullmatch(name) is None:
            raise ValueError(f"StreamName({name!r}): not a valid stream name ({_NAME_RULE})")
        return StreamReference(StreamForm.NAME, name)
    if value.startswith("arn:"):
        if not Token.is_unresolved(value) and _STREAM_ARN.fullmatch(value) is None:
            raise ValueError(
                f"stream {value!r} is not a Kinesis stream ARN "
                "(arn:<partition>:kinesis:<region>:<account>:stream/<name>)"
            )
        return StreamReference(StreamForm.ARN, value)
    if _is_whole_token(value):
        raise ValueError(f"stream {value!r} is a token: {_STREAM_FORM_HELP}")
    if Token.is_unresolved(value):
        literal_text = _TOKEN_MARKER.sub("", value)
        if re.fullmatch(r"[a-zA-Z0-9_.-]*", literal_text) is None:
            raise ValueError(
                f"stream {value!r} mixes tokens and text that is not a name; " + _STREAM_FORM_HELP
            )
        return StreamReference(StreamForm.NAME, value)
    if _STREAM_NAME.fullmatch(value) is None:
        raise ValueError(
            f"stream {value!r} is neither a stream ARN nor a valid stream name ({_NAME_RULE})"
        )
    return StreamReference(StreamForm.NAME, value)


_NAME_RULE = "1-128 characters from a-z, A-Z, 0-9, '_', '.', '-'"


@dataclass(frozen=True)
class StreamLocation:
    """What synthesis can know about which stream a resource targets, to find two resources on
    one stream. ``None`` is "not known at synth" (a token); ``token`` identifies a stream known
    only by a token (or, for a stream of this app, by its construct path)."""

    name: str | None = None
    account: str | None = None
    region: str | None = None
    token: str | None = None

    def may_be_same(self, other: StreamLocation) -> bool:
        """True when both may name one stream (unknown parts count as possibly equal)."""
        if self.token is not None or other.token is not None:
            return self.token == other.token
        if self.name is None or other.name is None or self.name != other.name:
            return False
        return _compatible(self.account, other.account) and _compatible(self.region, other.region)

    def is_certainly_same(self, other: StreamLocation) -> bool:
        """True when both certainly name one stream."""
        if self.token is not None:
            return self.token == other.token
        return (
            self.name is not None
            and self.account is not None
            and self.region is not None
            and (self.name, self.account, self.region) == (other.name, other.account, other.region)
        )


def _compatible(left: str | None, right: str | None) -> bool:
    return left is None or right is None or left == right


def literal_or_none(value: str | None) -> str | None:
    """The value when it is a literal, else None (unknown at synth)."""
    if value is None or Token.is_unresolved(value):
        return None
    return value


def arn_location(arn: str) -> StreamLocation | None:
    """Name, account and region of a stream ARN whose parts may be tokens (``format_arn``).

    None when the ARN's shape cannot be read (one whole token, or no ``stream/`` resource).
    """
    if not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("stream/"):
        return None
    name = parts[5].removeprefix("stream/")
    if Token.is_unresolved(name):
        return None
    return StreamLocation(
        name=name, account=literal_or_none(parts[4]), region=literal_or_none(parts[3])
    )


class KeyForm(Enum):
    """How a key string identifies the KMS key (decides the shape of the IAM grant)."""

    DEFAULT = "default"  # alias/aws/kinesis: no KeyId property, no IAM
    KEY_ARN = "key-arn"  # grant on the ARN itself
    KEY_ID = "key-id"  # grant on the key ARN built in the stack's account and region
    ALIAS_NAME = "alias-name"  # grant on key/* with kms:ResourceAliases, stack account/region
    ALIAS_ARN = "alias-arn"  # grant on key/* with kms:ResourceAliases, the ARN's account/region


@dataclass(frozen=True)
class KeyReference:
    """A key given as a string, classified.

    ``alias_name`` is ``alias/Name`` for the alias forms; ``partition``/``region``/``account``
    are filled only when a literal ARN named them.
    """

    form: KeyForm
    value: str
    alias_name: str | None = None
    partition: str | None = None
    region: str | None = None
    account: str | None = None


def parse_key(value: str) -> KeyReference:
    """Classify a key string (key ARN, alias ARN, key id, ``alias/Name``), validating literals.

    A string made of one unresolved token is taken as a key ARN; pass an alias held in a token as
    ``kms.Alias.from_alias_name`` or resolve it yourself if you need the alias form.
    """
    if _is_whole_token(value) or (Token.is_unresolved(value) and value.startswith("arn:")):
        return KeyReference(KeyForm.KEY_ARN, value)
    if Token.is_unresolved(value):
        raise ValueError(
            f"key {value!r} mixes literal text and tokens; pass a kms.IKey or a whole key ARN"
        )
    if value.startswith("arn:"):
        match = _KMS_ARN.fullmatch(value)
        if match is None:
            raise ValueError(
                f"key {value!r} is not a KMS key ARN or alias ARN "
                "(arn:<partition>:kms:<region>:<account>:key/<id> or ...:alias/<name>)"
            )
        resource = match["resource"]
        if resource.startswith("alias/"):
            _check_alias(resource, value)
            if resource == DEFAULT_KINESIS_KEY_ALIAS:
                return KeyReference(KeyForm.DEFAULT, value)
            return KeyReference(
                KeyForm.ALIAS_ARN,
                value,
                alias_name=resource,
                partition=match["partition"],
                region=match["region"],
                account=match["account"],
            )
        if _KEY_ID.fullmatch(resource.removeprefix("key/")) is None:
            raise ValueError(f"key {value!r}: {resource.removeprefix('key/')!r} is not a key id")
        return KeyReference(
            KeyForm.KEY_ARN,
            value,
            partition=match["partition"],
            region=match["region"],
            account=match["account"],
        )
    if value.startswith("alias/"):
        _check_alias(value, value)
        if value == DEFAULT_KINESIS_KEY_ALIAS:
            return KeyReference(KeyForm.DEFAULT, value)
        return KeyReference(KeyForm.ALIAS_NAME, value, alias_name=value)
    if _KEY_ID.fullmatch(value) is not None:
        return KeyReference(KeyForm.KEY_ID, value)
    raise ValueError(f"key {value!r} is not a key ARN, alias ARN, key id or 'alias/Name'")


def _check_alias(alias: str, given: str) -> None:
    """Reject malformed aliases and AWS managed aliases of other services."""
    if _ALIAS_NAME.fullmatch(alias) is None:
        raise ValueError(f"key {given!r}: {alias!r} is not a valid alias name")
    if alias.startswith("alias/aws/") and alias != DEFAULT_KINESIS_KEY_ALIAS:
        # AWS managed keys only serve the service that owns them (their key policies use
        # kms:ViaService), so Kinesis cannot use another service's managed key.
        raise ValueError(
            f"key {given!r} is another service's AWS managed key; Kinesis can use only "
            f"{DEFAULT_KINESIS_KEY_ALIAS!r} or a customer managed key"
        )
