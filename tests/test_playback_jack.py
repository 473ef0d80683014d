"""Audio.play() through a real PortAudio -> JACK output (the dummy driver clocks it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.jack import jack_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.jack

PLAY = """
import time, latentscore as ls
audio = ls.render(ls.presets.load("deep_space"), duration=1.5, seed=3)
start = time.monotonic()
audio.play()
print(f"elapsed {time.monotonic() - start:.3f}")
"""


@pytest.mark.usefixtures("jack_server")
def test_play_runs_in_real_time_on_jack() -> None:
    # a fresh interpreter: PortAudio enumerates JACK only if the server exists at import time
    done = subprocess.run(
        [sys.executable, "-c", PLAY], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    elapsed = float(done.stdout.split()[-1])
    # it really went through the device clock: 1.5 s of audio takes about 1.5 s to play
    assert 1.3 <= elapsed <= 4.0, elapsed
