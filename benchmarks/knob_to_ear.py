"""Knob-to-ear latency of the bridge daemon: a control moves, when does the sound change?

Everything is real and outside the daemon: a private JACK server (``jackd -d dummy``, 44.1 kHz,
256-frame periods) is started, the CLI daemon runs as its own process on it (``latentscore
bridge ... --latency MS``, playing as its own JACK client ``LatentScore:out_1``), and a
recorder client (:class:`benchmarks._jack.Recorder`) records the daemon's output port with the
JACK frame time of every sample. The daemon plays a steady, broadband config (a drone bass
under a bright, soft-attack pad; no drums, no echo, no modulation), so the measured changes
stand out from the music. For each render-ahead setting (``--latencies``, default: the daemon's
default, 25 ms and 50 ms) and each measure, ``--repeats`` trials (default 15):

* **volume cut (OSC)**: ``/latentscore/volume 0.0`` over UDP, then 0.8 again between trials.
* **brightness 0 -> 1 (OSC)**: ``/latentscore/brightness 0.0``, settle, then ``1.0``.
* **volume cut (MIDI CC)**: CC 30 (mapped to volume by a ``--midi-map`` file, takeover
  "jump") sent to value 0 from the recorder's JACK MIDI port straight into the daemon's
  ``--midi-in`` (``--midi-api jack``), then value 102 (0.8) between trials.

Send stamp: an OSC datagram is stamped with JACK's current frame time (``jack_frame_time``)
immediately before it is sent. A MIDI CC is written at the first frame of a JACK period,
and that frame is its stamp: the daemon's MIDI input sits downstream in the same cycle and
receives it then (a hardware controller adds its own transport delay on top).

"Heard" is the first recorded sample at which the change is clearly measurable from the
output so far (a causal detector, so the figure never borrows from the future):

* volume cut: the peak of ``|x|`` over the trailing 1.5 ms falls below half (-6 dB) of the
  reference (the median of that rolling peak over the 200 ms before the send) and stays
  below it for at least 100 ms. Because a peak over 1.5 ms can dip at a zero crossing of a
  low partial, only the point after which it *stays* under counts; the cost is a jitter of
  up to half a period of the strongest low partial.
* brightness: energy above 4 kHz (4th-order Butterworth high-pass) in 128-sample (2.9 ms)
  windows, one window ending exactly at the send, exceeds the loudest window of the 300 ms
  before the send by at least 6 dB, in four consecutive windows (so an isolated click cannot
  pass); the end of the first of those windows is the heard sample.

Knob-to-ear = (heard frame - send frame) / 44100, in ms. It includes the daemon's input
handling, the smoothing of the control, its render-ahead buffer and one JACK period of
scheduling; it does not include a sound card's output latency (JACK's playback latency, a
fixed device property: add about ``nperiods x period`` on real hardware). A trial with no
detection within its timeout counts as missed (``n`` shows heard/total).

Target: max <= 30 ms at the default latency (the table's target column; every trial must be
heard). The benchmark reports; it exits 0 either way.
Run from the repo root: ``python benchmarks/knob_to_ear.py [--repeats 15] [--quick]
[--latencies default,25,50] [--measures volume,brightness,midi]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder
from scipy import signal as sps

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._jack import JackServer, JackUnavailable, Recorder

P = "/latentscore"
TARGET_MS = 30.0
MEASURES = ("volume", "brightness", "midi")
MEASURE_NAMES = {
    "volume": "volume cut (OSC)",
    "brightness": "brightness 0->1 (OSC)",
    "midi": "volume cut (MIDI CC)",
}
# The steady, broadband signal: drone + bright pad, soft attacks, nothing rhythmic.
SIGNAL_CONFIG = {
    "density": 2,
    "bass": "drone",
    "pad": "bright_open",
    "attack": "soft",
    "motion": "static",
    "echo": "none",
    "space": "small",
    "brightness": "medium",
}
VOLUME = 0.8
MIDI_CC = 30
MIDI_RESTORE = 102  # 102 / 127 = 0.80: the same level as the OSC restore
MIN_BUFFER_MS = 50  # the smallest --buffer the CLI accepts (fallback without --latency)

# Detector parameters (see the module docstring).
PEAK_WINDOW_S = 0.0015
VOLUME_PRE_S = 0.2
VOLUME_HOLD_S = 0.1
HF_CUTOFF_HZ = 4000.0
HF_WINDOW = 128
HF_PRE_S = 0.3
HF_RISE_DB = 6.0
HF_PERSIST = 4
FILTER_LEAD_S = 0.05  # audio before the reference window, so the high-pass has settled


# --- detectors (pure functions on recorded audio) --------------------------------------------
def trailing_peak(x: np.ndarray, width: int) -> np.ndarray:
    """``out[i]`` = max ``|x|`` over ``x[i - width + 1 .. i]`` (NaN for the first width-1)."""
    out = np.full(len(x), np.nan)
    if len(x) >= width:
        windows = np.lib.stride_tricks.sliding_window_view(np.abs(x), width)
        out[width - 1 :] = windows.max(axis=1)
    return out


def detect_volume_cut(x: np.ndarray, send: int, rate: int) -> int | None:
    """Index in ``x`` where a cut at index ``send`` is heard, None if not (yet) heard.

    ``x`` must hold :data:`VOLUME_PRE_S` before ``send``. Raises ValueError when the
    reference window is silent (nothing to cut).
    """
    width = max(1, round(PEAK_WINDOW_S * rate))
    peak = trailing_peak(x, width)
    pre = peak[max(0, send - round(VOLUME_PRE_S * rate)) : send]
    reference = float(np.nanmedian(pre)) if np.isfinite(pre).any() else 0.0
    if reference < 1e-4:
        raise ValueError(f"no signal before the send (reference peak {reference:.2g})")
    after = peak[send:]
    loud = np.flatnonzero(after >= reference / 2)
    heard = send + (int(loud[-1]) + 1 if loud.size else 0)
    if len(x) - heard < round(VOLUME_HOLD_S * rate):
        return None  # not quiet for long enough (yet)
    return heard


def highpass_energy(x: np.ndarray, rate: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Energy above :data:`HF_CUTOFF_HZ` per :data:`HF_WINDOW`-sample window.

    Windows start at ``first + k * HF_WINDOW`` (``first`` < HF_WINDOW); returns (energies,
    end index of each window).
    """
    sos = sps.butter(4, HF_CUTOFF_HZ, "highpass", fs=rate, output="sos")
    y = sps.sosfilt(sos, x)[first:]
    n = len(y) // HF_WINDOW
    energy = np.mean(y[: n * HF_WINDOW].reshape(n, HF_WINDOW) ** 2, axis=1)
    ends = first + HF_WINDOW * (np.arange(n) + 1)
    return energy, ends


