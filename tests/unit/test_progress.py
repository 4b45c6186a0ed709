"""What a hand-over carries: CloudFormation's clock and the age of the wait survive each hop."""

import pytest

from stream_encryption.models.progress import Progress


def test_the_sent_time_and_the_wait_age_round_trip():
    progress = Progress(1_800_000_100.0, 3, True, True, sent_at=1_800_000_000.0)
    progress.wait_began_at = 1_800_000_050.0
    assert Progress.from_json(progress.to_json()) == progress


def test_without_a_sent_time_cloudformations_clock_counts_from_first_receipt():
    assert Progress(1_800_000_100.0).listened_since == 1_800_000_100.0
    assert Progress(1_800_000_100.0, sent_at=1_800_000_000.0).listened_since == 1_800_000_000.0


@pytest.mark.parametrize(("key", "value"), [("sentAt", "yesterday"), ("waitBeganAt", True)])
def test_a_malformed_carried_time_means_no_carried_progress(key, value):
    carried = {**Progress(1_800_000_100.0).to_json(), key: value}
    assert Progress.from_json(carried) is None
