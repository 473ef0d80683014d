"""Soak: the bridge daemon played to JACK for minutes while 100 control messages a second arrive.

A black-box endurance run of what an installation or a long DAW session does to the daemon:

* ``latentscore bridge`` runs as its own process on a private JACK server (``jackd -d dummy``,
  256-frame periods), playing through its JACK client at the default ``--latency``, with a
  virtual JACK MIDI input on the generic controller map and OSCQuery on;
* a JACK client (the recorder) records its output and sends MIDI CCs on a JACK MIDI port;
* a WebSocket client LISTENs (OSCQuery) to six fields and counts the values pushed to it;
* over UDP, 100 messages a second in all: about 30 % style and config changes (labels on
  style fields, mode and root, partial ``/config`` JSON, ``/seed``: each a crossfade), a vibe
  every 15 s, continuous faders (floats on ordered fields, volume) and, of the 100, 20 MIDI
  CCs a second (knobs and faders of the generic map).

Printed: the daemon's underruns (target 0, from its own count at exit) and JACK xruns seen
by the recorder, its resident memory idle, after a warm-up of the same traffic (``--warmup``,
60 s: the working set a flood needs, a second engine, the vibe model's buffers, the
allocator's arenas, is not a leak) and at its peak from then on (target growth < 5 %),
its CPU use (share of one core), the messages sent and the values the listener received,
and the machine's load average beside them (a loaded machine is a different test).
Run: ``python benchmarks/soak.py`` (10 minutes) or ``--minutes 1``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._jack import JackServer, Recorder
from bridge.osc_codec import encode_message

ROOT = Path(__file__).resolve().parents[1]
P = "/latentscore"
RATE_PER_S = 100
STYLE_SHARE = 0.30
MIDI_PER_S = 20
VIBE_EVERY_S = 15.0
REPORT_EVERY_S = float(os.environ.get("SOAK_REPORT_S", "60"))
STYLES = {
    "bass": ["drone", "sustained", "pulsing", "walking", "sub_pulse"],
    "pad": ["warm_slow", "ambient_drift", "cinematic", "thin_high", "dark_sustained"],
    "melody": ["contemplative", "arp_melody", "minimal", "rising"],
    "rhythm": ["minimal", "soft_four", "electronic", "brush", "none"],
    "texture": ["shimmer", "stars", "vinyl_crackle", "none"],
    "mode": ["major", "minor", "dorian", "mixolydian"],
    "root": ["c", "d", "e", "f", "g", "a"],
}
FADERS = ["brightness", "space", "motion", "echo", "stereo", "human", "grain", "tempo"]
VIBES = ["rain on a tin roof", "neon city at midnight", "warm sunset over water", "deep space"]
LISTENED = ["brightness", "space", "echo", "mode", "bass", "volume"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+)", text)
    return int(found.group(1)) if found else 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def major_faults(pid: int) -> int:
    """Page faults that had to read from disk (code or mapped files evicted meanwhile)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[9])


def valid_labels(exe: str) -> None:
    """Keep only the labels this build knows (the schema may grow)."""
    listing = subprocess.run(
        [exe, "bridge", "--list-addresses"], capture_output=True, text=True, check=True
    ).stdout
    for field, labels in STYLES.items():
        line = next((ln for ln in listing.splitlines() if ln.split()[:1] == [f"{P}/{field}"]), "")
        STYLES[field] = [lb for lb in labels if lb in line] or labels


