"""Every Python example in the README runs as written.

Why: a newcomer copies these first; a top-level ``await``, a missing import or an endless
loop in one is the first thing they meet. Each ```python block is run unchanged in a fresh
interpreter in an empty folder. What the harness provides, as a newcomer's machine would:
an audio output (the clock-free :class:`~latentscore.audio_device.NullOutput`, so ``play()``
does not take real time and needs no sound card) and no network (so the external-model
example takes its documented fallback to the fast model). The expressive example needs
local weights and is skipped without them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

_HARNESS = """
import socket
def _refuse(*args, **kwargs):
    raise OSError("network blocked by test_readme_snippets")
socket.socket.connect = lambda self, address: _refuse()
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
import latentscore.player
from latentscore.audio_device import NullOutput
latentscore.player.SoundDeviceOutput = lambda: NullOutput(realtime=False)
"""


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.M | re.S):
        blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 7


@pytest.mark.slow
@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"line{n}" for n, _ in BLOCKS])
def test_readme_example_runs_as_written(line: int, code: str, tmp_path: Path) -> None:
    if 'model="expressive"' in code:
        from latentscore.models import expressive

        if not expressive.has_weights(expressive.default_model_dir()):
            pytest.skip("no expressive weights here (latentscore download expressive)")
    script = tmp_path / "harness.py"
    script.write_text(
        _HARNESS + f"\nexec(compile(open({str(tmp_path / 'example.py')!r}).read(), "
        f"'README.md:{line}', 'exec'))\n",
        encoding="utf-8",
    )
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, f"README.md:{line} failed:\n{done.stderr[-3000:]}"
