"""Log keys per request, and keeping every ResponseURL out of every log record of the process.

A ResponseURL is a credential. Messages never format it on purpose, but other code can: botocore
at DEBUG logs the hand-over's Invoke payload (which carries the event), an exception's message or
traceback may quote it, Powertools may log the raw event when told to. So redaction is
process-wide and outlives the request: a record factory rewrites the rendered message, exception
and stack text of every logger (root, botocore, urllib3, ours), and a filter on our logger cleans
the ``extra`` fields it adds after the factory ran. The last few URLs stay registered, so a line
logged after ``process`` returned (the entry point's last-resort log) is covered too.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import deque
from typing import Any, Protocol

from ..cfn.events import ParsedEvent
from ..cfn.text import redact, redact_secrets, url_secrets

_REQUEST_KEYS = ("RequestType", "PhysicalResourceId", "LogicalResourceId", "StackId")
# URLs of earlier requests stay hidden: a warm container's late lines may still quote them.
RECENT_URLS_KEPT = 8


class MetricsSink(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class _Secrets:
    """The secrets of the last few ResponseURLs this process saw (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._urls: deque[tuple[str, tuple[str, ...]]] = deque(maxlen=RECENT_URLS_KEPT)
        self._all: tuple[str, ...] = ()

    def add(self, url: str) -> None:
        with self._lock:
            if any(known == url for known, _ in self._urls):
                return
            self._urls.append((url, url_secrets(url)))
            merged = {secret for _, secrets in self._urls for secret in secrets}
            self._all = tuple(sorted(merged, key=len, reverse=True))

    @property
    def current(self) -> tuple[str, ...]:
        return self._all  # replaced whole under the lock: reading it needs none

    def redact(self, text: str) -> str:
        return redact_secrets(text, self._all)


_secrets = _Secrets()
_install_lock = threading.Lock()
_installed: list[bool] = []


def _redact_record(record: logging.LogRecord) -> None:
    """Rewrite the record's rendered message, exception and stack text if they carry a secret."""
    secrets = _secrets.current
    if not secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed call must not leak through logging's own error report
        message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = redact_secrets(message, secrets), ()
    cleaned = redact_secrets(message, secrets)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info))
        if redact_secrets(text, secrets) != text:
            # Formatters re-render exc_info themselves: fold the cleaned text into the message,
            # and clean the exception itself for whoever prints it next (logging's own error
            # report, the runtime's report of an unhandled exception).
            if record.exc_info[1] is not None:
                _scrub_exception(record.exc_info[1], secrets)
            record.msg = f"{redact_secrets(message, secrets)}\n{redact_secrets(text, secrets)}"
            record.args, record.exc_info, record.exc_text = (), None, None
    if record.stack_info:
        record.stack_info = redact_secrets(record.stack_info, secrets)


_EXCEPTION_TEXT_ATTRIBUTES = ("filename", "filename2", "url", "msg", "reason", "strerror")


def _scrub_exception(error: BaseException, secrets: tuple[str, ...]) -> None:
    """Best effort: the secrets out of an exception's arguments and the usual text attributes
    (``OSError.filename``, ``URLError.reason``, ``HTTPError.url``), along its whole chain."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        try:
            current.args = tuple(
                redact_secrets(arg, secrets) if isinstance(arg, str) else arg
                for arg in current.args
            )
            for name in _EXCEPTION_TEXT_ATTRIBUTES:
                value = getattr(current, name, None)
                if isinstance(value, str) and redact_secrets(value, secrets) != value:
                    setattr(current, name, redact_secrets(value, secrets))
        except Exception:  # noqa: S110 (read-only attributes: the log text is clean anyway)
            pass
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def install_process_redaction() -> None:
    """Wrap the process's log record factory once, so every logger's records are redacted."""
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed.append(True)


class RedactingFilter(logging.Filter):
    """Cuts every registered ResponseURL out of a record's own fields (``extra`` included: they
    are set after the record factory ran)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if isinstance(value, str):
                cleaned = _secrets.redact(value)
                if cleaned != value:
                    setattr(record, name, cleaned)
        _redact_record(record)
        return True


def hide_response_url(logger: Any, url: str) -> None:
    """From now until the process ends, no log record shows ``url``, its query or signature."""
    install_process_redaction()
    if url:
        _secrets.add(url)
    filters = getattr(logger, "filters", None)
    if isinstance(filters, list) and not any(isinstance(f, RedactingFilter) for f in filters):
        logger.addFilter(RedactingFilter())


def hide_event_response_url(logger: Any, raw_event: object) -> None:
    """As ``hide_response_url``, for a raw event not yet parsed (the entry point's first act)."""
    url = raw_event.get("ResponseURL") if isinstance(raw_event, dict) else None
    hide_response_url(logger, url if isinstance(url, str) else "")


def set_request_keys(logger: Any, parsed: ParsedEvent) -> None:
    """Set this request's keys on every log line; drop the previous invocation's."""
    if not hasattr(logger, "append_keys"):
        return
    request, target = parsed.request, parsed.target
    keys = {
        "RequestType": request.request_type,
        "PhysicalResourceId": request.physical_resource_id,
        "LogicalResourceId": target.logical_resource_id if target else None,
        "StackId": target.stack_id if target else None,
    }
    logger.remove_keys(list(_REQUEST_KEYS))
    logger.append_keys(
        **{
            name: redact(value, target.url) if target else value
            for name, value in keys.items()
            if isinstance(value, str)
        }
    )
