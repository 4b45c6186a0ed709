"""The deployed entry point itself, in this process: CloudFormation gets an answer even when
Powertools cannot read the context it was given."""

import json
import logging
import sys

import pytest

from devsupport import leak_guard
from devsupport.http_receiver import ResponseReceiver

pytestmark = pytest.mark.e2e


def test_a_context_powertools_cannot_read_still_gets_an_answer(
    receiver: ResponseReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    import handler

    # Powertools binds its handler to the sys.stdout of import time; another test may have
    # imported the module first: print to this test's captured stdout.
    for each in handler.logger.handlers:
        if isinstance(each, logging.StreamHandler):
            each.stream = sys.stdout  # not setStream: it flushes the old, maybe closed, one
    url = receiver.url_for("Enc")
    leak_guard.watch_secret(url)
    event = {
        "RequestType": "Bogus",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "5e1f8e0c-0000-4000-8000-000000000000",
        "LogicalResourceId": "Enc",
    }
    handler.lambda_handler(event, object())  # no function_name, no request id: Powertools fails
    output = capsys.readouterr()
    leak_guard.watch_output("the handler's output", lambda: [output.out, output.err])
    bodies = [json.loads(put.body) for put in receiver.requests_for(url)]
    assert [body["Status"] for body in bodies] == ["FAILED"]
    assert "RequestType 'Bogus'" in bodies[0]["Reason"]
    assert "Instrumentation failed" in output.out + output.err
