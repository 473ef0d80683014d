"""Start ``latentscore bridge`` as its own process, as a user would, and wait until it serves.

Used by the black-box tests that signal, record or sync the daemon from outside (JACK, Link).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
LATENTSCORE = ROOT / ".venv" / "bin" / "latentscore"


def start_bridge(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stderr: int | IO[str] = subprocess.PIPE,
    timeout: float = 60.0,
) -> subprocess.Popen[str]:
    """Run ``latentscore bridge ARGS``; return once it printed its summary (ends "Ctrl-C ...")."""
    exe = str(LATENTSCORE) if LATENTSCORE.exists() else "latentscore"
    proc = subprocess.Popen(
        [exe, "bridge", *args], cwd=ROOT, env=None if env is None else dict(env),
        stdout=subprocess.PIPE, stderr=stderr, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if "Ctrl-C" in line:
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    detail = proc.stderr.read() if proc.stderr is not None and stderr == subprocess.PIPE else ""
    raise AssertionError(f"the daemon did not start: {detail[-2000:]}")
