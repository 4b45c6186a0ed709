"""Text that CloudFormation shows or that is logged: no control characters, no ResponseURL."""

from __future__ import annotations

import re

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean_text(text: str) -> str:
    """Reason text without control characters (CloudFormation shows it in the console)."""
    return _CONTROL_CHARACTERS.sub(" ", text).strip()


_SIGNATURE_PARAMETERS = ("x-amz-signature", "signature")


def redact(text: str, url: str) -> str:
    """``text`` with the ResponseURL, its query string and its signature cut out.

    The signature alone is cut too: it is the secret part, whatever text it turns up in.
    """
    query = url.partition("?")[2]
    signatures = [
        value
        for name, _, value in (part.partition("=") for part in query.split("&"))
        if name.lower() in _SIGNATURE_PARAMETERS
    ]
    for secret in (url, query, *signatures):
        if secret and secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def short(text: str, limit: int = 60) -> str:
    """A cleaned, quoted, shortened echo of an input value, for a Reason."""
    text = clean_text(text)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
