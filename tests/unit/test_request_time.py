"""When CloudFormation sent a request, read from its presigned ResponseURL (SPEC "Waiting")."""

import calendar

import pytest

from stream_encryption.cfn.request_time import (
    ASSUMED_URL_LIFETIME_SECONDS,
    cloudformation_sent_at,
    signed_at,
)

BASE = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%7Cx%7Cy"
SIGNED = calendar.timegm((2026, 11, 30, 4, 5, 6, 0, 0, 0))


def test_sigv4_signing_time_is_x_amz_date():
    url = f"{BASE}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261130T040506Z&X-Amz-Expires=7200"
    assert signed_at(url) == SIGNED


def test_sigv2_signing_time_is_expires_minus_the_stated_lifetime():
    url = f"{BASE}?AWSAccessKeyId=AK&Expires={SIGNED + 900}&X-Amz-Expires=900&Signature=s%2B"
    assert signed_at(url) == SIGNED


def test_sigv2_without_a_lifetime_assumes_two_hours():
    url = f"{BASE}?AWSAccessKeyId=AK&Expires={SIGNED + 7200}&Signature=abc"
    assert ASSUMED_URL_LIFETIME_SECONDS == 7200
    assert signed_at(url) == SIGNED


def test_parameter_names_are_case_insensitive():
    assert signed_at(f"{BASE}?x-amz-date=20261130T040506Z") == SIGNED


@pytest.mark.parametrize(
    "query",
    [
        "",
        "X-Amz-Signature=abc",
        "X-Amz-Date=yesterday",
        "Expires=soon",
        "Expires=1&X-Amz-Expires=x",
    ],
)
def test_urls_that_do_not_say_give_none(query):
    assert signed_at(f"{BASE}?{query}") is None


def test_a_url_signed_in_the_future_beyond_clock_skew_is_not_believed():
    url = f"{BASE}?X-Amz-Date=20261130T040506Z"
    assert cloudformation_sent_at(url, received_at=SIGNED - 3600) is None


def test_small_clock_skew_is_tolerated_and_capped_at_receipt():
    url = f"{BASE}?X-Amz-Date=20261130T040506Z"
    assert cloudformation_sent_at(url, received_at=SIGNED - 10) == SIGNED - 10
    assert cloudformation_sent_at(url, received_at=SIGNED + 30) == SIGNED


def test_an_old_url_is_believed_it_is_the_point():
    url = f"{BASE}?X-Amz-Date=20261130T040506Z"
    assert cloudformation_sent_at(url, received_at=SIGNED + 7200) == SIGNED
