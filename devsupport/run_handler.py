"""Run ``handler.lambda_handler`` in this process, as the Lambda runtime would.

The event (JSON) comes on stdin, never on the command line: its ResponseURL is a credential and
argv is visible to every user of the machine. A JSON array means several events, invoked one after
the other in this same process, like a warm Lambda execution environment (same log stream, a fresh
context and request id each). The context is a ``FakeLambdaContext``. Everything else
(AWS_ENDPOINT_URL, credentials, region, PYTHONPATH with lambda_src) comes from the environment the
caller sets up. Exit status 0 unless the handler raised (it must not).

    python devsupport/run_handler.py [--timeout S] [--log-stream-name N] < event.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "lambda_src", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from devsupport.moto_server import make_lambda_context  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=60.0, help="the function's timeout (s)")
    parser.add_argument("--log-stream-name", default=None)
    parser.add_argument("--request-id", default=None, help="the Lambda invocation's request id")
    args = parser.parse_args(argv)

    document = json.load(sys.stdin)
    events = document if isinstance(document, list) else [document]

    from handler import lambda_handler

    log_stream_name = args.log_stream_name
    for event in events:
        context = make_lambda_context(timeout_seconds=args.timeout, aws_request_id=args.request_id)
        log_stream_name = log_stream_name or context.log_stream_name
        context.log_stream_name = log_stream_name
        lambda_handler(event, context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
