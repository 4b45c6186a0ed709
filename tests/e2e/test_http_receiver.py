"""The ResponseURL receiver itself: scripts, raw recording, closing, delays, clean shutdown."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request

import pytest

from devsupport.http_receiver import Close, Respond, ResponseReceiver, secrets_of

pytestmark = pytest.mark.e2e


def put(url: str, body: bytes = b"{}", timeout: float = 5.0) -> int:
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_url_looks_presigned_and_is_recorded_raw() -> None:
    with ResponseReceiver() as receiver:
        url = receiver.url_for("StreamEncryption", request_id="r-1")
        assert "%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/" in url
        assert "%7CStreamEncryption%7Cr-1?X-Amz-Algorithm=AWS4-HMAC-SHA256&" in url
        assert "X-Amz-Credential=ASIAQEXAMPLERECEIVER%2F" in url
        signature = url.rsplit("X-Amz-Signature=", 1)[1]
        assert len(signature) == 64
        assert signature in secrets_of(url)
        assert receiver.url_for("StreamEncryption", request_id="r-1") != url  # fresh signature

        assert put(url, b'{"Status":"SUCCESS"}') == 200
        [request] = receiver.requests_for(url)
        assert request.method == "PUT"
        assert request.target == url[len(receiver.base_url) :]
        assert request.header_values("content-type") == [""]
        assert request.body == b'{"Status":"SUCCESS"}'


def test_script_steps_then_repeats_its_last_action() -> None:
    with ResponseReceiver() as receiver:
        url = receiver.url_for(script=[500, 503, 200])
        assert [put(url) for _ in range(4)] == [500, 503, 200, 200]
        always = receiver.url_for(script=[403])
        assert [put(always) for _ in range(2)] == [403, 403]
        other = receiver.url_for()  # the default script
        assert put(other) == 200
        assert [r.status for r in receiver.requests_for(url)] == [500, 503, 200, 200]
        assert len(receiver.requests) == 7


def test_close_without_answer_and_delay() -> None:
    with ResponseReceiver() as receiver:
        url = receiver.url_for(script=[Close(), Respond(200, delay=0.3)])
        with pytest.raises(
            (http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)
        ):
            put(url)
        started = time.monotonic()
        assert put(url) == 200
        assert time.monotonic() - started >= 0.3
        assert [r.status for r in receiver.requests_for(url)] == [None, 200]


def test_concurrent_requests_are_all_recorded_and_shutdown_is_prompt() -> None:
    receiver = ResponseReceiver(default=[200]).start()
    urls = [receiver.url_for(request_id=f"r-{i}") for i in range(20)]
    statuses: list[object] = []

    def put_and_note(url: str) -> None:
        try:
            statuses.append(put(url))
        except (OSError, http.client.HTTPException) as error:
            statuses.append(type(error).__name__)

    threads = [threading.Thread(target=put_and_note, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    assert len(receiver.wait_for(20, timeout=5)) == 20
    paths = [url.split("?")[0][len(receiver.base_url) :] for url in urls]
    assert sorted(r.path for r in receiver.requests) == sorted(paths)

    slow = receiver.url_for(script=[Respond(200, delay=30)])
    outcome: list[object] = []

    def slow_put() -> None:
        try:
            outcome.append(put(slow, b"{}", 10.0))
        except (OSError, http.client.HTTPException) as error:
            outcome.append(type(error))

    client = threading.Thread(target=slow_put, daemon=True)
    client.start()
    time.sleep(0.2)  # the request is in; its answer is 30 s away
    started = time.monotonic()
    receiver.stop()
    assert time.monotonic() - started < 3, "a delayed answer must not hold up shutdown"
    client.join(timeout=5)
    assert not client.is_alive()
    assert outcome and outcome[0] != 200  # the client saw the connection close, not an answer
    [request] = receiver.requests_for(slow)
    assert request.status is None
