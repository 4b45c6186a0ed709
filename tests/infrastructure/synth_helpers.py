"""Helpers over construct metadata and synthesized templates for the construct's tests."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from kinesis_stream_encryption import KinesisStreamEncryption

ACK_PREFIX = "kinesis-stream-encryption:"


def warnings_on(construct: Any) -> list[str]:
    """The warnings recorded on one construct (its own node, not its children)."""
    return [str(e.data) for e in construct.node.metadata if e.type == "aws:cdk:warning"]


def warning_ids(construct: Any) -> list[str]:
    """The acknowledgeable ids of a construct's warnings (``[ack: <id>]`` in the message)."""
    found = []
    for text in warnings_on(construct):
        marker = text.rfind("[ack: ")
        assert marker >= 0, f"warning without an id: {text}"
        found.append(text[marker + len("[ack: ") : -1].removeprefix(ACK_PREFIX))
    return found


def resources_of(stack: cdk.Stack) -> list[KinesisStreamEncryption]:
    return [c for c in stack.node.find_all() if isinstance(c, KinesisStreamEncryption)]


def join_text(value: Any) -> str:
    """Render a Fn::Join of literals and Refs as text (``${AWS::Region}`` for a Ref)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(join_text(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    return repr(value)
