"""Lambda entry point (``handler.lambda_handler``): Powertools Logger, Metrics and, when wanted,
Tracer around ``process``, plus the AWS clients it uses.

CloudFormation invokes this function asynchronously with a custom-resource event; the function
answers by PUTting to the event's ResponseURL (never logged: it is a presigned credential).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from stream_encryption.handlers.invocation import Dependencies, process
from stream_encryption.handlers.observability import hide_event_response_url

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "kinesis-stream-encryption"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "KinesisStreamEncryption"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


def _tracing_wanted() -> bool:
    """Powertools' own rule (off outside Lambda, under SAM local, or when disabled by env).

    Checked here so that, when tracing is off, the X-Ray SDK is never imported: it is the largest
    single cost of a cold start.
    """
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in {"1", "true", "y"}
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    emulated = bool(os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))
    return in_lambda and not emulated and not disabled


# Only botocore is traced: the PUT to the presigned ResponseURL stays out of traces.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",)) if _tracing_wanted() else None

_USER_AGENT = "kinesis-stream-encryption/0.1.0"


def _client(
    service: str, region: str, *, attempts: int, connect_timeout: int, read_timeout: int
) -> Any:
    # Timeouts bound every call well inside the time kept back to respond or hand over.
    config = Config(
        retries={"total_max_attempts": attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        user_agent_extra=_USER_AGENT,
    )
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]


@cache
def kinesis_client(region: str) -> Any:
    """One client per region; our adapter owns retries, so botocore makes a single attempt."""
    return _client("kinesis", region, attempts=1, connect_timeout=3, read_timeout=5)


@cache
def cloudformation_client(region: str) -> Any:
    """Asks, in the owner stack's region, whether a stream's recorded owner still exists."""
    return _client("cloudformation", region, attempts=1, connect_timeout=3, read_timeout=5)


@cache
def lambda_client(region: str) -> Any:
    """For the hand-over's asynchronous self-invoke. One attempt per call: botocore would retry a
    read timeout, which may start a second chain; ``dal.lambda_invoke`` retries what is safe."""
    return _client("lambda", region, attempts=1, connect_timeout=2, read_timeout=3)


class _MetricsAdapter:
    """Accepts unit names as strings so the core does not import Powertools."""

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)


def _dependencies() -> Dependencies:
    return Dependencies(
        logger=logger,
        metrics=_MetricsAdapter(),
        kinesis_client=kinesis_client,
        lambda_client=lambda_client,
        cloudformation_client=cloudformation_client,
    )


_processed: list[bool] = []  # set once ``process`` ran in this invocation


def _process(event: dict[str, Any], context: Any) -> None:
    _processed.append(True)
    process(event, context, _dependencies())


# Powertools reads the Lambda context: function name, request id and cold start, for every log
# line and the cold-start metric.
_instrumented = logger.inject_lambda_context(clear_state=True)(
    metrics.log_metrics(capture_cold_start_metric=True)(_process)
)
if tracer:
    _instrumented = tracer.capture_lambda_handler(_instrumented, capture_response=False)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Entry point. Never raises, and CloudFormation gets an answer even if Powertools fails."""
    _processed.clear()
    # First, before anything can log: the event's ResponseURL stays out of every log line of the
    # process from here on, the last-resort log below and botocore's DEBUG output included.
    hide_event_response_url(logger, event)
    failure: Exception | None = None
    try:
        _instrumented(event, context)
    except Exception as error:  # logged below, outside this block
        failure = error
    if failure is None:
        return
    # Logged outside the except block: should emitting fail, logging's error report prints the
    # exception being handled, which is then none (the redacted record is all it shows).
    logger.error(
        "Instrumentation failed",
        exc_info=(type(failure), failure, failure.__traceback__),
        extra={"error": type(failure).__name__},
    )
    if not _processed:  # it failed before the event was looked at: handle it bare
        process(event, context, _dependencies())
