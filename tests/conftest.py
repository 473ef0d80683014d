"""Shared pytest setup: make the repo root importable so tests can use ``benchmarks._common``.

The synth quality tests and ``benchmarks/synth_quality.py`` share one set of experiment
helpers (base configs, render-and-measure loops); plain ``pytest`` does not put the repo root
on ``sys.path`` (``python -m pytest`` does), so it is added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
