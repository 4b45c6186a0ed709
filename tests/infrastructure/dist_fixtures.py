"""`make package` output for the tests, built once per test process.

Several modules need it (package, cfn-lint, moto deploy); cached builders (not fixtures, which
pytest would build once per importing module) make each pytest-xdist worker pay for one
synthesis.
"""

from __future__ import annotations

import atexit
import datetime
import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from kinesis_stream_encryption.provider import powertools_layer_parameter_name
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


def seed_layer_parameter(account: str, region: str) -> None:
    """What AWS publishes in every account and region: the Powertools layer ARN under
    /aws/service/... moto refuses /aws/ names through its API, so it goes into the in-process
    backend directly."""
    from moto.ssm.models import Parameter, ssm_backends

    name = powertools_layer_parameter_name()
    layer = "layer:AWSLambdaPowertoolsPythonV3-python314-arm64:20"
    ssm_backends[account][region]._parameters[name].append(
        Parameter(
            account_id=account,
            name=name,
            value=f"arn:aws:lambda:{region}:017000801446:{layer}",
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=datetime.datetime.now(datetime.UTC),
            version=1,
            data_type="text",
        )
    )
