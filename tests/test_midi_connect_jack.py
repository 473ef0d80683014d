"""A DAW that connects late joins on our grid: programs, Song Position Pointer and Continue.

``latentscore bridge`` plays notes and clock on its virtual JACK MIDI port for a few seconds
with nobody listening; then a separate JACK client (the DAW) connects and records with frame
times. It must receive every layer's program change, then a Song Position Pointer and
Continue, and the clock that follows must put every rhythm hit on a sixteenth of the song
position the pointer started it at (so the DAW's bars are ours).

Must run (not skip) with CI=true: the JACK fixture fails instead.
"""

from __future__ import annotations

import bisect
import json
import subprocess
import time
from pathlib import Path

import pytest

from benchmarks._jack import JackServer, Recorder
from latentscore.midi_layout import LAYER_MIDI
from tests.cli_daemon import start_bridge
from tests.jack import jack_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.jack


def _start(server: JackServer, config: Path) -> subprocess.Popen[str]:
    args = [
        "--no-zeroconf", "--no-oscquery", "--osc-port", "0", "--seed", "4",
        "--config", str(config), "--midi-api", "jack", "--midi-out", "virtual",
        "--clock", "out",
    ]  # fmt: skip
    return start_bridge(args, env=server.env())


def test_a_late_connection_gets_programs_and_joins_on_our_song_position(
    jack_server: JackServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = tmp_path / "kit.json"
    config.write_text(json.dumps({"rhythm": "electronic", "human": "robotic", "density": 5}))
    proc = _start(jack_server, config)
    try:
        with Recorder(jack_server, name="late-daw", midi_in=True, max_midi_events=20000) as rec:
            out = rec.output_ports(midi=True, pattern="LatentScore")
            assert out, "the daemon's MIDI output port is missing"
            time.sleep(3.0)  # playing with nobody connected
            rec.connect_midi_in(out[0])
            time.sleep(4.0)
            events = rec.midi_events()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    kinds = [d[0] for _, d in events]
    programs = {d[0] & 0x0F: d[1] for _, d in events if d[0] & 0xF0 == 0xC0}
    expected = {m.channel_index: m.program for m in LAYER_MIDI.values() if m.program is not None}
    assert programs == expected, f"programs after connecting: {programs}"
    assert 0xF2 in kinds and 0xFB in kinds, "no Song Position Pointer and Continue"
    spp_at = kinds.index(0xF2)
    assert kinds.index(0xFB) > spp_at
    spp = events[spp_at][1]
    sixteenths = spp[1] | (spp[2] << 7)
    assert sixteenths > 3 * 4, f"song position {sixteenths}: not mid-song after 3 s of playing"

    continue_frame = events[kinds.index(0xFB)][0]
    ticks = [f for f, d in events if d[0] == 0xF8 and f >= continue_frame]
    hits = [f for f, d in events if d[0] == 0x99 and d[2] > 0 and f >= continue_frame]
    assert len(ticks) > 100 and len(hits) > 10, (len(ticks), len(hits))
    off_grid = []
    for frame in hits:  # the tick sharing the hit's frame gives the DAW's song position
        i = bisect.bisect_left(ticks, frame)
        near = [j for j in (i - 1, i) if 0 <= j < len(ticks)]
        j = min(near, key=lambda k: abs(ticks[k] - frame))
        if abs(ticks[j] - frame) > 2 * rec.period:
            off_grid.append((frame, "no tick near"))
            continue
        position = sixteenths * 6 + j  # in clocks: the first clock after Continue is SPP*6
        if position % 6:
            off_grid.append((frame, position))
    print(
        f"late connection: SPP {sixteenths} sixteenths, {len(hits)} hits, "
        f"{len(off_grid)} off the sixteenth grid"
    )
    assert len(off_grid) <= len(hits) // 10, off_grid[:5]
