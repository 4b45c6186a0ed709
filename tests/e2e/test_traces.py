"""Traces: with X-Ray on (as in Lambda), the Kinesis calls are traced and the ResponseURL is not.

The handler runs in its own process with the Lambda tracing environment (a sampled trace header,
the X-Ray daemon address) pointing at a UDP socket here, so every segment document the X-Ray SDK
emits is read back and searched.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from devsupport.http_receiver import ResponseReceiver, secrets_of
from tests.e2e.conftest import handler_environment, load_event, run_handler_process

pytestmark = pytest.mark.e2e

TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    yield sock
    sock.close()


def documents(sock: socket.socket) -> list[tuple[str, dict[str, Any]]]:
    found = []
    while True:
        try:
            datagram = sock.recv(65536).decode()
        except TimeoutError:
            return found
        _header, _, body = datagram.partition("\n")
        found.append((datagram, json.loads(body)))


def test_kinesis_calls_are_traced_and_the_response_url_is_not(
    clean_moto: str, receiver: ResponseReceiver, kinesis: Any, daemon: socket.socket
) -> None:
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    env = handler_environment(clean_moto)
    env.update(
        AWS_LAMBDA_FUNCTION_NAME="kinesis-stream-encryption",
        LAMBDA_TASK_ROOT=env["PYTHONPATH"],
        _X_AMZN_TRACE_ID=TRACE_HEADER,
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}",
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
    )
    run = run_handler_process(env, receiver, [load_event("create-by-arn")])
    assert run.returncode == 0
    sent = documents(daemon)
    operations = {doc.get("aws", {}).get("operation") for _, doc in sent}
    assert {"DescribeStreamSummary", "StartStreamEncryption"} <= operations
    assert any(doc.get("name", "").startswith("## ") for _, doc in sent)  # the handler itself
    for secret in secrets_of(run.url):
        for raw, _ in sent:
            assert secret not in raw, "a trace carries (part of) the presigned ResponseURL"
