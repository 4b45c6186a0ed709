"""Lambda entry point: wires Powertools Logger, Tracer and Metrics, then calls ``process``.

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

from stream_encryption.app import Dependencies, process

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
def lambda_client(region: str) -> Any:
    """For the hand-over's asynchronous self-invoke: a few quick attempts, then the fallback."""
    return _client("lambda", region, attempts=2, connect_timeout=2, read_timeout=3)


class _MetricsAdapter:
    """Accepts unit names as strings so the core does not import Powertools."""

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)


@metrics.log_metrics(capture_cold_start_metric=True)
def _measured(event: dict[str, Any], context: Any) -> None:
    deps = Dependencies(
        logger=logger,
        metrics=_MetricsAdapter(),
        kinesis_client=kinesis_client,
        lambda_client=lambda_client,
    )
    process(event, context, deps)


_traced = tracer.capture_lambda_handler(_measured, capture_response=False) if tracer else _measured


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Entry point (``handler.lambda_handler``). Never raises: CloudFormation gets an answer."""
    logger.clear_state()
    _append_context_keys(context)
    try:
        _traced(event, _ContextView(context))
    except Exception as error:  # a Powertools wrapper failing must not crash the invocation
        logger.exception("Instrumentation failed", extra={"error": type(error).__name__})


def _append_context_keys(context: Any) -> None:
    keys = {
        "function_name": getattr(context, "function_name", None),
        "function_request_id": getattr(context, "aws_request_id", None),
    }
    logger.append_keys(**{k: v for k, v in keys.items() if isinstance(v, str)})


class _ContextView:
    """The Lambda context with safe defaults for what Powertools reads (e.g. function_name)."""

    def __init__(self, context: Any) -> None:
        self.function_name = _text(context, "function_name", "unknown")
        self.aws_request_id = _text(context, "aws_request_id", "unknown")
        self.invoked_function_arn = _text(context, "invoked_function_arn", "")
        self.log_group_name = _text(context, "log_group_name", None)
        self.log_stream_name = _text(context, "log_stream_name", None)
        memory = getattr(context, "memory_limit_in_mb", 0)
        self.memory_limit_in_mb = memory if isinstance(memory, int | str) else 0
        # Passed through as is: FunctionInfo.from_context copes with a missing or broken one.
        self.get_remaining_time_in_millis = getattr(context, "get_remaining_time_in_millis", None)


def _text(context: Any, name: str, default: str | None) -> Any:
    value = getattr(context, name, None)
    return value if isinstance(value, str) else default
