"""A suite-wide guard: no ResponseURL query string in any captured output.

Test harnesses register the secrets they hand to the handler (the presigned URL's query string)
and the outputs they capture (log text, metrics, Reasons, hand-over-free text); the autouse fixture
in tests/conftest.py checks every pair after each test and fails the test on a leak.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable

_secrets: set[str] = set()
_outputs: list[tuple[str, Callable[[], Iterable[str]]]] = []


def watch_secret(url_or_query: str) -> None:
    """Guard a ResponseURL: its query string (the signature) must never be seen."""
    query = url_or_query.partition("?")[2] or url_or_query
    _secrets.add(query)
    for part in query.split("&"):
        if part.lower().startswith(("x-amz-signature=", "signature=")):
            signature = part.split("=", 1)[1]
            _secrets.update({signature, urllib.parse.unquote(signature)})


def watch_output(name: str, texts: Callable[[], Iterable[str]]) -> None:
    """Register captured output to scan when the test ends."""
    _outputs.append((name, texts))


def leaks() -> list[str]:
    found = []
    for name, texts in _outputs:
        for text in texts():
            for secret in _secrets:
                if secret and secret in text:
                    found.append(f"{name} contains a ResponseURL secret: ...{secret[-12:]}")
    return found


def reset() -> None:
    _secrets.clear()
    _outputs.clear()
