"""Stopping the CLI daemon by signal with audio and MIDI on JACK: clean, heard, 20 of 20.

Each round starts ``latentscore bridge`` as its own process on a private JACK server (our
JACK client plays the audio; notes and clock go out on a JACK MIDI port), records both with
a separate JACK client (frame-stamped), then sends SIGINT or SIGTERM and checks what a
musician would notice:

* the process exits with code 0 within 2 s;
* the music fades out after the signal (no cut: the last 5 ms before silence are far
  quieter than the music was);
* every note-on that went out has its note-off, All Notes Off (CC 123) and MIDI Stop were
  sent after the signal.

Must run (not skip) with CI=true: the JACK fixture fails instead.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from benchmarks._jack import JackServer, Recorder
from tests.cli_daemon import start_bridge
from tests.jack import jack_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.jack
ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 20


def _start(server: JackServer) -> subprocess.Popen[str]:
    args = [
        "--no-zeroconf", "--no-oscquery", "--osc-port", "0", "--seed", "3",
        "--preset", "deep_space", "--midi-api", "jack", "--midi-out", "virtual",
        "--clock", "out",
    ]  # fmt: skip
    return start_bridge(args, env=server.env())


def _check_midi(events: list[tuple[int, bytes]], signal_frame: int) -> None:
    sounding: Counter[tuple[int, int]] = Counter()
    ons = 0
    for _, data in events:
        status = data[0] & 0xF0
        if status == 0x90 and data[2] > 0:
            sounding[(data[0] & 0x0F, data[1])] += 1
            ons += 1
        elif status == 0x80 or (status == 0x90 and data[2] == 0):
            key = (data[0] & 0x0F, data[1])
            if sounding[key] > 0:
                sounding[key] -= 1
    assert ons > 0, "no notes were heard on the MIDI port before the signal"
    assert not +sounding, f"notes left hanging: {dict(+sounding)}"
    after = [data for frame, data in events if frame >= signal_frame]
    assert any(d[0] & 0xF0 == 0xB0 and d[1] == 123 for d in after), "no All Notes Off"
    assert any(d[0] == 0xFC for d in after), "no MIDI Stop"


def _check_fade(take: np.ndarray, rate: int, signal_at: int) -> None:
    loud = np.flatnonzero(np.abs(take) > 1e-5)
    assert loud.size and loud[0] < signal_at, "no music before the signal"
    last = int(loud[-1])
    assert last > signal_at, "the music stopped before the signal"
    assert last - signal_at < rate // 2, "the music went on for 0.5 s after the signal"
    end = np.max(np.abs(take[max(0, last - rate // 200) : last + 1]))  # last 5 ms
    before = np.max(np.abs(take[signal_at - rate // 5 : signal_at]))  # 200 ms before
    assert before > 0.01, "too quiet to judge the fade"
    assert end < 0.3 * before, f"cut, not faded: last 5 ms peak {end:.3f} vs {before:.3f}"


def test_signal_stop_is_clean_every_time(jack_server: JackServer) -> None:  # noqa: F811
    failures: list[str] = []
    exit_times: list[float] = []
    server = jack_server
    with Recorder(server, midi_in=True, seconds=20.0) as rec:
        for k in range(ROUNDS):
            before = set(rec.output_ports())
            proc = _start(server)
            try:
                ports = rec.wait_for_output_ports(client="LatentScore", exclude=before)
                rec.connect_inputs(ports)
                midi = rec.output_ports(midi=True, pattern="LatentScore Out")
                assert midi, rec.output_ports(midi=True)
                rec.connect_midi_in(midi[0])
                first_event = len(rec.midi_events())
                time.sleep(1.2)
                sig = signal.SIGINT if k % 2 == 0 else signal.SIGTERM
                frame, started = rec.now_frame(), time.monotonic()
                proc.send_signal(sig)
                out, err = proc.communicate(timeout=10)
                took = time.monotonic() - started
                exit_times.append(took)
                rec.wait_captured(frame + rec.rate)
                take = rec.take(frame - rec.rate, frame + rec.rate).mono()
                try:
                    assert proc.returncode == 0, f"exit code {proc.returncode}: {err[-800:]}"
                    assert took < 2.0, f"took {took:.2f} s to exit"
                    assert "Stopped:" in out, out
                    _check_fade(take, rec.rate, rec.rate)
                    _check_midi(rec.midi_events()[first_event:], frame)
                except AssertionError as exc:
                    failures.append(f"round {k} ({sig.name}): {exc}")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    print(
        f"{ROUNDS - len(failures)}/{ROUNDS} clean stops; exit after the signal: "
        f"median {1000 * float(np.median(exit_times)):.0f} ms, "
        f"max {1000 * max(exit_times):.0f} ms"
    )
    assert not failures, "\n".join(failures)
