import pytest

from tests.support.harness import SIGNATURE, Harness


@pytest.fixture
def h():
    harness = Harness()
    yield harness
    # Leak guard: the presigned URL's signature never reaches logs, Reasons or hand-over-free text.
    assert SIGNATURE not in harness.logs
    for body in harness.puts.bodies:
        assert SIGNATURE not in body.get("Reason", "")
