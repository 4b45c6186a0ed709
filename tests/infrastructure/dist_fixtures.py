"""`make package` output for the tests, built once per test process.

Several modules need it (package, cfn-lint, moto deploy); cached builders (not fixtures, which
pytest would build once per importing module) make each pytest-xdist worker pay for one
synthesis.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from scripts import package as packaging

from .conftest import REPO


@functools.cache
def build_dist() -> Path:
    """Run what `make package` runs, into a directory of its own."""
    out = Path(tempfile.mkdtemp(prefix="kse-dist-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "package.py"), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


@functools.cache
def build_synthesized() -> tuple[dict[str, Any], Path]:
    out = Path(tempfile.mkdtemp(prefix="kse-synth-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    return packaging.synthesize_provider(out)


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(path.read_text())
    return template


@functools.cache
def build_per_region_template() -> Path:
    """The StackSets variant (`make package BUCKET_PREFIX=my-org-code`), from the same synthesis."""
    template, _ = build_synthesized()
    (code_zip,) = build_dist().glob("*.zip")
    code = packaging.CodeLocation(key=code_zip.name, bucket="my-org-code", region_suffix=True)
    out = Path(tempfile.mkdtemp(prefix="kse-per-region-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    path = out / packaging.TEMPLATE_NAME
    path.write_text(packaging.to_yaml(packaging.parameterize(template, code=code)))
    return path
