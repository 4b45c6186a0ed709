"""The construct finds its Lambda code both in the repository and in an installed wheel."""

from __future__ import annotations

import importlib.util
import shutil
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
