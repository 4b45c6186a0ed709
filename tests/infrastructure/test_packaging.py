"""The construct finds its Lambda code both in the repository and in an installed wheel."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import aws_cdk as cdk
import pytest

from kinesis_stream_encryption import ASSET_EXCLUDE, lambda_code_dir

from .conftest import REPO

pytestmark = pytest.mark.infra


def test_lambda_code_dir_in_the_repository() -> None:
    assert lambda_code_dir() == (REPO / "lambda_src").resolve()


def test_lambda_code_dir_in_a_wheel_layout(tmp_path: Path) -> None:
    """The wheel force-includes lambda_src as kinesis_stream_encryption/lambda_src."""
    package = tmp_path / "site-packages" / "kinesis_stream_encryption"
    package.mkdir(parents=True)
    shutil.copy(REPO / "cdk" / "kinesis_stream_encryption" / "provider.py", package)
    (package / "lambda_src").mkdir()
    spec = importlib.util.spec_from_file_location("wheel_layout_provider", package / "provider.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.lambda_code_dir() == (package / "lambda_src").resolve()


def test_missing_lambda_code_is_a_clear_error(tmp_path: Path) -> None:
    package = tmp_path / "kinesis_stream_encryption"
    package.mkdir()
    shutil.copy(REPO / "cdk" / "kinesis_stream_encryption" / "provider.py", package)
    spec = importlib.util.spec_from_file_location("orphan_provider", package / "provider.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(FileNotFoundError, match="Lambda source directory not found"):
        module.lambda_code_dir()


def test_asset_excludes_bytecode_caches(tmp_path: Path) -> None:
    """Same copy rules Code.from_asset applies (CDK's glob excludes), on a tree with caches."""
    source = tmp_path / "src"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "__pycache__").mkdir()
    (source / "handler.py").write_text("def lambda_handler(event, context): ...\n")
    (source / "pkg" / "mod.py").write_text("")
    (source / "pkg" / "__pycache__" / "mod.cpython-314.pyc").write_bytes(b"")
    (source / "__pycache__" / "handler.cpython-314.pyc").write_bytes(b"")
    (source / "stray.pyc").write_bytes(b"")
    staged = tmp_path / "staged"
    staged.mkdir()
    cdk.FileSystem.copy_directory(
        str(source), str(staged), cdk.CopyOptions(exclude=list(ASSET_EXCLUDE))
    )
    files = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
    assert files == ["handler.py", "pkg/mod.py"]


SYNTH_WITH_INSTALLED_WHEEL = """
import json, pathlib, sys
import aws_cdk as cdk
from aws_cdk import aws_kinesis as kinesis
import kinesis_stream_encryption
from kinesis_stream_encryption import KinesisStreamEncryption

out = pathlib.Path(sys.argv[1])
app = cdk.App(outdir=str(out))
stack = cdk.Stack(app, "WheelStack")
stream = kinesis.Stream.from_stream_arn(
    stack, "Orders", "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
)
KinesisStreamEncryption(stack, "Encryption", stream=stream)
app.synth()
print(json.dumps({"package": kinesis_stream_encryption.__file__}))
"""


def test_wheel_installed_in_a_fresh_venv_synthesizes_with_the_lambda_asset(
    tmp_path: Path,
) -> None:
    """pip-installing the wheel is all a user needs: the Lambda code travels inside it."""
    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    dist, venv, out = tmp_path / "dist", tmp_path / "venv", tmp_path / "cdk.out"
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    run = partial(subprocess.run, check=True, capture_output=True, text=True, env=env)
    run([uv, "build", "--wheel", "--out-dir", str(dist), str(REPO)])
    (wheel,) = dist.glob("*.whl")
    run([uv, "venv", "--python", sys.executable, str(venv)])
    run([uv, "pip", "install", "--python", str(venv / "bin" / "python"), str(wheel)])
    done = run(
        [str(venv / "bin" / "python"), "-c", SYNTH_WITH_INSTALLED_WHEEL, str(out)],
        cwd=tmp_path,  # not the repository: only the installed wheel can be imported
    )
    package = Path(json.loads(done.stdout.strip().splitlines()[-1])["package"])
    assert venv in package.parents, "the construct was imported from the wheel, not the repo"
    template = json.loads((out / "WheelStack.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 1
    code_key = functions[0]["Properties"]["Code"]["S3Key"]
    manifest = json.loads((out / "WheelStack.assets.json").read_text())
    (source,) = [
        entry["source"]
        for entry in manifest["files"].values()
        if any(d["objectKey"] == code_key for d in entry["destinations"].values())
    ]
    asset = out / source["path"]
    assert (asset / "handler.py").is_file()
    assert (asset / "stream_encryption" / "logic" / "reconcile.py").is_file()  # subpackages too
    assert not list(asset.rglob("__pycache__"))