class Listener(threading.Thread):
    """An OSCQuery WebSocket client that LISTENs to a few paths and counts what arrives."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True, name="listener")
        self.port = port
        self.received = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{self.port}/", open_timeout=10) as ws:
            for name in LISTENED:
                ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": f"{P}/{name}"}))
            while not self.stop_flag.is_set():
                try:
                    ws.recv(timeout=0.2)
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return
                self.received += 1


def one_message(rng: random.Random, t: float) -> tuple[str, tuple[object, ...]]:
    if rng.random() < STYLE_SHARE:
        kind = rng.random()
        if kind < 0.7:
            field = rng.choice(list(STYLES))
            return f"{P}/{field}", (rng.choice(STYLES[field]),)
        if kind < 0.9:
            config = {"pad": rng.choice(STYLES["pad"]), "tempo": {"step": rng.choice([-1, 1])}}
            return f"{P}/config", (json.dumps(config),)
        return f"{P}/seed", (rng.randrange(1, 10_000),)
    if rng.random() < 0.1:
        return f"{P}/volume", (0.6 + 0.3 * rng.random(),)
    field = rng.choice(FADERS)
    return f"{P}/{field}", (0.5 + 0.45 * math.sin(t * (1 + FADERS.index(field))),)


class Flood:
    """The control traffic: 100 messages a second (see the module docstring)."""

    def __init__(
        self, rng: random.Random, sock: socket.socket, osc_port: int, rec: Recorder | None
    ) -> None:
        self.rng, self.sock, self.osc_port, self.rec = rng, sock, osc_port, rec
        self.sent = self.midi_sent = self.vibes = self.crossfades = 0

    def run(self, seconds: float, each_second: Callable[[float], None]) -> None:
        rng, begin = self.rng, time.monotonic()
        next_vibe = begin + 5.0
        period = 1.0 / RATE_PER_S
        k = 0
        while (now := time.monotonic()) < begin + seconds:
            due = begin + k * period
            if due > now:
                time.sleep(due - now)
            k += 1
            t = time.monotonic() - begin
            if k % (RATE_PER_S // MIDI_PER_S) == 0 and self.rec is not None:
                cc = rng.choice([21, 22, 23, 24, 25, 102, 103, 104, 105, 106, 107, 108])
                self.rec.send_midi([0xB0, cc, rng.randrange(128)])
                self.midi_sent += 1
            elif time.monotonic() >= next_vibe:
                self._send(f"{P}/vibe", (rng.choice(VIBES),))
                self.vibes += 1
                next_vibe += VIBE_EVERY_S
            else:
                address, values = one_message(rng, t)
                self.crossfades += address.rsplit("/", 1)[1] in (*STYLES, "config", "seed")
                self._send(address, values)
            self.sent += 1
            if k % RATE_PER_S == 0:
                each_second(t)

    def _send(self, address: str, values: tuple[object, ...]) -> None:
        self.sock.sendto(encode_message(address, values), ("127.0.0.1", self.osc_port))  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--warmup", type=float, default=60.0,
        help="seconds of the same traffic before the RSS baseline (default 60)",
    )  # fmt: skip
    parser.add_argument("--latency", type=float, default=None, help="ms (default: the daemon's)")
    args = parser.parse_args()
    exe = str(ROOT / ".venv" / "bin" / "latentscore")
    if not Path(exe).exists():
        exe = "latentscore"
    valid_labels(exe)
    rng = random.Random(args.seed)
    load_start = os.getloadavg()
    osc_port, query_port = free_port(), free_port()
    with JackServer() as server, Recorder(server, midi_out=True, seconds=30.0) as rec:
        cmd = [
            exe, "bridge", "--no-zeroconf", "--osc-port", str(osc_port),
            "--oscquery-port", str(query_port), "--seed", "1", "--preset", "deep_space",
            "--midi-api", "jack", "--midi-in", "virtual", "--transition", "1.5",
        ]  # fmt: skip
        if args.latency is not None:
            cmd += ["--latency", str(args.latency)]
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=server.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Ctrl-C" in line:
                break
        # drain both pipes for the whole run: a full pipe would block the daemon's writes
        drained: dict[str, list[str]] = {"out": [], "err": []}
        drains = [
            threading.Thread(target=lambda f=f, k=k: drained[k].extend(f), daemon=True)
            for k, f in (("out", proc.stdout), ("err", proc.stderr))
        ]
        for thread in drains:
            thread.start()
        rec.connect_inputs(rec.wait_for_output_ports(client="LatentScore"))
        daemon_in = rec.input_ports_of(midi=True, pattern="LatentScore")
        if daemon_in:
            rec.connect_midi_out(daemon_in[0])
        listener = Listener(query_port)
        listener.start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        time.sleep(5.0)  # settle after start-up
        rss_idle = rss_kb(proc.pid)
        flood = Flood(rng, sock, osc_port, rec if daemon_in else None)
        if args.warmup > 0:  # the same traffic: the working set of a flood is not a leak
            flood.run(args.warmup, lambda t: None)
            print(
                f"  warm-up {args.warmup:.0f} s: RSS {rss_kb(proc.pid) / 1024:.0f} MB", flush=True
            )
        flood.sent = flood.midi_sent = flood.vibes = flood.crossfades = 0
        rss_start = rss_peak = rss_kb(proc.pid)
        cpu_start, wall_start = cpu_seconds(proc.pid), time.monotonic()
        faults_start = major_faults(proc.pid)
        last_report = wall_start

        def each_second(t: float) -> None:
            nonlocal rss_peak, last_report
            rss_peak = max(rss_peak, rss_kb(proc.pid))
            if time.monotonic() - last_report >= REPORT_EVERY_S:
                last_report = time.monotonic()
                print(f"  {t / 60:.0f} min: RSS {rss_kb(proc.pid) / 1024:.0f} MB", flush=True)

        flood.run(args.minutes * 60.0, each_second)
        sent, midi_sent, vibes, crossfades = (
            flood.sent,
            flood.midi_sent,
            flood.vibes,
            flood.crossfades,
        )
        wall = time.monotonic() - wall_start
        cpu = cpu_seconds(proc.pid) - cpu_start
        faults = major_faults(proc.pid) - faults_start
        rss_end = rss_kb(proc.pid)
        load_end = os.getloadavg()
        listener.stop_flag.set()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        for thread in drains:
            thread.join(timeout=5)
        out, err = "".join(drained["out"]), "".join(drained["err"])
        xruns = rec.xruns
    found = re.search(r"(\d+) underruns", out)
    underruns = int(found.group(1)) if found else -1
    slowest = re.search(r"slowest render ([\d.]+) ms", out)
    growth = 100.0 * (rss_peak - rss_start) / rss_start
    latency = "default --latency" if args.latency is None else f"--latency {args.latency:g}"
    print(f"Soak: {wall / 60:.1f} min on JACK (dummy, 256 frames), {latency}")
    print(
        f"  sent {sent} messages ({sent / wall:.0f}/s): {crossfades} style/config/seed, "
        f"{vibes} vibes, {midi_sent} MIDI CCs; listener received {listener.received} values"
    )
    print(
        f"  underruns {underruns} (target 0)   JACK xruns seen by the recorder {xruns}   "
        f"slowest render {slowest.group(1) if slowest else '?'} ms"
    )
    print(
        f"  RSS idle {rss_idle / 1024:.0f} MB; after warm-up {rss_start / 1024:.0f} MB, "
        f"peak {rss_peak / 1024:.0f} MB, end {rss_end / 1024:.0f} MB: "
        f"growth {growth:+.1f} % (target < 5 %)"
    )
    print(f"  CPU {100 * cpu / wall:.0f} % of one core; {faults} major page faults")
    print(
        f"  machine load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end "
        f"({os.cpu_count()} cores); exit code {proc.returncode}"
    )
    if proc.returncode != 0:
        print(err[-2000:])
    ok = underruns == 0 and growth < 5.0 and proc.returncode == 0
    print(f"  verdict: {'ok' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
