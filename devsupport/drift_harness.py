"""A Harness whose simulator also lists streams and reads tags: for drift-check tests, the demo
and the benchmarks."""

from __future__ import annotations

import json
from typing import Any

from devsupport.harness import ACCOUNT, FUNCTION_ARN, REGION, STACK_ID, Harness
from devsupport.kinesis_sim_inventory import FleetSimulator, Pagination
from stream_encryption.models.check import CHECK_EVENT_KEY
from stream_encryption.models.ownership import (
    OWNER_RESOURCE_TAG,
    OWNER_STACK_TAG,
    PROVIDER_TAG,
    managed_by_tags,
    unqualified_function_arn,
)


def check_event(repair: bool = False) -> dict[str, Any]:
    """The event the schedule sends."""
    return {CHECK_EVENT_KEY: "check", "repair": repair}


class DriftHarness(Harness):
    """One simulated account with a fleet of streams and the provider function checking it."""

    def __init__(
        self, *, pagination: Pagination = "kinesis", guard_leaks: bool = True, **options: Any
    ) -> None:
        super().__init__(guard_leaks=guard_leaks, **options)
        self.kinesis.detach(self.client)
        self.fleet = FleetSimulator(
            self.clock, account_id=ACCOUNT, region=REGION, pagination=pagination, **options
        )
        self.fleet.attach(self.client)
        self.kinesis = self.fleet

    def add_stream(
        self,
        name: str,
        key: str | None,
        *,
        tagged_key: str | None = "same",
        provider: str | None = FUNCTION_ARN,
        logical_id: str = "Encryption",
    ) -> str:
        """A stream encrypted with ``key`` (None: unencrypted), tagged as Create would tag it.

        ``tagged_key="same"``: the key tag is ``key``; None: no key tag; ``provider`` None: not
        managed by this function.
        """
        self.fleet.create_stream(name, encryption="KMS" if key else "NONE", key_id=key)
        tags: dict[str, str] = {}
        if provider is not None:
            wanted = key if tagged_key == "same" else tagged_key
            tags = {
                PROVIDER_TAG: provider,
                OWNER_STACK_TAG: STACK_ID,
                OWNER_RESOURCE_TAG: logical_id,
            }
            if wanted:
                tags.update(managed_by_tags(wanted, unqualified_function_arn(provider)))
        if tags:
            self.fleet.set_tags(name, tags)
        return self.fleet.stream_arn(name)

    def check(
        self, repair: bool = False, *, timeout: float = 900.0, max_invocations: int = 100
    ) -> int:
        """Run one scheduled check, following its hand-overs; returns the invocations used."""
        used = 0
        pending = [check_event(repair)]
        handed = len(self.invokes.payloads)
        while pending and used < max_invocations:
            self.invoke(pending.pop(), timeout)
            used += 1
            if len(self.invokes.payloads) > handed:
                pending.append(self.invokes.payloads[handed])
                handed += 1
        return used

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.splitlines() if line.strip()]
