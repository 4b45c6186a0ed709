"""Cold start: a fresh interpreter importing the handler and serving one no-op Update, against
a bare ``import boto3`` + client + one DescribeStreamSummary, in the same run.

The emulator (moto's server) runs in its own process, started once, so its start-up is not
counted; the handler's response goes to a local receiver in this process, which checks that it
said SUCCESS (timing a failure path would measure nothing useful). Each sample is a whole child
process: wall time measured here, peak RSS (VmHWM) reported by the child itself. The samples of all
variants are interleaved, so load from other work on the machine hits them alike.

Variants:

* ``boto3 baseline``: what any Python custom resource pays at least.
* ``ours as deployed (default, tracing off)``: in a Lambda-like environment
  (``AWS_LAMBDA_FUNCTION_NAME`` set) with the function's environment variables exactly as the
  construct synthesizes them by default (``POWERTOOLS_TRACE_DISABLED=true``): the X-Ray SDK is
  never imported.
* ``ours with tracing=True``: the variables the construct synthesizes with ``tracing=True``, so
  the handler imports the X-Ray SDK and traces botocore; segments go to a local UDP socket nobody
  reads.

The variables are read from a synthesized template (``construct_environment``), so the rows follow
the construct.

A stage breakdown (one more child, tracing on) attributes the time to what is imported first:
each stage counts only what the stages before it did not already load.
"""

from __future__ import annotations

import json
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devsupport.http_receiver import ResponseReceiver
from devsupport.moto_server import aws_environment, emulator_client

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ACCOUNT = "123456789012"
STREAM = "orders"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
# Peak RSS of this process image, in KiB. Not ru_maxrss: Linux carries the pre-exec address
# space's high-water mark (here the orchestrating parent's, through vfork) into the exec'd child.
PEAK = """
def _peak_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("PEAK", _peak_kib())
"""

BASELINE = f"""
import boto3
client = boto3.client("kinesis", region_name="{REGION}")
client.describe_stream_summary(StreamName="{STREAM}")
{PEAK}
"""

_CONTEXT = f"""
class Context:
    invoked_function_arn = "arn:aws:lambda:{REGION}:{ACCOUNT}:function:kinesis-stream-encryption"
    function_name = "kinesis-stream-encryption"
    aws_request_id = "0f0f0f0f-0000-4000-8000-000000000000"
    memory_limit_in_mb = 256
    log_group_name = "/aws/lambda/kinesis-stream-encryption"
    log_stream_name = "2026/11/26/[$LATEST]cold"
    def get_remaining_time_in_millis(self):
        return 60000
"""

# The event comes on stdin, as in devsupport/run_handler.py: a ResponseURL is a credential.
OURS = f"""
import json, sys
sys.path.insert(0, {str(ROOT / "lambda_src")!r})
import handler
{_CONTEXT}
handler.lambda_handler(json.load(sys.stdin), Context())
{PEAK}
"""

STAGES = f"""
import time
began = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter()))
import json, sys
sys.path.insert(0, {str(ROOT / "lambda_src")!r})
event = json.load(sys.stdin)
import boto3
boto3.client("kinesis", region_name="{REGION}")
mark("boto3 + a Kinesis client")
from pydantic import BaseModel
mark("pydantic (BaseModel)")
import aws_lambda_powertools.utilities.parser.models
from aws_lambda_powertools import Logger, Metrics
Logger(service="kinesis-stream-encryption")
Metrics(service="kinesis-stream-encryption", namespace="KinesisStreamEncryption")
mark("Powertools: package (Logger, Metrics) + parser models")
from aws_lambda_powertools import Tracer
Tracer(service="kinesis-stream-encryption", patch_modules=("botocore",))
mark("Powertools Tracer + X-Ray SDK, botocore patched (tracing on)")
import handler
mark("handler + stream_encryption modules (rest)")
{_CONTEXT}
handler.lambda_handler(event, Context())
mark("the no-op Update (client, Describe, PUT, metrics)")
previous, stages = began, []
for name, at in marks:
    stages.append((name, at - previous))
    previous = at
print("STAGES", json.dumps({{"stages": stages, "total": previous - began}}))
"""


