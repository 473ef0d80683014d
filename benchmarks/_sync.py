"""Sync measurements over real JACK MIDI, shared by the tests and ``benchmarks/midi_timing.py``.

Each function runs ``latentscore bridge`` as its own process on a given private JACK server
and measures it as a DAW would, with a separate JACK client stamping MIDI with frame times:

* :func:`clock_in`: the client is the DAW sending Start (or a Song Position Pointer and
  Continue) and 24 ppqn clock at exact frames; the daemon's kicks come back and are compared
  with the DAW's beats.
* :func:`grid_after_transitions`: the daemon sends notes and clock; ten mixed transitions
  arrive over OSC; every rhythm note-on must share a frame with a clock tick.

They return raw figures; tests assert bounds, the benchmark prints them.
"""

from __future__ import annotations

import bisect
import json
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks._jack import JackServer, Recorder
from bridge.osc_codec import OscMessage, decode_packet, encode_message
from tests.cli_daemon import start_bridge

P = "/latentscore"

TRANSITIONS: list[tuple[str, tuple[object, ...]]] = [
    (f"{P}/rhythm", ("soft_four",)),
    (f"{P}/seed", (5,)),
    (f"{P}/tempo", ("fast",)),
    (f"{P}/config", (json.dumps({"rhythm": "minimal", "pad": "cinematic"}),)),
    (f"{P}/stop", ()),
    (f"{P}/play", ()),
    (f"{P}/tempo", ("slow",)),
    (f"{P}/seed", (9,)),
    (f"{P}/rhythm", ("electronic",)),
    (f"{P}/mode", ("major",)),
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _config_file(values: dict[str, object]) -> Path:
    path = Path(tempfile.mkdtemp(prefix="ls-sync-")) / "config.json"
    path.write_text(json.dumps(values))
    return path


@dataclass
class ClockIn:
    """Kicks against the DAW's beats (ms, + late), from the third beat; beats heard (OSC)."""

    bpm: float
    errors_ms: list[float]
    beats_heard: list[int]
    period_ms: float

    @property
    def median_ms(self) -> float:
        return statistics.median(self.errors_ms)

    @property
    def worst_ms(self) -> float:
        return max(abs(e) for e in self.errors_ms)

    def describe(self) -> str:
        return (
            f"median {self.median_ms:+.1f} ms, worst {self.worst_ms:.1f} ms over "
            f"{len(self.errors_ms)} beats"
        )


def clock_in(
    server: JackServer, bpm: float, beats: int = 16, spp_beat: int | None = None
) -> ClockIn:
    """The DAW starts (``spp_beat``: locates there and continues) and clocks at ``bpm``."""
    config = _config_file({"rhythm": "soft_four", "human": "robotic", "tempo": "slow"})
    osc_port = free_port()
    with Recorder(server, name="sync-daw", midi_in=True, midi_out=True) as daw:
        args = [
            "--no-zeroconf", "--no-oscquery", "--osc-port", str(osc_port), "--seed", "2",
            "--config", str(config), "--midi-api", "jack", "--midi-in", daw.midi_out_port,
            "--midi-out", daw.midi_in_port, "--clock", "in",
        ]  # fmt: skip
        proc = start_bridge(args, env=server.env())
        listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(0.05)
        try:
            listener.sendto(encode_message(f"{P}/subscribe", ()), ("127.0.0.1", osc_port))
            daw.send_midi([0xFC]).wait()  # Stop: the DAW is at rest
            if spp_beat is not None:  # locate while stopped
                daw.send_midi([0xF2, (spp_beat * 4) & 0x7F, (spp_beat * 4) >> 7]).wait()
            time.sleep(1.0)
            rate = daw.rate
            per_tick = 60.0 / bpm / 24 * rate
            start = daw.now_frame() + rate // 2
            go = 0xFA if spp_beat is None else 0xFB  # Start, or Continue from the pointer
            daw.send_midi([go], at=start - round(0.001 * rate))
            sends = [
                daw.send_midi([0xF8], at=start + round(k * per_tick)) for k in range(beats * 24)
            ]
            heard: list[int] = []
            deadline = time.monotonic() + beats * 60.0 / bpm + 10.0
            while not sends[-1].done.is_set() and time.monotonic() < deadline:
                try:
                    message = decode_packet(listener.recv(65536))
                except TimeoutError:
                    continue
                if isinstance(message, OscMessage) and message.address == f"{P}/beat":
                    heard.append(int(message.args[0]))  # type: ignore[arg-type]
            time.sleep(0.3)
            events = daw.midi_events()
        finally:
            listener.close()
            stop(proc)
    spb = 60.0 / bpm * rate
    kicks = [f for f, d in events if d[0] == 0x99 and d[1] == 36 and d[2] > 0 and f >= start]
    errors = []
    for frame in kicks:
        beat = (frame - start) / spb
        if 3 <= round(beat) < beats:
            errors.append((frame - (start + round(beat) * spb)) / rate * 1000.0)
    return ClockIn(bpm, errors, heard, daw.period / rate * 1000.0)


@dataclass
class Grid:
    """Rhythm note-ons against the clock ticks they belong to, after transitions."""

    hits: int
    ticks: int
    exact: int  # hits sharing a frame (within 1 ms) with a tick
    far: list[tuple[int, int]]  # (frame, distance) of hits more than two periods off
    kinds: list[int]  # status bytes of every event, in order (transport checks)

    def describe(self) -> str:
        return (
            f"{self.exact} of {self.hits} rhythm hits on a tick's frame, {len(self.far)} off "
            f"the clock, over {self.ticks} ticks and {len(TRANSITIONS)} transitions"
        )


def grid_after_transitions(server: JackServer, pause: float = 2.5) -> Grid:
    """Notes and clock out while :data:`TRANSITIONS` arrive over OSC, ``pause`` s apart."""
    config = _config_file(
        {"rhythm": "electronic", "human": "robotic", "tempo": "medium", "density": 5}
    )
    osc_port = free_port()
    args = [
        "--no-zeroconf", "--no-oscquery", "--osc-port", str(osc_port), "--seed", "3",
        "--config", str(config), "--midi-api", "jack", "--midi-out", "virtual",
        "--clock", "out", "--transition", "1.0",
    ]  # fmt: skip
    proc = start_bridge(args, env=server.env())
    try:
        with Recorder(server, name="grid-rx", midi_in=True, max_midi_events=20000) as rec:
            out = rec.output_ports(midi=True, pattern="LatentScore")
            if not out:
                raise RuntimeError("the daemon's MIDI output port is missing")
            rec.connect_midi_in(out[0])
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            time.sleep(3.0)
            for address, values in TRANSITIONS:
                sock.sendto(encode_message(address, values), ("127.0.0.1", osc_port))  # type: ignore[arg-type]
                time.sleep(pause)
            sock.close()
            events = rec.midi_events()
            rate, period = rec.rate, rec.period
    finally:
        stop(proc)
    ticks = [f for f, d in events if d[0] == 0xF8]
    hits = [f for f, d in events if d[0] == 0x99 and d[2] > 0]
    # python-rtmidi's JACK backend writes each message at the start of the next period, so
    # frames come in whole periods: a hit and its tick sent together share a frame unless a
    # period boundary (or, on a loaded machine, a thread switch) falls between the two sends
    exact, far = 0, []
    for frame in hits:
        i = bisect.bisect_left(ticks, frame)
        near = min(abs(frame - ticks[j]) for j in (i - 1, i) if 0 <= j < len(ticks))
        exact += near <= round(0.001 * rate)
        if near > 2 * period:
            far.append((frame, near))
    return Grid(len(hits), len(ticks), exact, far, [d[0] for _, d in events])


def link_phase(seconds: float = 6.0, bpm: float = 120.0) -> list[float]:
    """Bar-phase errors (beats) of a ``--link`` daemon's heard beats against a Link peer.

    The peer is this process (aalink); every ``/beat`` message's arrival is compared with
    the peer's own beat at that moment, modulo the 4-beat quantum. Needs the [link] extra.
    """
    from bridge.link_sync import LinkSession
    from tests.bridge_util import OscClient, wait_for

    peer = LinkSession(bpm)
    peer.link.quantum = 4
    peer.link.enabled = True
    osc_port = free_port()
    args = [
        "--no-audio", "--no-zeroconf", "--no-oscquery", "--link",
        "--osc-port", str(osc_port), "--seed", "1", "--preset", "deep_space",
        "--transition", "0.5",
    ]  # fmt: skip
    proc = start_bridge(args, env=None)
    client = OscClient(osc_port)
    try:
        client.send(f"{P}/subscribe")
        wait_for(lambda: peer.link.num_peers >= 1, 20.0, "the daemon in the session")
        time.sleep(6.0)  # follow the tempo, then realign the phase
        client.clear()
        time.sleep(seconds)
        link = peer.link
        link_beat, now, tempo = float(link.beat), time.monotonic(), float(link.tempo)
        with client._lock:
            beats = [(t, m.args[0]) for t, m in client.received if m.address == f"{P}/beat"]
    finally:
        client.close()
        stop(proc)
        peer.close()
    errors = []
    for t, k in beats:
        at = link_beat - (now - t) * tempo / 60.0  # the peer's beat when the message came
        errors.append((at - float(k) + 2.0) % 4.0 - 2.0)  # type: ignore[arg-type]
    return errors
