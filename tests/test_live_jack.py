"""30 s of dx.live() playback through PortAudio -> JACK (dummy driver) with zero underruns.

The generator changes config (crossfade: presets and vibe texts for the fast model) and
Steps (glide) every 2 s, as a game or an installation would. The text model loads and
answers in the feed thread while audio plays. The dummy driver clocks the device in real
time, so this also checks that the render-ahead worker keeps up while the generator is
consumed in step with time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.jack import jack_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.jack

SECONDS = 30
ITEM = 2.0

PLAY = f"""
import json, time
from latentscore import MusicConfigUpdate, Step, dx, presets
from latentscore.items import Streamable

NAMES = ["deep_space", "lofi_study", "midnight_jazz", "morning_mist"]
VIBES = ["rain on a neon street at night", "warm sunset over calm water",
         "frantic chase, 132 bpm", "glacial arctic silence, no drums"]
yields = []

def scenes():
    for i in range({round(SECONDS / ITEM)}):
        yields.append(time.monotonic())
        if i % 4 == 0:
            item = presets.load(NAMES[(i // 4) % len(NAMES)])
        elif i % 4 == 2:
            item = VIBES[(i // 4) % len(VIBES)]
        else:
            sign = 1 if i % 4 == 1 else -1
            item = MusicConfigUpdate(brightness=Step(sign), space=Step(sign), tempo=Step(-sign))
        yield Streamable(item, duration={ITEM}, transition_duration=1.5)

stream = dx.live(scenes(), seed=5)
start = time.monotonic()
stats = stream.play()
elapsed = time.monotonic() - start
print(json.dumps(dict(
    elapsed=elapsed, underruns=stats.underruns, missing=stats.missing_samples,
    xruns=stats.device_xruns, played=stats.played_samples,
    cues=[[c.sample, c.cue.glide, c.late] for c in stream.cues],
    yields=[t - start for t in yields],
)))
"""


@pytest.mark.usefixtures("jack_server")
def test_live_generator_plays_30s_on_jack_without_underruns() -> None:
    # a fresh interpreter: PortAudio enumerates JACK only if the server exists at import time
    done = subprocess.run(
        [sys.executable, "-c", PLAY], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"JACK live playback: {result['elapsed']:.2f} s, underruns={result['underruns']}, "
        f"device xruns={result['xruns']}"
    )
    assert result["underruns"] == 0, result
    assert result["played"] == SECONDS * 44100
    assert SECONDS - 0.5 <= result["elapsed"] <= SECONDS + 3.0, result["elapsed"]
    cues = result["cues"]
    assert len(cues) == SECONDS / ITEM
    # every change landed on its exact boundary sample, glides for Steps, fades for configs
    # and vibes
    assert [c[0] for c in cues] == [round(i * ITEM * 44100) for i in range(len(cues))]
    assert [c[1] for c in cues[1:]] == [i % 2 == 1 for i in range(1, len(cues))]
    assert not any(c[2] for c in cues)
    # backpressure: item i was pulled about when item i-1 began playing, not all up front
    for i, t in enumerate(result["yields"][1:], start=1):
        assert t >= (i - 1) * ITEM - 1.0, (i, t)
