"""The resource's properties: a strict model of what CloudFormation sends (every value a string).

Validation errors become one human sentence that names each bad property; input values are quoted
only shortened, and the raw event is never part of a message.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .identifiers import (
    DEFAULT_KEY_ID,
    StreamArn,
    StreamRef,
    is_stream_name,
    parse_key_id,
    parse_stream_arn,
)

MAX_SERVICE_TIMEOUT = 3600
MAX_KEY_ID_LENGTH = 2048


class PropertiesError(ValueError):
    """Properties that cannot be acted on; the message names every problem."""


class EncryptionProperties(BaseModel):
    """``Custom::KinesisStreamEncryption`` properties after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    service_token: str = Field(alias="ServiceToken", min_length=1)
    service_timeout: int = Field(MAX_SERVICE_TIMEOUT, alias="ServiceTimeout", ge=1, le=3600)
    stream_arn: str | None = Field(None, alias="StreamARN")
    stream_name: str | None = Field(None, alias="StreamName")
    key_id: str = Field(DEFAULT_KEY_ID, alias="KeyId", min_length=1, max_length=MAX_KEY_ID_LENGTH)
    encryption_type: Literal["KMS"] = Field("KMS", alias="EncryptionType")

    @field_validator("service_timeout", mode="before")
    @classmethod
    def _timeout_from_string(cls, value: Any) -> Any:
        # CloudFormation sends numbers as strings; accept "300" but not "300.5" or "5m".
        if isinstance(value, str) and not value.strip().isdigit():
            raise ValueError("must be a whole number of seconds from 1 to 3600")
        return value

    @field_validator("stream_arn")
    @classmethod
    def _stream_arn_form(cls, value: str | None) -> str | None:
        if value is not None and parse_stream_arn(value) is None:
            raise ValueError(
                "is not a Kinesis stream ARN "
                "(arn:<partition>:kinesis:<region>:<account>:stream/<name>)"
            )
        return value

    @field_validator("stream_name")
    @classmethod
    def _stream_name_form(cls, value: str | None) -> str | None:
        if value is not None and not is_stream_name(value):
            raise ValueError("is not a Kinesis stream name (1-128 of a-z, A-Z, 0-9, _ . -)")
        return value

    @field_validator("key_id")
    @classmethod
    def _key_id_form(cls, value: str) -> str:
        if parse_key_id(value) is None:
            raise ValueError("is not a KMS key id, key ARN, alias/Name or alias ARN")
        return value

    @model_validator(mode="after")
    def _one_stream(self) -> EncryptionProperties:
        if self.stream_arn is None and self.stream_name is None:
            raise ValueError("one of StreamARN or StreamName is required")
        if self.stream_arn is not None and self.stream_name is not None:
            arn = parse_stream_arn(self.stream_arn)
            if arn is not None and arn.name != self.stream_name:
                raise ValueError(
                    f"StreamARN names stream {arn.name!r} but StreamName is "
                    f"{self.stream_name!r}; give one, or make them name the same stream"
                )
        return self


def resolve_target(
    props: EncryptionProperties, partition: str, region: str, account: str
) -> StreamRef:
    """The stream ARN the properties name; a name means the function's own account and region.

    Raises PropertiesError when StreamARN and StreamName disagree about account or region.
    """
    if props.stream_arn is not None:
        arn = parse_stream_arn(props.stream_arn)
        assert arn is not None  # validated by the model
        if props.stream_name is not None and (arn.region, arn.account) != (region, account):
            raise PropertiesError(
                f"StreamName {props.stream_name!r} means a stream in this function's account "
                f"{account} and region {region}, but StreamARN is in account {arn.account} and "
                f"region {arn.region}; give StreamARN alone"
            )
        return StreamRef(arn)
    assert props.stream_name is not None
    return StreamRef(StreamArn(partition, region, account, props.stream_name), by_name=True)


def parse_properties(raw: object) -> EncryptionProperties:
    """Validate ResourceProperties; PropertiesError names every problem found."""
    if not isinstance(raw, dict):
        raise PropertiesError("ResourceProperties is missing or is not an object")
    try:
        return EncryptionProperties.model_validate(raw)
    except ValidationError as error:
        raise PropertiesError(describe_errors(error, raw)) from None


_KNOWN = tuple(
    field.alias for field in EncryptionProperties.model_fields.values() if field.alias is not None
)


def describe_errors(error: ValidationError, raw: dict[str, Any]) -> str:
    """One sentence per problem, from pydantic's error list, without echoing long inputs."""
    unknown: list[str] = []
    problems: list[str] = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            unknown.append(location)
            continue
        message = str(item["msg"]).removeprefix("Value error, ")
        if not location:
            problems.append(message)
        elif item["type"] == "missing":
            problems.append(f"{location} is required")
        else:
            problems.append(f"{location} {_quote(raw.get(location))} {_as_predicate(message)}")
    if unknown:
        problems.insert(0, _unknown_sentence(unknown))
    return "Invalid properties: " + "; ".join(problems) + "."


def _unknown_sentence(unknown: list[str]) -> str:
    parts = []
    for name in sorted(unknown):
        # Imported here: only a typo pays for difflib (about 15 ms of a cold start).
        import difflib  # noqa: PLC0415

        close = difflib.get_close_matches(name, _KNOWN, n=1, cutoff=0.6)
        parts.append(f"{_short(name)} (did you mean {close[0]}?)" if close else _short(name))
    return (
        f"unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(parts)}; "
        f"allowed are {', '.join(_KNOWN)}"
    )


def _as_predicate(message: str) -> str:
    """Pydantic's sentence as what follows "<property> '<value>'": its own "Input should ..."
    messages become "is invalid: input should ..."; ours already read that way."""
    if message.startswith(("Input should", "String should")):
        return "is invalid: " + message[0].lower() + message[1:]
    return message


def _quote(value: object) -> str:
    if isinstance(value, str):
        return repr(_short(value))
    return f"(a {type(value).__name__})"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
