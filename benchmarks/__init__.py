"""Benchmarks against the alternatives (``make bench`` runs ``benchmarks/run.py``).

Importing the package puts what the benchmarks import on ``sys.path``, as pytest's ``pythonpath``
does for the tests: ``lambda_src`` (``stream_encryption``, ``handler``), ``cdk``
(``kinesis_stream_encryption``) and the repository root (``devsupport``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

for _entry in (ROOT, ROOT / "cdk", ROOT / "lambda_src"):
    if str(_entry) not in sys.path:
        sys.path.insert(0, str(_entry))
