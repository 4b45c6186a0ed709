"""The scheduled drift check's event, and how far one check has come across hand-overs.

EventBridge sends ``{"kinesis-stream-encryption": "check", "repair": false}``; a hand-over adds
``cursor``. The event never carries a ResponseURL: a check answers nobody, it logs and counts.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

# The key that marks an event as a drift check (its value must be "check").
CHECK_EVENT_KEY = "kinesis-stream-encryption"
CHECK_EVENT_VALUE = "check"


class CheckCursor(BaseModel):
    """Where a handed-over check resumes, and when its period (and so the check) ends.

    ``after`` is the last stream name fully handled in ``regions[region_index]``: listing resumes
    with ``ExclusiveStartStreamName``, so no stream is checked (or repaired) twice in one check.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    started_at: StrictFloat  # wall seconds when the check was first received
    stop_at: StrictFloat  # wall seconds: the next scheduled check may start soon after this
    regions: tuple[StrictStr, ...]
    region_index: StrictInt = 0
    after: StrictStr | None = None
    hop: StrictInt = 0
    checked: StrictInt = 0
    drifted: StrictInt = 0
    repaired: StrictInt = 0


class CheckEvent(BaseModel):
    """A drift check request; anything beyond these fields (a ResponseURL too) is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: StrictStr = Field(alias="kinesis-stream-encryption", pattern="^check$")
    repair: StrictBool = False
    cursor: CheckCursor | None = None

    def to_event(self) -> dict[str, object]:
        """The event as the function receives it (the hand-over sends this)."""
        return self.model_dump(by_alias=True, exclude_none=True)
