import os

import pytest
from hypothesis import settings

from devsupport import leak_guard
from devsupport.harness import Harness

# CI replays the same examples every run (no flaky landing); locally each run explores anew.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def no_response_url_leaks(caplog):
    """Fails any test whose logs, metrics, Reasons or process output carry a ResponseURL secret."""
    leak_guard.reset()
    leak_guard.watch_output("caplog", lambda: [caplog.text])
    yield
    found = leak_guard.leaks()
    leak_guard.reset()
    if found:
        pytest.fail("; ".join(sorted(set(found))))


@pytest.fixture
def h():
    return Harness()
