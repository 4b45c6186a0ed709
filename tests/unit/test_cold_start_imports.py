"""A CloudFormation request's cold start does not import what only other paths need.

Not timed (timing lives in benchmarks/cold_start.py): it checks which modules a fresh process
has loaded after importing the handler, the way Lambda does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
ONLY_WHEN_NEEDED = (
    "difflib",  # "did you mean" for a mistyped property
    "stream_encryption.handlers.check",  # the drift check
    "stream_encryption.logic.drift_check",
    "stream_encryption.dal.stream_inventory",
    "aws_xray_sdk",  # tracing is off by default
)


def test_importing_the_handler_leaves_the_other_paths_unloaded() -> None:
    code = (
        "import json, sys; import handler; "
        f"print(json.dumps([m for m in {list(ONLY_WHEN_NEEDED)!r} if m in sys.modules]))"
    )
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "kinesis-stream-encryption",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=LAMBDA_SRC,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
