"""The suite-wide leak guard itself must catch a leak (else every test's guarantee is hollow)."""

from devsupport import leak_guard

URL = "https://b.s3.amazonaws.com/p%7Cq?X-Amz-Date=1&X-Amz-Signature=0123abcd"


def test_guard_finds_the_signature_in_registered_output():
    leak_guard.watch_secret(URL)
    text = ["fine", "oops X-Amz-Signature=0123abcd"]
    leak_guard.watch_output("sample", lambda: text)
    found = leak_guard.leaks()
    assert found and all(leak.startswith("sample contains a ResponseURL secret") for leak in found)
    text.clear()
    assert leak_guard.leaks() == []


def test_guard_is_quiet_without_a_leak():
    leak_guard.watch_secret(URL)
    leak_guard.watch_output("sample", lambda: ["stream arn:aws:kinesis:us-east-1:1:stream/x"])
    assert leak_guard.leaks() == []
