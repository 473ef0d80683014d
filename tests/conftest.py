"""Shared pytest setup: make the repo root importable so tests can use ``benchmarks._common``;
the OSC ``client`` fixture of modules that run a ``daemon`` fixture.

The synth quality tests and ``benchmarks/synth_quality.py`` share one set of experiment
helpers (base configs, render-and-measure loops); plain ``pytest`` does not put the repo root
on ``sys.path`` (``python -m pytest`` does), so it is added here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from bridge.daemon import BridgeDaemon  # noqa: E402  (after the path is set)
from tests.bridge_util import OscClient  # noqa: E402


@pytest.fixture
def client(daemon: BridgeDaemon) -> Iterator[OscClient]:
    """A UDP OSC client of the module's ``daemon`` fixture (modules that define one)."""
    c = OscClient(daemon.osc_port)
    yield c
    c.close()
