"""Whether a stream's recorded owner still exists: CloudFormation DescribeStackResources.

Asked in the owner stack's own region. A deleted stack still answers (by its StackId, for 90 days)
with its resources DELETE_COMPLETE (or DELETE_SKIPPED when retained); a stack that never existed
(or is long gone) answers ValidationError "... does not exist"; a logical id that is not in the
stack answers either ValidationError "Resource X does not exist for stack Y" or an empty list.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ..clock import Clock
from ..models.ownership import Owner
from ..time_budget import Deadline
from .kinesis import RETRY_CAP_SECONDS, RETRY_FIRST_SECONDS, Backoff
from .streams import DeadlineReached

# The resource no longer exists in its stack (deleted, or retained when its stack was deleted).
GONE_STATUSES = frozenset({"DELETE_COMPLETE", "DELETE_SKIPPED"})
_RETRIED_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable"}
)


class OwnerCheckFailed(Exception):
    """CloudFormation could not be asked (AccessDenied, or an error that does not say)."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class StackResources(Protocol):
    def exists(self, owner: Owner) -> bool:
        """Whether ``owner`` is a resource CloudFormation still has in a live stack."""
        ...


class OpenStackResources(Protocol):
    """Opens CloudFormation in a region for one request's deadline."""

    def __call__(self, region: str, deadline: Deadline) -> StackResources: ...


class CloudFormationClient(Protocol):
    def describe_stack_resources(self, **kwargs: Any) -> Any: ...


class CloudFormationResources:
    """The one implementation of ``StackResources``."""

    def __init__(
        self,
        client: CloudFormationClient,
        clock: Clock,
        deadline: Deadline,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._deadline = deadline
        self._rng = rng or random.Random()

    def exists(self, owner: Owner) -> bool:
        backoff = Backoff(RETRY_FIRST_SECONDS, 2.0, RETRY_CAP_SECONDS, self._rng)
        while True:
            try:
                reply = self._client.describe_stack_resources(
                    StackName=owner.stack_id, LogicalResourceId=owner.logical_id
                )
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                message = str(error.response.get("Error", {}).get("Message", ""))
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
                if code == "ValidationError" and "does not exist" in message:
                    return False
                if not (code in _RETRIED_CODES or (isinstance(status, int) and status >= 500)):
                    raise OwnerCheckFailed(_reason(owner, code, message), code) from None
            except (BotocoreConnectionError, HTTPClientError):
                pass  # a read: ask again
            else:
                resources = [
                    r
                    for r in reply.get("StackResources") or []
                    if r.get("LogicalResourceId") == owner.logical_id
                ]
                return any(r.get("ResourceStatus") not in GONE_STATUSES for r in resources)
            delay = backoff.next()
            if self._deadline.remaining() < delay:
                raise DeadlineReached(None)
            self._clock.sleep(delay)


def _reason(owner: Owner, code: str, message: str) -> str:
    said = f"{code}: {message}" if message else code or "no details"
    if code in ("AccessDenied", "AccessDeniedException"):
        return (
            f"CloudFormation could not be asked whether {owner.describe()} still exists: "
            f"cloudformation:DescribeStackResources was denied ({said}). Grant it to the "
            "function's role"
        )
    return f"CloudFormation could not be asked whether {owner.describe()} still exists ({said})"
