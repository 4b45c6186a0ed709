"""Process-wide redaction of ResponseURLs (SPEC "Response to CloudFormation"): every logger,
every rendering path (message, arguments, exception, stack), and after the request ended."""

from __future__ import annotations

import io
import logging

import pytest

from devsupport import leak_guard
from stream_encryption.handlers.observability import (
    RECENT_URLS_KEPT,
    hide_event_response_url,
    hide_response_url,
)

SIGNATURE = "0123456789abcdef0123456789abcdef"


def url(n: int) -> str:
    return (
        f"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a%7Cb%7C{n}"
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261130T000000Z"
        f"&X-Amz-Signature={SIGNATURE}{n:04d}"
    )


@pytest.fixture
def captured():
    """A plain logger of some library, at DEBUG, writing to a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    library.setLevel(logging.DEBUG)
    library.propagate = False
    yield library, stream
    library.removeHandler(handler)


def test_messages_arguments_exceptions_and_stacks_of_any_logger_are_redacted(captured):
    library, stream = captured
    secret = url(1)
    leak_guard.watch_secret(secret)
    leak_guard.watch_output("library log", lambda: [stream.getvalue()])
    hide_response_url(logging.getLogger("ours"), secret)
    library.debug("params: %s", {"body": secret.encode()})
    library.info(f"f-string {secret}")
    try:
        raise ValueError(f"bad url {secret}")
    except ValueError:
        library.exception("failed")
    library.warning("with stack", stack_info=True)
    text = stream.getvalue()
    assert text.count("<redacted>") >= 3
    assert "ValueError" in text and "failed" in text


def test_a_percent_decoded_signature_is_redacted_too(captured):
    library, stream = captured
    signed = "https://h.example/p?AWSAccessKeyId=AK&Expires=1&Signature=abc%2Bdef%2Fghi%3D"
    hide_response_url(logging.getLogger("ours"), signed)
    library.info("decoded: abc+def/ghi=")
    assert "abc+def/ghi=" not in stream.getvalue()


def test_the_last_urls_stay_hidden_after_their_request_ended(captured):
    library, stream = captured
    urls = [url(n) for n in range(100, 100 + RECENT_URLS_KEPT)]
    for each in urls:
        hide_event_response_url(logging.getLogger("ours"), {"ResponseURL": each})
    for each in urls:
        library.error("late line %s", each)
    assert all(each.partition("?")[2] not in stream.getvalue() for each in urls)


def test_extra_fields_of_our_logger_are_redacted():
    stream = io.StringIO()
    ours = logging.getLogger("ours.extra")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(detail)s"))
    ours.addHandler(handler)
    ours.propagate = False
    try:
        secret = url(7)
        hide_response_url(ours, secret)
        ours.warning("look", extra={"detail": f"echo {secret}"})
        assert SIGNATURE not in stream.getvalue() and "<redacted>" in stream.getvalue()
    finally:
        ours.removeHandler(handler)