AS_DEPLOYED = "ours as deployed (default, tracing off)"
WITH_TRACING = "ours with tracing=True"


def construct_environment(*, tracing: bool) -> dict[str, str]:
    """The provider function's environment variables as the construct synthesizes them.

    Synthesized in a child process (jsii starts Node.js; this process stays free of it).
    """
    code = f"""
import json, sys
sys.path[:0] = [{str(ROOT / "cdk")!r}, {str(ROOT)!r}]
from devsupport.node_path import node_first_on_path
node_first_on_path()
import aws_cdk as cdk
from aws_cdk.assertions import Template
from kinesis_stream_encryption import KinesisStreamEncryption
stack = cdk.Stack(cdk.App(), "Bench")
KinesisStreamEncryption(stack, "E", stream="orders", tracing={tracing!r})
(function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
properties = function["Properties"]
print(json.dumps({{"variables": properties["Environment"]["Variables"],
                  "active": properties.get("TracingConfig", {{}}).get("Mode") == "Active"}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["active"] != tracing:
        raise RuntimeError(f"the construct's TracingConfig does not follow tracing={tracing}")
    return {str(k): str(v) for k, v in found["variables"].items()}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server in its own process, so its start-up and its CPU are not the handler's."""
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def xray_sink() -> Iterator[str]:
    """A UDP socket standing in for the X-Ray daemon (Lambda's is local too); never read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@dataclass(frozen=True)
class Sample:
    """One child process: wall seconds (timed here), CPU seconds (user + system, from the
    kernel's accounting of waited-for children: less sensitive to other load than wall time)
    and peak RSS in KiB (reported by the child)."""

    wall: float
    cpu: float
    peak_kib: int


def _run(code: str, env: dict[str, str], stdin: str) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"cold-start child failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, cpu, done.stdout


def _line(stdout: str, tag: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(tag)).split(" ", 1)[1]


def _sample(code: str, env: dict[str, str], stdin: str = "") -> Sample:
    elapsed, cpu, stdout = _run(code, env, stdin)
    return Sample(elapsed, cpu, int(_line(stdout, "PEAK")))


def _event(url: str) -> str:
    """An Update that changes nothing: the stream already has the default key."""
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{STREAM}"
    token = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:kinesis-stream-encryption"
    return json.dumps(
        {
            "RequestType": "Update",
            "ServiceToken": token,
            "ResponseURL": url,
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/bench/1",
            "RequestId": "11111111-2222-4333-8444-555555555555",
            "LogicalResourceId": "Enc",
            "ResourceType": "Custom::KinesisStreamEncryption",
            "PhysicalResourceId": arn,
            "ResourceProperties": {"ServiceToken": token, "StreamARN": arn},
            "OldResourceProperties": {"ServiceToken": token, "StreamARN": arn},
        }
    )


def _prepare_stream(endpoint: str) -> None:
    kinesis = emulator_client("kinesis", endpoint, region=REGION)
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    kinesis.start_stream_encryption(
        StreamName=STREAM, EncryptionType="KMS", KeyId="alias/aws/kinesis"
    )


def _as_in_lambda(pycache: str, *envs: dict[str, str]) -> None:
    """Bytecode as Lambda has it: compiled for the dependencies (the runtime's boto3 and the
    Powertools layer ship ``.pyc``), none for our asset (``ASSET_EXCLUDE`` drops it and the code
    directory is read-only), so our modules compile at every cold start.

    The warm-up filled a private cache (``PYTHONPYCACHEPREFIX``, the venv stays untouched); drop
    our modules from it and stop every later child from writing it again.
    """
    shutil.rmtree(Path(pycache + str(ROOT / "lambda_src")), ignore_errors=True)
    for env in envs:
        env["PYTHONDONTWRITEBYTECODE"] = "1"


def measure(samples: int = 7) -> dict[str, Any]:
    """Median wall time, CPU time and peak RSS per variant, plus a stage breakdown (as
    deployed)."""
    with (
        moto_server() as endpoint,
        ResponseReceiver() as receiver,
        xray_sink() as daemon,
        tempfile.TemporaryDirectory(prefix="cold-start-pycache-") as pycache,
    ):
        _prepare_stream(endpoint)
        url = receiver.url_for("Enc")
        base_env = {
            **aws_environment(endpoint, region=REGION),
            "PYTHONPYCACHEPREFIX": pycache,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        for variable in (
            "CI",
            "AWS_LAMBDA_FUNCTION_NAME",
            "_X_AMZN_TRACE_ID",
            "AWS_PROFILE",
            "PYTHONDONTWRITEBYTECODE",  # until the warm-up has filled the cache
        ):
            base_env.pop(variable, None)
        in_lambda = {
            **base_env,
            "AWS_LAMBDA_FUNCTION_NAME": "kinesis-stream-encryption",
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_XRAY_DAEMON_ADDRESS": daemon,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        }
        # The construct sets INFO; the benchmark keeps WARNING so log volume is not measured.
        default_env = {
            **in_lambda,
            **construct_environment(tracing=False),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        deployed_env = {
            **in_lambda,
            **construct_environment(tracing=True),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        event = _event(url)
        variants = {
            "boto3 baseline": (BASELINE, base_env, ""),
            AS_DEPLOYED: (OURS, default_env, event),
            WITH_TRACING: (OURS, deployed_env, event),
        }
        for code, env, stdin in variants.values():  # warm the OS file cache for all
            _sample(code, env, stdin)
        _run(STAGES, deployed_env, event)  # ... and the bytecode cache for what only it imports
        _as_in_lambda(pycache, base_env, default_env, deployed_env)
        runs: dict[str, list[Sample]] = {name: [] for name in variants}
        for _ in range(samples):  # interleaved, so drift hits every variant alike
            for name, (code, env, stdin) in variants.items():
                runs[name].append(_sample(code, env, stdin))
        stage_runs, bare = [], []
        for _ in range(max(3, samples // 2)):
            elapsed, _cpu, stdout = _run(STAGES, deployed_env, event)
            stage_runs.append((elapsed, json.loads(_line(stdout, "STAGES"))))
            bare.append(_run("pass", base_env, "")[0])
        statuses = [str(json.loads(put.body or b"{}").get("Status")) for put in receiver.requests]
        responses = len(statuses)
        failed = [status for status in statuses if status != "SUCCESS"]
    if failed:
        raise RuntimeError(f"the no-op Update did not succeed: {failed}")
    results: dict[str, Any] = {
        name: {
            "wall_s": statistics.median(s.wall for s in samples_),
            "wall_min_s": min(s.wall for s in samples_),
            "cpu_s": statistics.median(s.cpu for s in samples_),
            "peak_rss_mb": statistics.median(s.peak_kib for s in samples_) / 1024,
            "samples": len(samples_),
        }
        for name, samples_ in runs.items()
    }
    names = [name for name, _ in stage_runs[0][1]["stages"]]
    stages = {
        name: statistics.median(run["stages"][i][1] for _, run in stage_runs)
        for i, name in enumerate(names)
    }
    # Outside the measured code: start-up (a bare interpreter) and exit, which tears down every
    # loaded module (botocore's above all). Lambda keeps the process, so it never pays the exit.
    start_up = statistics.median(bare)
    stages["interpreter start-up"] = start_up
    stages["interpreter exit (module teardown)"] = max(
        0.0, statistics.median(elapsed - run["total"] for elapsed, run in stage_runs) - start_up
    )
    results["stages_s"] = stages
    results["responses"] = responses
    base = results["boto3 baseline"]["wall_s"]
    results["as_deployed_ratio"] = results[AS_DEPLOYED]["wall_s"] / base
    results["with_tracing_ratio"] = results[WITH_TRACING]["wall_s"] / base
    return results


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