def detect_brightening(x: np.ndarray, send: int, rate: int) -> int | None:
    """Index in ``x`` where a brightness rise sent at index ``send`` is heard, or None.

    ``x`` must hold :data:`HF_PRE_S` + :data:`FILTER_LEAD_S` before ``send``.
    """
    energy, ends = highpass_energy(x, rate, send % HF_WINDOW)
    pre = energy[(ends <= send) & (ends - HF_WINDOW >= send - round(HF_PRE_S * rate))]
    if pre.size == 0:
        raise ValueError("no reference window before the send")
    threshold = max(float(pre.max()), 1e-15) * 10 ** (HF_RISE_DB / 10)
    post = energy[ends - HF_WINDOW >= send] >= threshold
    post_ends = ends[ends - HF_WINDOW >= send]
    for j in range(len(post) - HF_PERSIST + 1):
        if post[j : j + HF_PERSIST].all():
            return int(post_ends[j])
    return None


# --- the daemon and its controls -------------------------------------------------------------
def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (the daemon binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise OSError("no free port")


class OscLink:
    """One UDP socket to the daemon: sends float messages and notices any reply."""

    def __init__(self, port: int) -> None:
        self.address = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def send(self, path: str, *values: float) -> None:
        builder = OscMessageBuilder(path)
        for value in values:
            builder.add_arg(float(value), "f")  # floats: an int would select a label
        self.sock.sendto(builder.build().dgram, self.address)

    def answers(self, timeout: float) -> bool:
        """Ask for the state; True once any reply arrives within ``timeout``."""
        self.send(f"{P}/state")
        self.sock.settimeout(timeout)
        try:
            self.sock.recvfrom(65536)
        except (TimeoutError, ConnectionRefusedError):
            return False
        self.drain()
        return True

    def drain(self) -> None:
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recvfrom(65536)
        except (BlockingIOError, ConnectionRefusedError):
            pass

    def close(self) -> None:
        self.sock.close()


def latentscore_command() -> list[str]:
    """The CLI next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("latentscore")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("latentscore")
    if found is None:
        raise FileNotFoundError("the latentscore CLI is not installed (pip install -e .)")
    return [found]


def bridge_help() -> str:
    done = subprocess.run(
        [*latentscore_command(), "bridge", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ, COLUMNS="200", NO_COLOR="1"),
    )
    return done.stdout


def _default_of(flag: str, help_text: str) -> str | None:
    """The ``[default: X]`` of ``flag`` in typer/rich help (it may sit a few lines below)."""
    lines = help_text.splitlines()
    for i, line in enumerate(lines):
        if re.search(rf"{flag}\b", line):
            for follow in lines[i : i + 8]:
                if follow is not line and re.search(r"^\W*--[a-z]", follow):
                    return None  # the next option began first
                found = re.search(r"\[default:\s*([^\]]+)\]", follow)
                if found:
                    return found.group(1).strip()
    return None


@dataclass(frozen=True)
class Setting:
    """One render-ahead setting: how it is shown and the CLI flags that select it."""

    label: str
    args: tuple[str, ...]


def setting_for(ms: int | None, help_text: str) -> Setting:
    """``--latency MS`` when the daemon has it, else the equivalent ``--buffer SECONDS``."""
    has_latency = re.search(r"--latency\b", help_text) is not None
    flag = "--latency" if has_latency else "--buffer"
    if ms is None:
        default = _default_of(flag, help_text)
        return Setting(f"default ({flag} {default})" if default else "default", ())
    if has_latency:
        return Setting(f"--latency {ms}", ("--latency", str(ms)))
    seconds = max(ms, MIN_BUFFER_MS) / 1000
    return Setting(f"--buffer {seconds:g}", ("--buffer", f"{seconds:g}"))


@dataclass
class StopReport:
    """How the daemon ended: exit code, seconds from SIGINT, and whether it had to be killed."""

    returncode: int | None
    seconds: float
    killed: bool
    problems: list[str]
    underruns: int | None


class DaemonProcess:
    """``latentscore bridge`` as a child process on the recorder's JACK server.

    Started in its own session (a Ctrl-C in the terminal reaches only this script, which then
    stops the daemon before the JACK server). Only this PID is ever signalled: SIGINT (the
    daemon fades out and exits), then SIGKILL if it has not exited after ``stop_timeout``.
    """

    def __init__(self, args: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.started = time.monotonic()
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*latentscore_command(), "bridge", *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"the daemon exited ({self.proc.returncode}) at start: {self.log_text()[-2000:]}"
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, stop_timeout: float = 15.0) -> StopReport:
        start = time.monotonic()
        killed = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                killed = True
                self.proc.kill()
                self.proc.wait(timeout=stop_timeout)
        seconds = time.monotonic() - start
        text = self.log_text()
        problems = [
            line.strip()
            for line in text.splitlines()
            if re.search(r"Assertion|Traceback|Error|error:|Segmentation|abort", line)
        ]
        if killed:
            problems.insert(0, f"did not exit within {stop_timeout:g} s of SIGINT; killed")
        rc = self.proc.returncode
        if rc not in (0, None) and not killed:
            problems.insert(0, f"exit code {rc}")
        found = re.search(r"Stopped:.*?(\d+) underruns", text)
        underruns = int(found.group(1)) if found else None
        return StopReport(rc, seconds, killed, problems, underruns)


# --- trials ----------------------------------------------------------------------------------
@dataclass
class Trial:
    """One control move: its send frame and the frame it was heard at (None: missed)."""

    send_frame: int
    heard_frame: int | None
    rate: int
    xruns: int = 0  # JACK xruns while the trial ran (its figure may be off by a period)

    @property
    def ms(self) -> float | None:
        if self.heard_frame is None:
            return None
        return (self.heard_frame - self.send_frame) / self.rate * 1000


@dataclass
class SettingResult:
    """Every trial of every measure at one setting, and how the daemon behaved."""

    setting: Setting
    trials: dict[str, list[Trial]] = field(default_factory=dict)
    startup_s: float = math.nan
    ports: list[str] = field(default_factory=list)
    stop: StopReport | None = None
    recorder_xruns: int = 0
    dropped: int = 0  # trials spoilt by a gap in the recording, run again
    late_clients: dict[str, int] = field(default_factory=dict)  # JACK clients behind xruns

    def latencies(self, measure: str) -> list[float]:
        return [t.ms for t in self.trials.get(measure, []) if t.ms is not None]


Detector = Callable[[np.ndarray, int, int], int | None]


class RecordingGap(RuntimeError):
    """The recorder missed a JACK period inside a trial's analysed span."""


class Session:
    """The recorder, the daemon and the OSC link for one setting, and the trial loops."""

    def __init__(self, recorder: Recorder, osc: OscLink, log: Callable[[str], None]) -> None:
        self.rec = recorder
        self.osc = osc
        self.say = log
        self.rate = recorder.rate
        self.reference_peak = 0.0
        self.estimate_s = 1.0  # expected knob-to-ear until measured: sizes waits and timeouts
        self.dropped = 0  # trials spoilt by a recording gap (and run again)

    def recent(self, seconds: float) -> np.ndarray:
        end = self.rec.captured_until()
        return self.rec.take(end - round(seconds * self.rate), end).mono()

    def level(self, seconds: float = 0.2) -> float:
        """Median trailing 1.5 ms peak over the last ``seconds`` (the volume detector's view)."""
        peak = trailing_peak(self.recent(seconds), max(1, round(PEAK_WINDOW_S * self.rate)))
        return float(np.nanmedian(peak)) if np.isfinite(peak).any() else 0.0

    def wait_level(self, at_least: float, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.level() >= at_least:
                return True
            time.sleep(0.05)
        return False

    def await_heard(self, send: int, pre_s: float, detector: Detector) -> int | None:
        """Poll the recording until ``detector`` finds the change, or the timeout passes.

        Raises :class:`RecordingGap` when the recorder missed a period in the analysed span
        (its zeros would look like a cut, and their edges like a brightening).
        """
        start = send - round((pre_s + FILTER_LEAD_S) * self.rate)
        deadline = time.monotonic() + max(3.0, 4 * self.estimate_s)
        self.rec.wait_captured(send)
        while True:
            take = self.rec.take(start, self.rec.captured_until())
            if not take.complete:
                raise RecordingGap(f"the recorder missed a period near frame {send}")
            heard = detector(take.mono(), send - start, self.rate)
            if heard is not None:
                return start + heard
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def settle(self) -> None:
        """Wait until the output is back at the reference level, then let it steady."""
        if not self.wait_level(0.7 * self.reference_peak, timeout=2 + 4 * self.estimate_s):
            self.say("  (level did not recover within the timeout)")
        time.sleep(0.5)

    def volume_trial(self, midi: bool) -> Trial:
        if midi:
            send = self.rec.send_midi([0xB0, MIDI_CC, 0]).wait()
        else:
            send = self.rec.now_frame()
            self.osc.send(f"{P}/volume", 0.0)
        try:
            heard = self.await_heard(send, VOLUME_PRE_S, detect_volume_cut)
        finally:
            if midi:
                self.rec.send_midi([0xB0, MIDI_CC, MIDI_RESTORE]).wait()
            else:
                self.osc.send(f"{P}/volume", VOLUME)
            self.settle()
        return Trial(send, heard, self.rate)

    def brightness_trial(self) -> Trial:
        self.osc.send(f"{P}/brightness", 0.0)
        time.sleep(1.5 + 2 * self.estimate_s)
        send = self.rec.now_frame()
        self.osc.send(f"{P}/brightness", 1.0)
        heard = self.await_heard(send, HF_PRE_S, detect_brightening)
        return Trial(send, heard, self.rate)

    def run(self, measure: str, repeats: int) -> list[Trial]:
        """``repeats`` trials; one spoilt by a recording gap is run again (3 x repeats at most)."""
        trials: list[Trial] = []
        while len(trials) < repeats:
            xruns = self.rec.xruns
            try:
                if measure == "brightness":
                    trial = self.brightness_trial()
                else:
                    trial = self.volume_trial(midi=measure == "midi")
            except RecordingGap as gap:
                self.dropped += 1
                self.say(f"  ({gap}; trial run again)")
                if self.dropped > 3 * repeats:
                    raise
                continue
            trial.xruns = self.rec.xruns - xruns
            trials.append(trial)
            heard = [t.ms for t in trials if t.ms is not None]
            if heard:
                self.estimate_s = max(0.05, statistics.median(heard) / 1000)
        return trials


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="knob-to-ear-") as tmp:
        yield Path(tmp)


def measure_setting(
    server: JackServer,
    setting: Setting,
    measures: Sequence[str] = MEASURES,
    repeats: int = 15,
    log: Callable[[str], None] = print,
    start_timeout: float = 90.0,
) -> SettingResult:
    """Start the daemon with ``setting`` on ``server``, run every measure, stop the daemon."""
    result = SettingResult(setting)
    midi = "midi" in measures
    late_before = server.late_clients()
    with _workdir() as tmp, Recorder(server, name="knob-to-ear", midi_out=midi) as rec:
        config = tmp / "config.json"
        config.write_text(json.dumps(SIGNAL_CONFIG))
        port = free_port()
        args = ["--no-zeroconf", "--no-oscquery", "--osc-port", str(port), "--seed", "1"]
        args += ["--config", str(config), "--volume", str(VOLUME), *setting.args]
        if midi:
            midi_map = tmp / "map.toml"
            midi_map.write_text(
                f'[[control]]\nparam = "volume"\ncc = {MIDI_CC}\ntakeover = "jump"\n'
            )
            args += ["--midi-api", "jack", "--midi-in", rec.midi_out_port]
            args += ["--midi-map", str(midi_map), "--learn-file", str(tmp / "learned.toml")]
        before = set(rec.output_ports())
        daemon = DaemonProcess(args, server.env(), tmp / "daemon.log")
        osc = OscLink(port)
        try:
            deadline = time.monotonic() + start_timeout
            while not osc.answers(0.2):
                daemon.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the daemon did not answer OSC within {start_timeout} s")
            left = max(1.0, deadline - time.monotonic())
            result.ports = rec.wait_for_output_ports(client=None, exclude=before, timeout=left)
            result.startup_s = time.monotonic() - daemon.started
            rec.connect_inputs(result.ports)
            session = Session(rec, osc, log)
            time.sleep(1.0)
            session.reference_peak = session.level(0.5)
            if session.reference_peak < 1e-3:
                raise RuntimeError(f"the daemon plays silence on {result.ports}")
            for measure in measures:
                log(f"  {setting.label}: {MEASURE_NAMES[measure]} x {repeats}")
                result.trials[measure] = session.run(measure, repeats)
            result.recorder_xruns = rec.xruns
            result.dropped = session.dropped
        finally:
            osc.close()
            result.stop = daemon.stop()
    result.late_clients = dict(server.late_clients() - late_before)
    return result


# --- report ----------------------------------------------------------------------------------
def summary_rows(results: Sequence[SettingResult]) -> list[tuple[str, ...]]:
    """One row per setting and measure: label, measure, median, max, n, target verdict."""
    rows: list[tuple[str, ...]] = []
    for r in results:
        for measure, trials in r.trials.items():
            heard = r.latencies(measure)
            median = f"{statistics.median(heard):.1f}" if heard else "-"
            worst = f"{max(heard):.1f}" if heard else "-"
            target = ""
            if r.setting.label.startswith("default"):
                met = len(heard) == len(trials) and bool(heard) and max(heard) <= TARGET_MS
                target = f"max <= {TARGET_MS:g}: {'met' if met else 'NOT MET'}"
            n = f"{len(heard)}/{len(trials)}"
            rows.append((r.setting.label, MEASURE_NAMES[measure], median, worst, n, target))
    return rows


def print_report(server: JackServer, results: Sequence[SettingResult], load: str) -> None:
    period_ms = server.period / server.rate * 1000
    print(
        f"\nknob-to-ear on JACK (dummy backend, {server.rate} Hz, period {server.period} frames "
        f"= {period_ms:.1f} ms); load average {load}"
    )
    header = ("setting", "measure", "median ms", "max ms", "n", "target")
    rows = [header, *summary_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = [
            cell.rjust(w) if 2 <= i <= 4 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    for r in results:
        stop = r.stop
        line = f"daemon {r.setting.label}: ready in {r.startup_s:.1f} s, ports {', '.join(r.ports)}"
        if stop is not None:
            line += f"; stopped in {stop.seconds:.1f} s (exit {stop.returncode})"
            if stop.underruns is not None:
                line += f", {stop.underruns} underruns"
        during = sum(t.xruns for trials in r.trials.values() for t in trials)
        line += f"; JACK xruns {r.recorder_xruns} ({during} during trials)"
        if r.late_clients:
            late = ", ".join(f"{name} {n}" for name, n in sorted(r.late_clients.items()))
            line += f" [late: {late}]"
        if r.dropped:
            line += f"; {r.dropped} trials rerun after a recording gap"
        print(line)
        for problem in (stop.problems if stop else [])[:5]:
            print(f"  ! {problem}")


def parse_latencies(text: str) -> list[int | None]:
    out: list[int | None] = []
    for item in text.split(","):
        item = item.strip()
        if item:
            out.append(None if item == "default" else int(item))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=15, help="trials per measure (15)")
    parser.add_argument("--quick", action="store_true", help="5 trials, default latency only")
    parser.add_argument(
        "--latencies",
        default="default,25,50",
        help="render-ahead settings in ms, comma-separated; 'default' = the daemon's default",
    )
    parser.add_argument("--measures", default=",".join(MEASURES), help="volume,brightness,midi")
    opts = parser.parse_args(argv)
    repeats = 5 if opts.quick else opts.repeats
    latencies = [None] if opts.quick else parse_latencies(opts.latencies)
    measures = [m.strip() for m in opts.measures.split(",") if m.strip()]
    unknown = set(measures) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures {sorted(unknown)}; choose from {', '.join(MEASURES)}")
    help_text = bridge_help()
    if "--latency" not in help_text:
        print("this daemon has no --latency yet: using --buffer (seconds) instead")
    settings = [setting_for(ms, help_text) for ms in latencies]
    before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    try:
        with JackServer() as server:
            print(f"JACK server {server.name} (pid {server.pid})")
            results = [measure_setting(server, s, measures, repeats) for s in settings]
            after = " ".join(f"{v:.2f}" for v in os.getloadavg())
            print_report(server, results, f"{before} at start, {after} at end")
    except JackUnavailable as exc:
        print(f"knob-to-ear needs JACK: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
