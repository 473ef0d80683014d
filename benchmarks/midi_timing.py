"""MIDI timing of the bridge: note-out error against the audio clock, clock-out jitter, and
CC -> parameter latency.

1. **Note-out timing error**: for every note-on/off the daemon sends, the difference between
   the moment it was handed to the port and the moment the audio clock reached the note's
   output sample (p50/p99/max of the absolute error). Target p99 <= 2 ms.
2. **Clock-out jitter**: intervals between the 24-ppqn clock messages at a constant tempo,
   against the ideal ``60 / bpm / 24`` (mean, standard deviation, p99 deviation).
3. **CC -> parameter latency**: a CC message sent on the controller port until the render
   thread executed the resulting glide (p50/p99 over 300 moves, 20 ms apart).

By default the ports are an in-process mido backend (``tests.midi_loopback``), so the figures
are the bridge's own; ``--jack`` uses real JACK MIDI ports (needs a running JACK server; JACK
delivers MIDI once per period, so received times there are quantised to the period). The
daemon runs with ``--no-audio`` (a null output clocked in real time like a sound card).

``--sync`` adds the DAW-sync figures, measured as a DAW meets them (the daemon as its own
process on a private JACK dummy server it starts, a separate JACK client stamping MIDI with
frame times; see ``benchmarks/_sync.py``):

4. **Clock-in alignment**: the DAW sends Start and clock at 90 and 150 BPM, and a Song
   Position Pointer (bar 5) + Continue at 120; our kicks against its beats. Target 10 ms.
5. **Grid after transitions**: notes and clock out through ten mixed transitions; rhythm
   hits sharing a frame with their clock tick (none may be off the clock).
6. **Link phase error**: a ``--link`` daemon's heard beats against a Link peer's bar phase
   (needs the [link] extra).

Run from the repo root: ``python benchmarks/midi_timing.py [--seconds 20] [--jack] [--sync]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

import mido

from bridge.daemon import BridgeDaemon
from bridge.midi_options import MidiOptions
from bridge.performance import Glide
from latentscore.config import MusicConfig
from tests import midi_loopback
from tests.bridge_util import make_options

CTL, RX = "Bench Ctl", "Bench Rx"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def open_ports(jack: bool, received: list[tuple[float, mido.Message]]) -> tuple[Any, Any, Any]:
    """(backend, controller output, receiver input) on JACK or the in-process loopback."""
    if jack:
        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
        ctl = backend.open_output(CTL, virtual=True)
        rx = backend.open_input(
            RX, virtual=True, callback=lambda m: received.append((time.monotonic(), m))
        )
        return backend, ctl, rx
    midi_loopback.reset()
    midi_loopback.add_device(CTL)
    midi_loopback.add_device(RX)
    backend = mido.Backend("tests.midi_loopback")
    rx = backend.open_input(RX, callback=lambda m: received.append((time.monotonic(), m)))
    return backend, backend.open_output(CTL), rx


def cc_latency(daemon: BridgeDaemon, ctl: Any, n: int = 300) -> list[float]:
    out = []
    for i in range(n):
        sent = time.monotonic()
        ctl.send(mido.Message("control_change", control=30, value=(i * 37) % 128))
        deadline = sent + 2.0
        while time.monotonic() < deadline:
            executed = list(daemon.performance.executed)  # a bounded deque: match by time
            hit = next((at for at, op in executed if at >= sent and isinstance(op, Glide)), None)
            if hit is not None:
                out.append((hit - sent) * 1000)
                break
            time.sleep(0.0002)
        time.sleep(0.02)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="note/clock run length")
    parser.add_argument("--jack", action="store_true", help="real JACK MIDI ports")
    parser.add_argument(
        "--sync", action="store_true", help="also clock-in, grid and Link figures (JACK)"
    )
    args = parser.parse_args()
    received: list[tuple[float, mido.Message]] = []
    backend, ctl, rx = open_ports(args.jack, received)
    tmp = Path(tempfile.mkdtemp())
    (tmp / "map.toml").write_text('[[control]]\nparam = "space"\ncc = 30\ntakeover = "jump"\n')
    midi = MidiOptions(
        midi_in=CTL,
        midi_out=RX,
        clock="out",
        backend=backend,
        map=str(tmp / "map.toml"),
        learn_file=tmp / "user.toml",
    )
    config = MusicConfig(tempo="fast", rhythm="electronic", melody="arp_melody", density=6)
    daemon = BridgeDaemon(make_options(oscquery_port=None, seed=11, config=config, midi=midi))
    assert daemon.midi is not None
    daemon.start()
    sender = daemon.midi.sender_thread
    assert sender is not None
    sender.record_errors = True
    print(f"MIDI timing ({'JACK' if args.jack else 'in-process'} ports, {args.seconds:g} s)")
    time.sleep(args.seconds)
    bpm = daemon.performance.performer.params.bpm
    errors = [abs(e) * 1000 for e in sender.errors]
    ticks = [t for t, m in received if m.type == "clock"]
    latencies = cc_latency(daemon, ctl)
    daemon.stop()
    notes = sum(1 for _, m in received if m.type == "note_on")
    print(
        f"  note/clock out vs audio clock: p50 {percentile(errors, 50):.3f} ms, "
        f"p99 {percentile(errors, 99):.3f} ms, max {max(errors):.3f} ms over "
        f"{len(errors)} messages ({notes} notes)  [target p99 <= 2 ms]"
    )
    ideal = 60.0 / bpm / 24 * 1000
    intervals = [(b - a) * 1000 for a, b in itertools.pairwise(ticks)][24:]
    deviation = [abs(i - ideal) for i in intervals]
    print(
        f"  clock out at {bpm:.1f} BPM: ideal {ideal:.3f} ms, mean {statistics.mean(intervals):.3f}"
        f" ms, jitter sd {statistics.pstdev(intervals):.3f} ms, p99 deviation "
        f"{percentile(deviation, 99):.3f} ms over {len(intervals)} ticks"
    )
    print(
        f"  CC -> parameter applied: p50 {percentile(latencies, 50):.3f} ms, "
        f"p99 {percentile(latencies, 99):.3f} ms over {len(latencies)} moves"
    )
    for port in (ctl, rx):
        port.close()
    if args.sync:
        sync_figures()


def sync_figures() -> None:
    """Sections 4-6 of the module docstring, on a private JACK server."""
    from benchmarks import _sync
    from benchmarks._jack import JackServer

    print("DAW sync (latentscore bridge on a private JACK dummy server, 256-frame periods)")
    with JackServer() as server:
        for bpm in (90.0, 150.0):
            result = _sync.clock_in(server, bpm)
            print(f"  clock in at {bpm:g} BPM, kicks vs DAW beats: {result.describe()}  [10 ms]")
        result = _sync.clock_in(server, 120.0, 12, spp_beat=16)
        first = next((b for b in result.beats_heard if b >= 15), None)
        print(
            f"  clock in from a Song Position Pointer (beat 16): first beat heard {first}, "
            f"kicks {result.describe()}"
        )
        grid = _sync.grid_after_transitions(server)
        print(f"  grid after transitions: {grid.describe()}")
    from bridge.link_sync import LinkUnavailable

    try:
        errors = _sync.link_phase()
    except LinkUnavailable:
        print("  Link: skipped (pip install 'latentscore[link]')")
        return
    worst = max(abs(e) for e in errors) if errors else float("nan")
    print(
        f"  Link bar phase vs a peer at 120 BPM: median {statistics.median(errors):+.3f} beat, "
        f"worst {worst:.3f} beat ({worst * 500:.1f} ms) over {len(errors)} beats"
    )


if __name__ == "__main__":
    main()
