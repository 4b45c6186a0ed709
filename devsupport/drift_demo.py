"""The demo's drift step: someone turns a managed stream's encryption off; the scheduled check
notices it (report only), then a check with repair on restores the key. Real handler, local
emulator, the same process as the lifecycle steps."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from devsupport.lifecycle_demo import Encryption, LogSink, read_encryption, wait_active
from devsupport.moto_server import FakeLambdaContext


@dataclass
class DriftDemoResult:
    """What the two checks logged and what became of the stream."""

    after_stop: Encryption | None = None
    drift_line: dict[str, Any] | None = None
    repaired_line: dict[str, Any] | None = None
    after_repair: Encryption | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _records(output: str) -> list[dict[str, Any]]:
    found = []
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                found.append(record)
    return found


def _check(handler: ModuleType, sink: LogSink, function_arn: str, repair: bool) -> str:
    context = FakeLambdaContext(
        deadline_epoch_ms=int((time.time() + 60) * 1000), invoked_function_arn=function_arn
    )
    sink.take()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        handler.lambda_handler({"kinesis-stream-encryption": "check", "repair": repair}, context)
    sink.flush()
    return sink.take()


def run_drift_demo(
    handler: ModuleType,
    kinesis: Any,
    sink: LogSink,
    *,
    stream_name: str,
    key: str,
    function_arn: str,
) -> DriftDemoResult:
    """Tag the stream as Create/Update do, stop its encryption behind CloudFormation's back, run
    a check without and with repair; the stream ends encrypted with ``key`` again."""
    # The function's code is importable once the demo imported the handler (lambda_src on path).
    from stream_encryption.models.ownership import managed_by_tags, unqualified_function_arn

    result = DriftDemoResult()
    arn = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    tags = managed_by_tags(key, unqualified_function_arn(function_arn))
    kinesis.add_tags_to_stream(StreamARN=arn, Tags=tags)
    kinesis.stop_stream_encryption(StreamARN=arn, EncryptionType="KMS", KeyId=key)
    result.after_stop = wait_active(kinesis, stream_name)

    records = _records(_check(handler, sink, function_arn, repair=False))
    drifts = [r for r in records if str(r.get("message", "")).startswith("Encryption drift")]
    result.drift_line = drifts[0] if drifts else None
    if len(drifts) != 1 or drifts[0].get("stream") != arn:
        result.problems.append(f"expected one drift line for {arn}, got {len(drifts)}")
    if read_encryption(kinesis, stream_name).encryption_type != "NONE":
        result.problems.append("the report-only check changed the stream")

    records = _records(_check(handler, sink, function_arn, repair=True))
    repaired = [r for r in records if str(r.get("message", "")).startswith("Drift repaired")]
    result.repaired_line = repaired[0] if repaired else None
    if len(repaired) != 1:
        result.problems.append(f"expected one repair, got {len(repaired)}")
    result.after_repair = wait_active(kinesis, stream_name)
    if (result.after_repair.encryption_type, result.after_repair.key_id) != ("KMS", key):
        result.problems.append(f"after the repair the stream shows {result.after_repair}")
    return result


def show_drift(result: DriftDemoResult) -> None:
    """Print the drift step (its lines start with ``[drift]``)."""
    print("\n[drift] someone calls StopStreamEncryption outside CloudFormation")
    print(f"    {'stream':<13} {result.after_stop}")
    line = result.drift_line or {}
    print("[drift] scheduled check, repair off")
    print(f"    {'log':<13} WARNING {line.get('message', '(none)')}")
    for name in ("expected", "actual", "owner_stack", "owner_resource"):
        print(f"    {name:<13} {line.get(name, '?')}")
    print("[drift] scheduled check, repair on")
    repaired = result.repaired_line or {}
    print(f"    {'log':<13} WARNING {repaired.get('message', '(none)')}")
    print(f"    {'stream':<13} {result.after_repair}")
    print(f"    {'drift check':<13} {'ok' if result.ok else '; '.join(result.problems)}")
