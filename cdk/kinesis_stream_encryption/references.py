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

_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")
_STREAM_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):kinesis:(?P<region>[a-z0-9-]+):(?P<account>\d{12})"
    r":stream/(?P<name>[a-zA-Z0-9_.-]{1,128})"
)
# Key ids: a UUID, or a multi-Region key id (mrk- followed by 32 hex digits).
_KEY_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|mrk-[0-9a-fA-F]{32}"
)
_ALIAS_NAME = re.compile(r"alias/[a-zA-Z0-9/_-]{1,250}")
_KMS_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12})"
    r":(?P<resource>key/.+|alias/.+)"
)


def _is_whole_token(value: str) -> bool:
    """True when the string is exactly one unresolved token (a Ref, GetAtt, parameter...)."""
    fragments = Tokenization.reverse_string(value)
    return fragments.length == 1 and fragments.first_token is not None


class StreamForm(Enum):
    """How the resource names its stream (decides StreamARN vs StreamName)."""

    ARN = "StreamARN"
    NAME = "StreamName"


@dataclass(frozen=True)
class StreamReference:
    """A stream given as a string: the form, and the value to send."""

    form: StreamForm
    value: str


def parse_stream(value: str) -> StreamReference:
    """Classify a stream string as an ARN or a name, validating literals.

    A string made of one unresolved token is taken as an ARN (the preferred form; a token name can
    be passed as ``kinesis.Stream.from_stream_arn(...)`` built with ``Stack.format_arn``). A
    string with a literal ``arn:`` prefix is an ARN; anything else is a name.
    """
    if value.startswith("arn:") or _is_whole_token(value):
        if not Token.is_unresolved(value) and _STREAM_ARN.fullmatch(value) is None:
            raise ValueError(
                f"stream {value!r} is not a Kinesis stream ARN "
                "(arn:<partition>:kinesis:<region>:<account>:stream/<name>)"
            )
        return StreamReference(StreamForm.ARN, value)
    if not Token.is_unresolved(value) and _STREAM_NAME.fullmatch(value) is None:
        raise ValueError(
            f"stream {value!r} is neither a stream ARN nor a valid stream name "
            "(1-128 characters from a-z, A-Z, 0-9, '_', '.', '-')"
        )
    return StreamReference(StreamForm.NAME, value)


def stream_arn_parts(value: str) -> tuple[str, str] | None:
    """Return (region, account) of a literal stream ARN, or None for tokens."""
    match = _STREAM_ARN.fullmatch(value)
    if match is None:
        return None
    return match["region"], match["account"]


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
