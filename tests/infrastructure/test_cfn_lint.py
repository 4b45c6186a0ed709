"""cfn-lint over every synthesized template and every template a CloudFormation user touches.

Synthesized templates: errors fail (E3004 would be a circular dependency, e.g. the self-invoke
permission); warnings are allowed (CDK itself emits W3005 for a DependsOn already implied by a
GetAtt). Templates users deploy or copy (examples/, dist/, the StackSets variant, the README's
YAML snippets): no error and no warning at all.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import package as packaging

from .conftest import REPO, ExampleApp, Scenarios
from .dist_fixtures import build_dist, build_per_region_template

pytestmark = pytest.mark.infra


def _cfn_lint() -> str:
    for candidate in (
        Path(sys.executable).parent / "cfn-lint",
        REPO / ".venv" / "bin" / "cfn-lint",
    ):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("cfn-lint")
    if found is None:
        pytest.fail("cfn-lint is not installed in the project environment")
    return found


def _lint(paths: list[Path]) -> list[dict[str, Any]]:
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit codes are bit flags: 2 errors, 4 warnings, 8 informational; 1 means it crashed.
    assert result.returncode & 1 == 0, result.stderr
    matches: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return matches


def test_templates_pass_cfn_lint(
    example_app: ExampleApp, scenarios: Scenarios, tmp_path: Path
) -> None:
    templates = sorted(Path(example_app.outdir).glob("*.template.json"))
    assert len(templates) == 2
    for name, template in scenarios.templates.items():
        path = tmp_path / f"scenario-{name}.template.json"
        path.write_text(json.dumps(template.to_json()))
        templates.append(path)
    examples = sorted((REPO / "examples").glob("*.yaml"))
    assert examples, "no example templates"
    matches = _lint(templates + examples)
    errors = [
        f"{m['Filename']}: {m['Rule']['Id']} {m['Message']}"
        for m in matches
        if m["Level"] == "Error"
    ]
    assert errors == []


def test_example_template_uses_the_exported_service_token() -> None:
    text = (REPO / "examples" / "encrypt-existing-stream.yaml").read_text()
    assert "Type: Custom::KinesisStreamEncryption" in text
    assert "!ImportValue KinesisStreamEncryption-ServiceToken" in text
    assert "ServiceTimeout:" in text
    for attribute in ("StreamARN", "StreamName", "KeyId", "EncryptionType"):
        assert f"!GetAtt StreamEncryption.{attribute}" in text


def readme_yaml_snippets() -> list[str]:
    """The README's ```yaml blocks (all of them are CloudFormation)."""
    return re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)


def test_user_facing_templates_have_no_error_and_no_warning(tmp_path: Path) -> None:
    snippets = readme_yaml_snippets()
    assert snippets, "the README has no CloudFormation snippet"
    paths = [
        *sorted((REPO / "examples").glob("*.yaml")),
        build_dist() / packaging.TEMPLATE_NAME,
        build_per_region_template(),
        *sorted((REPO / "dist").glob("*.yaml")),  # a `make package` of this checkout, if any
    ]
    for index, snippet in enumerate(snippets):
        path = tmp_path / f"readme-snippet-{index}.yaml"
        path.write_text(snippet)
        paths.append(path)
    matches = _lint(paths)
    problems = [
        f"{m['Filename']}:{m['Location']['Start']['LineNumber']}: {m['Rule']['Id']} {m['Message']}"
        for m in matches
        if m["Level"] in ("Error", "Warning")
    ]
    assert problems == []


def test_readme_snippet_matches_the_example_file() -> None:
    """Same removal behaviour in both: Delete, with UpdateReplacePolicy beside it (W3011)."""
    example = (REPO / "examples" / "encrypt-existing-stream.yaml").read_text()
    (snippet,) = [s for s in readme_yaml_snippets() if "Custom::KinesisStreamEncryption" in s]
    for text in (snippet, example):
        assert re.search(r"^    DeletionPolicy: Delete$", text, flags=re.MULTILINE)
        assert re.search(r"^    UpdateReplacePolicy: Delete$", text, flags=re.MULTILINE)
        assert "!ImportValue KinesisStreamEncryption-ServiceToken" in text
