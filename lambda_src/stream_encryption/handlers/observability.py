"""Log keys per request, and keeping the ResponseURL out of every log record."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ..cfn.events import ParsedEvent
from ..cfn.text import redact

_REQUEST_KEYS = ("RequestType", "PhysicalResourceId", "LogicalResourceId", "StackId")


class MetricsSink(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class RedactingFilter(logging.Filter):
    """Cuts one ResponseURL (and its signature) out of every log record's values.

    Messages never format the URL on purpose; this catches what a field echoed from the event, or
    an exception message, might still carry.
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if isinstance(value, str):
                setattr(record, name, redact(value, self.url))
        if record.args:
            record.args = tuple(
                redact(arg, self.url) if isinstance(arg, str) else arg
                for arg in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        return True


@contextmanager
def response_url_hidden(logger: Any, url: str) -> Iterator[None]:
    """While handling one event, no record of ``logger`` carries that event's ResponseURL."""
    if not url:
        yield
        return
    redactor = RedactingFilter(url)
    logger.addFilter(redactor)
    try:
        yield
    finally:
        logger.removeFilter(redactor)


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
