"""Fixtures for the end-to-end tests: the real HTTP path, in separate processes.

* one moto server per test module (``ThreadedMotoServer`` on loopback), emptied for each test
  that uses it (``clean_moto``, and through it ``kinesis``, ``kms`` and ``invoke``);
* one ResponseURL receiver per test (a scripted local HTTP server);
* ``invoke``: runs ``handler.lambda_handler`` in a fresh Python process (``run_handler.py``) whose
  boto3 reaches moto over HTTP (``AWS_ENDPOINT_URL``, fake credentials) and which PUTs its response
  to the receiver over HTTP. Every run is checked for leaks of the ResponseURL, its query string
  or its signature in the process's stdout and stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devsupport import leak_guard
from devsupport.http_receiver import ResponseReceiver, ScriptItem, secrets_of
from devsupport.moto_server import (
    aws_environment,
    emulator_client,
    moto_endpoint,
    reset_moto,
)

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
RUNNER = ROOT / "devsupport" / "run_handler.py"
PROCESS_TIMEOUT = 60.0


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/ (``name`` without .json)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass
class HandlerRun:
    """One handler process (one event, or several in a warm process): exit status, output, and
    where the responses went."""

    events: list[dict[str, Any]]
    urls: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    log_stream_name: str
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def event(self) -> dict[str, Any]:
        return self.events[0]

    @property
    def url(self) -> str:
        return self.urls[0]

    def for_event(self, index: int) -> HandlerRun:
        """This run as seen from one of its events (same process output)."""
        return HandlerRun(
            events=[self.events[index]],
            urls=[self.urls[index]],
            returncode=self.returncode,
            stdout=self.stdout,
            stderr=self.stderr,
            seconds=self.seconds,
            log_stream_name=self.log_stream_name,
            records=self.records,
        )

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def logs(self) -> list[dict[str, Any]]:
        """Powertools JSON log records (EMF metric documents excluded)."""
        return [record for record in self.records if "_aws" not in record]

    @property
    def metrics(self) -> list[str]:
        """Names of every EMF metric the process emitted."""
        names = []
        for record in self.records:
            for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
                names.extend(metric["Name"] for metric in directive.get("Metrics", []))
        return names

    def messages(self, level: str | None = None) -> list[str]:
        return [
            str(record.get("message"))
            for record in self.logs
            if level is None or record.get("level") == level
        ]


def _json_lines(text: str) -> list[dict[str, Any]]:
    records = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def guard(run: HandlerRun) -> None:
    """Also hand the run to the suite-wide leak guard (checked when the current test ends)."""
    for url in run.urls:
        leak_guard.watch_secret(url)
    leak_guard.watch_output("the handler process's output", lambda: [run.stdout, run.stderr])


def assert_no_secrets(run: HandlerRun) -> None:
    """The ResponseURL is a credential: neither it, its query nor its signature may be printed."""
    for url in run.urls:
        for secret in secrets_of(url):
            assert secret not in run.output, "the handler printed (part of) a presigned ResponseURL"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def clean_moto(moto_url: str) -> str:
    """The module's moto server, emptied for this test."""
    reset_moto(moto_url)
    return moto_url


@pytest.fixture
def receiver() -> Iterator[ResponseReceiver]:
    with ResponseReceiver() as running:
        yield running


@pytest.fixture
def kinesis(clean_moto: str) -> Any:
    return emulator_client("kinesis", clean_moto)


@pytest.fixture
def kms(clean_moto: str) -> Any:
    return emulator_client("kms", clean_moto)


Invoke = Callable[..., HandlerRun]


def run_handler_process(
    env: dict[str, str],
    receiver: ResponseReceiver,
    events: list[dict[str, Any]],
    *,
    script: list[ScriptItem] | None = None,
    timeout: float = 60.0,
) -> HandlerRun:
    """Run the handler in a separate process on ``events`` (one process, in order); each event's
    ResponseURL is replaced with the receiver's (same stack, logical id and request id in its
    path; a fresh fake signature)."""
    sent, urls = [], []
    for original in events:
        event = dict(original)
        url = receiver.url_for(
            str(event.get("LogicalResourceId", "StreamEncryption")),
            stack_id=str(event.get("StackId", "")),
            request_id=str(event.get("RequestId") or uuid.uuid4()),
            script=script,
        )
        event["ResponseURL"] = url
        sent.append(event)
        urls.append(url)
    log_stream = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, str(RUNNER), "--timeout", str(timeout), "--log-stream-name", log_stream],
        input=json.dumps(sent if len(sent) > 1 else sent[0]),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )
    handler_run = HandlerRun(
        events=sent,
        urls=urls,
        returncode=completed.returncode,
        stdout=completed.stdout,
        stderr=completed.stderr,
        seconds=time.monotonic() - started,
        log_stream_name=log_stream,
        records=_json_lines(completed.stdout) + _json_lines(completed.stderr),
    )
    guard(handler_run)
    assert_no_secrets(handler_run)
    return handler_run


def handler_environment(moto_url: str) -> dict[str, str]:
    env = aws_environment(moto_url)
    env["PYTHONPATH"] = str(ROOT / "lambda_src")
    env["PYTHONUNBUFFERED"] = "1"
    env["POWERTOOLS_SERVICE_NAME"] = "kinesis-stream-encryption"
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    return env


@pytest.fixture
def invoke(clean_moto: str, receiver: ResponseReceiver) -> Invoke:
    """``invoke(event, script=None, timeout=60)``: the handler on one event, in its own process."""
    env = handler_environment(clean_moto)

    def run(
        event: dict[str, Any],
        *,
        script: list[ScriptItem] | None = None,
        timeout: float = 60.0,
    ) -> HandlerRun:
        return run_handler_process(env, receiver, [event], script=script, timeout=timeout)

    return run
