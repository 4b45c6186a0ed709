"""ProviderScope: what a stand-alone provider's role may touch, from code or CDK context."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from .conftest import load_example_app

pytestmark = pytest.mark.infra

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/payments"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

app_module = load_example_app()
ProviderScope = app_module.ProviderScope


def from_context(**context: Any) -> Any:
    return ProviderScope.from_context(cdk.App(context=context).node)


def test_no_stream_scope_at_all_means_the_default_prefix() -> None:
    scope = from_context()
    assert scope.stream_name_prefixes == ("encrypted-",)
    assert (scope.stream_arns, scope.all_streams) == ((), False)


def test_context_lists_are_comma_separated_or_json_lists() -> None:
    scope = from_context(
        streamArns=f"{ARN}, {ARN.replace('payments', 'refunds')}",
        streamNamePrefixes=["team-a-", "team-b-"],
        keyArns=KEY_ARN,
    )
    assert scope.stream_arns == (ARN, ARN.replace("payments", "refunds"))
    assert scope.stream_name_prefixes == ("team-a-", "team-b-")
    assert scope.key_arns == (KEY_ARN,)


def test_arns_alone_do_not_add_the_default_prefix() -> None:
    assert from_context(streamArns=ARN).stream_name_prefixes == ()


def test_the_old_single_prefix_still_works() -> None:
    assert from_context(streamNamePrefix="legacy-").stream_name_prefixes == ("legacy-",)


def test_all_streams_only_when_said_explicitly() -> None:
    assert from_context(allStreams="ALL").all_streams is True
    with pytest.raises(ValueError, match="allStreams must be 'ALL'"):
        from_context(allStreams="true")
    with pytest.raises(ValueError, match="not both"):
        from_context(allStreams="ALL", streamNamePrefixes="x-")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a stream scope"),
        ({"stream_name_prefixes": [""]}, "streamNamePrefixes"),
        ({"stream_arns": ["payments"]}, "streamArns"),
        ({"stream_arns": [ARN], "key_arns": ["alias/x"]}, "keyArns"),
        ({"stream_arns": [ARN], "key_aliases": ["alias/aws/kinesis"]}, "keyAliases"),
        (
            {"stream_arns": [ARN], "key_arns": [KEY_ARN], "key_aliases": ["alias/x"]},
            "keyArns or keyAliases",
        ),
    ],
)
def test_bad_scopes_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProviderScope(**kwargs)


def test_two_providers_side_by_side_in_one_app() -> None:
    app = cdk.App()
    for name, scope in (
        ("team-a", ProviderScope(stream_name_prefixes=["team-a-"])),
        ("payments", ProviderScope(stream_arns=[ARN], key_arns=[KEY_ARN])),
    ):
        app_module.KinesisStreamEncryptionProviderStack(
            app,
            f"Provider-{name}",
            provider_scope=scope,
            export_name=f"{name}-ServiceToken",
            stack_name=f"kse-provider-{name}",
        )
    assembly = app.synth()
    names = {
        s.stack_name: s.template["Outputs"]["ServiceToken"]["Export"]["Name"]
        for s in assembly.stacks
    }
    assert names == {
        "kse-provider-team-a": "team-a-ServiceToken",
        "kse-provider-payments": "payments-ServiceToken",
    }


def test_export_name_is_checked() -> None:
    with pytest.raises(ValueError, match="exportName"):
        app_module.KinesisStreamEncryptionProviderStack(
            cdk.App(),
            "P",
            provider_scope=ProviderScope(all_streams=True),
            export_name="has spaces",
        )


@pytest.mark.parametrize(
    "context",
    [
        {"allStreams": "ALL"},
        {"streamArns": ARN, "keyArns": KEY_ARN},
        {"streamNamePrefixes": "team-a-,team-b-", "keyAliases": "alias/team-a,alias/team-b"},
    ],
)
def test_every_scope_passes_cdk_nag(context: dict[str, str], tmp_path: Any) -> None:
    """Each wildcard the scope brings is acknowledged with its reason; nothing else is."""
    from aws_cdk.assertions import Annotations, Match
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(outdir=str(tmp_path), context=context)
    _, provider = app_module.build_app(app)
    app.synth()
    report = AwsSolutionsChecks().validate_scope(provider)
    assert [v.rule_name for v in report.violations] == []
    assert Annotations.from_stack(provider).find_error("*", Match.any_value()) == []
