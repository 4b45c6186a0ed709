"""A small CloudFormation fake: DescribeStackResources as the ownership check uses it.

It answers as CloudFormation does (see NOTES "Ownership"): a deleted stack still answers by its
StackId, with its resources DELETE_COMPLETE (DELETE_SKIPPED when retained); a stack that does not
exist (or was deleted long ago) is a ValidationError "Stack with id X does not exist"; a logical
id that is not in the stack is a ValidationError "Resource X does not exist for stack Y" (real
CloudFormation; moto answers an empty list instead: ``empty_list_for_unknown_resource``). Errors
are real botocore ``ClientError``s; a client only sees the stacks of its own region.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class _Stack:
    stack_id: str
    name: str
    status: str
    resources: dict[str, str] = field(default_factory=dict)  # logical id -> ResourceStatus


class CloudFormationFake:
    """The stacks of one account, all regions; ``client(region)`` is what the function gets."""

    def __init__(self, account_id: str = "123456789012", partition: str = "aws") -> None:
        self.account_id = account_id
        self.partition = partition
        self.empty_list_for_unknown_resource = False
        self.denied = False
        self._throttles = 0
        self._stacks: dict[str, _Stack] = {}
        self.calls: list[dict[str, Any]] = []

    # ---- arranging ---------------------------------------------------------------------

    def add_stack(
        self,
        name: str,
        resources: tuple[str, ...] = (),
        *,
        region: str = "us-east-1",
        stack_id: str | None = None,
    ) -> str:
        """A live stack with these resources (CREATE_COMPLETE); returns its StackId."""
        stack_id = stack_id or (
            f"arn:{self.partition}:cloudformation:{region}:{self.account_id}:stack/{name}/"
            f"{uuid.uuid4()}"
        )
        stack = _Stack(stack_id, name, "CREATE_COMPLETE")
        stack.resources = dict.fromkeys(resources, "CREATE_COMPLETE")
        self._stacks[stack_id] = stack
        return stack_id

    def add_resource(self, stack_id: str, logical_id: str) -> None:
        self._stacks[stack_id].resources[logical_id] = "CREATE_COMPLETE"

    def remove_resource(self, stack_id: str, logical_id: str) -> None:
        """The resource left the template (deleted or retained): no longer in the stack."""
        self._stacks[stack_id].resources.pop(logical_id, None)

    def delete_stack(self, stack_id: str, *, retained: tuple[str, ...] = ()) -> None:
        """DELETE_COMPLETE; retained resources DELETE_SKIPPED, the others DELETE_COMPLETE."""
        stack = self._stacks[stack_id]
        stack.status = "DELETE_COMPLETE"
        for logical_id in stack.resources:
            gone = "DELETE_SKIPPED" if logical_id in retained else "DELETE_COMPLETE"
            stack.resources[logical_id] = gone

    def forget_stack(self, stack_id: str) -> None:
        """Deleted more than 90 days ago: CloudFormation no longer knows the StackId."""
        del self._stacks[stack_id]

    def throttle_next(self, count: int = 1) -> None:
        self._throttles += count

    # ---- the client --------------------------------------------------------------------

    def client(self, region: str) -> _Client:
        return _Client(self, region)

    def _describe_stack_resources(self, region: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append({"region": region, **kwargs})
        name, logical_id = kwargs["StackName"], kwargs.get("LogicalResourceId")
        if self.denied:
            raise _error(
                "AccessDenied",
                "User is not authorized to perform: cloudformation:DescribeStackResources",
                403,
            )
        if self._throttles:
            self._throttles -= 1
            raise _error("Throttling", "Rate exceeded", 400)
        stack = self._stacks.get(name)
        if stack is None or f":{region}:" not in stack.stack_id:
            stack = next(
                (
                    s
                    for s in self._stacks.values()
                    if s.name == name
                    and s.status != "DELETE_COMPLETE"
                    and f":{region}:" in s.stack_id
                ),
                None,
            )
        if stack is None:
            raise _error("ValidationError", f"Stack with id {name} does not exist", 400)
        resources = stack.resources
        if logical_id is not None:
            if logical_id not in resources:
                if self.empty_list_for_unknown_resource:
                    return {"StackResources": []}
                raise _error(
                    "ValidationError",
                    f"Resource {logical_id} does not exist for stack {stack.name}",
                    400,
                )
            resources = {logical_id: resources[logical_id]}
        return {
            "StackResources": [
                {
                    "StackName": stack.name,
                    "StackId": stack.stack_id,
                    "LogicalResourceId": lid,
                    "ResourceType": "Custom::KinesisStreamEncryption",
                    "ResourceStatus": status,
                }
                for lid, status in resources.items()
            ]
        }


class _Client:
    def __init__(self, fake: CloudFormationFake, region: str) -> None:
        self._fake = fake
        self.region = region

    def describe_stack_resources(self, **kwargs: Any) -> dict[str, Any]:
        return self._fake._describe_stack_resources(self.region, **kwargs)


def _error(code: str, message: str, status: int) -> ClientError:
    """The error botocore raises for CloudFormation's answer (Query protocol, parsed)."""
    response: Any = {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "DescribeStackResources")
