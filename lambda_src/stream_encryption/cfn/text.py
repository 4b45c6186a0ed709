"""Text that CloudFormation shows or that is logged: no control characters, no ResponseURL."""

from __future__ import annotations

import re
import urllib.parse

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean_text(text: str) -> str:
    """Reason text without control characters (CloudFormation shows it in the console)."""
    return _CONTROL_CHARACTERS.sub(" ", text).strip()


_SIGNATURE_PARAMETERS = ("x-amz-signature", "signature")
# Shorter fragments are no credential, and cutting them would garble unrelated text.
MIN_SECRET_LENGTH = 8


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of a ResponseURL that must never be shown: the URL, its query string and its
    signature, each also percent-decoded (a log line may show either form).

    The signature alone counts: it is the secret part, whatever text it turns up in.
    """
    query = url.partition("?")[2]
    signatures = [
        value
        for name, _, value in (part.partition("=") for part in query.split("&"))
        if name.lower() in _SIGNATURE_PARAMETERS
    ]
    found: list[str] = []
    for secret in (url, query, *signatures):
        for form in (secret, urllib.parse.unquote(secret), urllib.parse.unquote_plus(secret)):
            if len(form) >= MIN_SECRET_LENGTH and form not in found:
                found.append(form)
    # Longest first: the whole URL is cut before its query, its query before its signature.
    return tuple(sorted(found, key=len, reverse=True))


def redact_secrets(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``<redacted>``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def redact(text: str, url: str) -> str:
    """``text`` with the ResponseURL, its query string and its signature cut out."""
    return redact_secrets(text, url_secrets(url)) if url else text


def short(text: str, limit: int = 60) -> str:
    """A cleaned, quoted, shortened echo of an input value, for a Reason."""
    text = clean_text(text)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
