"""The beat grid held through transitions, heard as a DAW hears it: MIDI over real JACK ports.

``latentscore bridge`` runs as its own process on a private JACK server with notes and
clock out on a virtual JACK MIDI port (robotic timing, a rhythm layer). A separate JACK
client records that port with frame times while ten mixed transitions arrive over OSC:
rhythm and pad styles, reseeds, tempo changes, a partial config, stop and play. Every
rhythm note-on must land on a MIDI clock tick: a note and its tick leave together, so they
share a JACK frame (rtmidi writes at period starts, so a rare pair straddles a period; none
may be further off than two periods, where the old grid slipped by up to half a beat), and
play after stop must resume with a Song Position Pointer and Continue. The ±1 ms
audio-sample check of every onset against its tick is ``tests/test_beat_grid.py``.

Must run (not skip) with CI=true: the JACK fixture fails instead.
"""

from __future__ import annotations

import pytest

from benchmarks._jack import JackServer
from benchmarks._sync import grid_after_transitions
from tests.jack import jack_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.jack


def test_rhythm_stays_on_the_clock_through_transitions(
    jack_server: JackServer,  # noqa: F811
) -> None:
    grid = grid_after_transitions(jack_server)
    print(f"beat grid over JACK MIDI: {grid.describe()}")
    assert grid.ticks > 500 and grid.hits > 60, (grid.ticks, grid.hits)
    assert not grid.far, f"{len(grid.far)} of {grid.hits} rhythm hits off the clock: {grid.far[:5]}"
    assert grid.exact >= 0.85 * grid.hits, f"only {grid.exact} of {grid.hits} on a tick's frame"
    kinds = grid.kinds
    assert 0xFC in kinds and 0xF2 in kinds and 0xFB in kinds  # Stop, Song Position, Continue
    assert kinds.index(0xF2, kinds.index(0xFC)) < kinds.index(0xFB, kinds.index(0xFC))
