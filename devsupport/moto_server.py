"""moto as a real HTTP endpoint, the environment that points boto3 at it, and a Lambda context.

``moto_endpoint()`` runs ``moto.server.ThreadedMotoServer`` on loopback (a free port chosen by the
OS) and yields its URL; ``aws_environment()`` is what a process needs so that every boto3 client it
makes reaches that endpoint with fake credentials and never a real account. ``FakeLambdaContext``
mimics the Python runtime's context object (awslambdaric), deadline included.

moto is imported lazily, so a handler process that only needs the context stays light.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
FUNCTION_NAME = "orders-encryption-KinesisStreamEncryptionProvi-Q3x7Lm2Np9Rt"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables that could steer boto3 away from the emulator or towards a real account.
CREDENTIAL_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)


@contextmanager
def moto_endpoint(*, quiet: bool = True) -> Iterator[str]:
    """Start moto's threaded server on 127.0.0.1 (free port); yield ``http://127.0.0.1:<port>``."""
    from moto.server import ThreadedMotoServer

    if quiet:  # werkzeug otherwise prints one line per request to stderr
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def emulator_client(service: str, endpoint: str, *, region: str = REGION) -> Any:
    """A boto3 client for ``service`` at the emulator, with fake credentials only."""
    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def reset_moto(endpoint: str) -> None:
    """Forget every resource in the server (moto's own reset API)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def aws_environment(
    endpoint: str,
    *,
    region: str = REGION,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A process environment whose boto3 reaches ``endpoint`` with fake credentials only."""
    env = dict(os.environ if base is None else base)
    for name in list(env):
        if name in CREDENTIAL_VARIABLES or name.startswith("AWS_ENDPOINT_URL_"):
            env.pop(name)
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


@dataclass
class FakeLambdaContext:
    """What the Python Lambda runtime passes as ``context`` (awslambdaric's LambdaContext).

    As in the runtime, ``memory_limit_in_mb`` is a string and the remaining time counts down from
    a wall-clock deadline.
    """

    deadline_epoch_ms: int
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{FUNCTION_NAME}"
    memory_limit_in_mb: str = "256"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = field(
        default_factory=lambda: (
            time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex
        )
    )
    identity: object = None
    client_context: object = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_epoch_ms - int(time.time() * 1000))


def make_lambda_context(
    *,
    timeout_seconds: float = 60.0,
    region: str = REGION,
    account: str = ACCOUNT_ID,
    function_name: str = FUNCTION_NAME,
    aws_request_id: str | None = None,
) -> FakeLambdaContext:
    """A context whose deadline is ``timeout_seconds`` from now (the function's timeout)."""
    context = FakeLambdaContext(
        deadline_epoch_ms=int((time.time() + timeout_seconds) * 1000),
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{function_name}",
        log_group_name=f"/aws/lambda/{function_name}",
    )
    if aws_request_id:
        context.aws_request_id = aws_request_id
    return context


def context_summary(context: FakeLambdaContext) -> str:
    """The context as JSON (for logs of test runs); no secrets in it."""
    return json.dumps(
        {
            "function_name": context.function_name,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
        }
    )
