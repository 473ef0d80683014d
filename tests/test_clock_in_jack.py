"""Clock in over real JACK MIDI: our beats land on the DAW's, from its Start, at its tempo.

A JACK client plays the DAW: it sends MIDI Start and then clock at 90 BPM (and at 150, past
the tempo labels' range), each message at an exact JACK frame, to ``latentscore bridge
--clock in`` (running as its own process on a private JACK server, audio on JACK, at a slower
tempo of its own: the tempo changes at Start). The daemon's note stream comes back to the
same client, frame-stamped. From the third beat on (one beat of ticks measures the tempo,
then the bars are realigned), the kicks (GM 36, on each beat of ``soft_four``) must land on
the DAW's beats: the render-ahead and the time the tempo took to measure are compensated.
The bound is generous (40 ms; the old behaviour was 330-390 ms off, the target is 10 ms);
the measured offset is printed (``-s``). A Song Position Pointer start is checked too.

Must run (not skip) with CI=true: the JACK fixture fails instead.
"""

from __future__ import annotations

import json
import socket
import statistics
import time
from pathlib import Path

import pytest

from benchmarks._jack import JackServer, Recorder
from bridge.osc_codec import OscMessage, decode_packet, encode_message
from tests.cli_daemon import start_bridge
from tests.jack import jack_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.jack
ROOT = Path(__file__).resolve().parent.parent
BPM = 90.0
BEATS = 16


@pytest.mark.parametrize("bpm", [BPM, 150.0])  # 150: past the labels' 132, played exactly
def test_clock_in_beats_land_on_the_daws_beats(
    jack_server: JackServer,  # noqa: F811
    tmp_path: Path,
    bpm: float,
) -> None:
    config = tmp_path / "slow.json"
    config.write_text(json.dumps({"rhythm": "soft_four", "human": "robotic", "tempo": "slow"}))
    with Recorder(jack_server, name="daw", midi_in=True, midi_out=True) as daw:
        args = [
            "--no-zeroconf", "--no-oscquery", "--osc-port", "0", "--seed", "2",
            "--config", str(config), "--midi-api", "jack", "--midi-in", daw.midi_out_port,
            "--midi-out", daw.midi_in_port, "--clock", "in",
        ]  # fmt: skip
        proc = start_bridge(args, env=jack_server.env())
        try:
            daw.send_midi([0xFC]).wait()  # Stop: the DAW is at rest
            time.sleep(1.0)
            rate = daw.rate
            per_tick = 60.0 / bpm / 24 * rate
            start = daw.now_frame() + rate // 2
            daw.send_midi([0xFA], at=start - round(0.001 * rate))  # Start, then beat 0's tick
            sends = [
                daw.send_midi([0xF8], at=start + round(k * per_tick)) for k in range(BEATS * 24)
            ]
            sends[-1].wait(timeout=BEATS * 60.0 / bpm + 10.0)
            time.sleep(0.3)
            events = daw.midi_events()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    spb = 60.0 / bpm * rate
    kicks = [f for f, d in events if d[0] == 0x99 and d[1] == 36 and d[2] > 0 and f >= start]
    errors_ms = []
    for frame in kicks:
        beat = (frame - start) / spb
        if 3 <= round(beat) < BEATS:
            errors_ms.append((frame - (start + round(beat) * spb)) / rate * 1000.0)
    assert len(errors_ms) >= BEATS - 5, f"kicks on too few beats: {kicks}"
    period_ms = daw.period / rate * 1000.0
    print(
        f"clock in at {bpm:g} BPM: kick vs DAW beat median {statistics.median(errors_ms):+.1f} ms,"
        f" max |{max(abs(e) for e in errors_ms):.1f}| ms over {len(errors_ms)} beats: "
        + " ".join(f"{e:+.0f}" for e in errors_ms)
    )
    # a behaviour bound (the 10 ms target is a benchmark figure: on a loaded CI machine the
    # MIDI threads add jitter); before alignment existed, kicks were 330-390 ms off
    assert abs(statistics.median(errors_ms)) <= 40.0, errors_ms
    within = [e for e in errors_ms if abs(e) <= 40.0 + period_ms]
    assert len(within) >= len(errors_ms) - 1, errors_ms  # one late straggler at most


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_song_position_pointer_starts_us_mid_song_on_the_daws_beat(
    jack_server: JackServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The DAW locates to bar 5 (Song Position Pointer 64 sixteenths = beat 16) and sends
    Continue: our beat counter (the OSC ``/beat`` stream) continues from 16 and our kicks
    land on the DAW's beats counted from there."""
    config = tmp_path / "kit.json"
    config.write_text(json.dumps({"rhythm": "soft_four", "human": "robotic", "tempo": "slow"}))
    osc_port, bpm, beats, spp_beat = _free_port(), 120.0, 12, 16
    with Recorder(jack_server, name="daw-spp", midi_in=True, midi_out=True) as daw:
        args = [
            "--no-zeroconf", "--no-oscquery", "--osc-port", str(osc_port), "--seed", "2",
            "--config", str(config), "--midi-api", "jack", "--midi-in", daw.midi_out_port,
            "--midi-out", daw.midi_in_port, "--clock", "in",
        ]  # fmt: skip
        proc = start_bridge(args, env=jack_server.env())
        listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(0.05)
        try:
            listener.sendto(encode_message("/latentscore/subscribe", ()), ("127.0.0.1", osc_port))
            daw.send_midi([0xFC]).wait()  # Stop, then locate to bar 5 while stopped
            daw.send_midi([0xF2, (spp_beat * 4) & 0x7F, (spp_beat * 4) >> 7]).wait()
            time.sleep(1.0)
            rate = daw.rate
            per_tick = 60.0 / bpm / 24 * rate
            start = daw.now_frame() + rate // 2
            daw.send_midi([0xFB], at=start - round(0.001 * rate))  # Continue, then the tick
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
                if isinstance(message, OscMessage) and message.address == "/latentscore/beat":
                    heard.append(int(message.args[0]))  # type: ignore[call-overload]
            time.sleep(0.3)
            events = daw.midi_events()
        finally:
            listener.close()
            proc.terminate()
            proc.wait(timeout=10)
    after = [b for b in heard if b >= spp_beat - 1]
    assert after, f"our beat counter never reached the pointer's beat {spp_beat}: {heard[-20:]}"
    assert abs(after[-1] - (spp_beat + beats)) <= 1, f"last beat {after[-1]}: {heard[-20:]}"
    spb = 60.0 / bpm * rate
    kicks = [f for f, d in events if d[0] == 0x99 and d[1] == 36 and d[2] > 0 and f >= start]
    errors_ms = []
    for frame in kicks:
        beat = (frame - start) / spb
        if 3 <= round(beat) < beats:
            errors_ms.append((frame - (start + round(beat) * spb)) / rate * 1000.0)
    assert len(errors_ms) >= beats - 6, f"kicks on too few beats: {kicks}"
    print(
        f"SPP in (beat {spp_beat}): beats heard {after[:3]}...{after[-1]}, kick vs DAW beat "
        f"median {statistics.median(errors_ms):+.1f} ms"
    )
    assert abs(statistics.median(errors_ms)) <= 40.0, errors_ms
