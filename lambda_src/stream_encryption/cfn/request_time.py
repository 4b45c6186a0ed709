"""When CloudFormation sent a request, read from its presigned ResponseURL.

CloudFormation stops listening ServiceTimeout seconds after it sent the request, whenever the
function first sees it (a late Lambda retry, an event queued behind a concurrency limit or a
duplicate delivery can arrive long after). The presigned URL was signed when the request was sent:

* SigV4 (``X-Amz-Algorithm=AWS4-HMAC-SHA256``): ``X-Amz-Date`` is the signing time,
  ``YYYYMMDDTHHMMSSZ`` in UTC.
* SigV2 (``AWSAccessKeyId``/``Signature``): ``Expires`` is the moment the URL stops working, in
  epoch seconds; the signing time is that minus the URL's lifetime: ``X-Amz-Expires`` when the URL
  names it, else ``ASSUMED_URL_LIFETIME_SECONDS``.

Assumption, stated because AWS does not document it: CloudFormation's response URLs live two
hours (7200 s). If they lived shorter, the sent time computed from ``Expires`` would be earlier
than the truth and waits would end early (the safe side); if longer, later (a late request could
still act). SigV4 URLs, which carry ``X-Amz-Date``, need no such assumption.

A URL with neither field, with a value that does not parse, or one that claims to be signed after
the function received it (by more than clock skew allows) gives None: count from first receipt.
"""

from __future__ import annotations

import calendar
import time
import urllib.parse

ASSUMED_URL_LIFETIME_SECONDS = 7200
# Clocks of CloudFormation and Lambda disagree by a little; more than this is not skew.
MAX_CLOCK_SKEW_SECONDS = 300.0


def signed_at(url: str) -> float | None:
    """Epoch seconds at which ``url`` was presigned, or None when the URL does not say."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    params = {name.lower(): values[-1] for name, values in query.items() if values}
    amz_date = params.get("x-amz-date")
    if amz_date is not None:
        try:
            parsed = time.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return None
        return float(calendar.timegm(parsed))
    expires = params.get("expires")
    if expires is None:
        return None
    lifetime = params.get("x-amz-expires", str(ASSUMED_URL_LIFETIME_SECONDS))
    if not (expires.isdigit() and lifetime.isdigit()):
        return None
    return float(int(expires) - int(lifetime))


def cloudformation_sent_at(url: str, received_at: float) -> float | None:
    """When CloudFormation sent the request whose ResponseURL is ``url`` (epoch seconds), or None
    when the URL does not tell it credibly; ``received_at`` is the first receipt."""
    sent = signed_at(url)
    if sent is None or sent > received_at + MAX_CLOCK_SKEW_SECONDS:
        return None
    return min(sent, received_at)
