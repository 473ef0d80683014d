"""The bridge daemon playing through PortAudio -> JACK (dummy driver) while steered over OSC.

A fresh interpreter runs the daemon on JACK's output device (PortAudio sees JACK only if the
server exists when it is loaded) and an OSC client sends a change every 0.4 s for 8 s:
fader floats (glides), labels, Steps, configs (crossfades), volume, stop/play and a vibe.
The device clock is JACK's, so this shows the render worker keeps up while being steered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.jack import jack_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.jack
ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, time
import sounddevice as sd
from latentscore.player import SoundDeviceOutput
from bridge.daemon import BridgeDaemon
from tests.bridge_util import FakeVibeModel, OscClient, make_options

jack = [a for a in sd.query_hostapis() if "JACK" in a["name"]]
assert jack, [a["name"] for a in sd.query_hostapis()]
device = jack[0]["default_output_device"]
backend = SoundDeviceOutput()
# 25 ms ahead: this process also runs the test's OSC client and collector threads (the
# daemon alone, at its default 12 ms, is measured by benchmarks/soak.py)
daemon = BridgeDaemon(make_options(backend=backend, device=device, oscquery_port=None,
                                   seed=5, transition=0.6, model=FakeVibeModel(),
                                   latency_ms=25.0)).start()
client = OscClient(daemon.osc_port)
client.send("/latentscore/subscribe")
P = "/latentscore"
moves = [
    (P + "/brightness", 0.2), (P + "/brightness", 0.8), (P + "/space", "vast"),
    (P + "/step/tempo", 1), (P + "/config", '{"bass": "walking", "rhythm": "soft_four"}'),
    (P + "/echo", 0.7), (P + "/volume", 0.5), (P + "/label/density", 6), (P + "/stop", 1),
    (P + "/play", 1), (P + "/vibe", "dark rain"), (P + "/mode", "dorian"),
    (P + "/motion", 0.9), (P + "/config", '{"pad": "cinematic", "tempo": {"step": -2}}'),
    (P + "/volume", 0.9), (P + "/step/brightness", -1), (P + "/seed", 99),
    (P + "/human", 0.1), (P + "/texture", "stars"), (P + "/grain", "warm"),
]
start = time.monotonic()
for i, (address, value) in enumerate(moves):
    client.send(address, value)
    time.sleep(max(0.0, start + 0.4 * (i + 1) - time.monotonic()))  # pacing, 2.5 changes/s
levels, beats = len(client.messages(P + "/level")), len(client.messages(P + "/beat"))
state = client.state()
daemon.stop()
elapsed = time.monotonic() - start
stats = daemon.performance.stats
print(json.dumps(dict(
    underruns=stats.underruns, xruns=backend.device_xruns, played=stats.played_samples,
    elapsed=elapsed, rejected=daemon.controller.rejected,
    levels=levels, beats=beats,
    state={k: list(v) for k, v in state.items()},
)))
client.close()
"""


@pytest.mark.usefixtures("jack_server")
def test_daemon_plays_on_jack_while_steered_over_osc() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"bridge on JACK: {result['elapsed']:.1f} s, underruns={result['underruns']}, "
        f"device xruns={result['xruns']}, levels={result['levels']}, beats={result['beats']}"
    )
    assert result["underruns"] <= 1, result
    assert result["rejected"] == 0
    # the JACK clock drove the output in real time for the whole run
    assert result["played"] / 44100 == pytest.approx(result["elapsed"], abs=1.5)
    assert result["levels"] > 100 and result["beats"] >= 4  # sent as the audio was heard
    state = result["state"]
    P = "/latentscore"
    assert state[P + "/title"] == ["Night Cellar"]  # the vibe, then the later changes
    assert state[P + "/mode"] == ["dorian"]
    assert state[P + "/pad"] == ["cinematic"]
    assert state[P + "/texture"] == ["stars"]
    assert state[P + "/label/grain"] == ["warm"]
    assert state[P + "/seed"] == [99]
    assert state[P + "/volume"] == [pytest.approx(0.9)]
    assert state[P + "/playing"] == [1]
    assert state[P + "/human"] == [pytest.approx(0.1)]
