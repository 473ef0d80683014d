"""OSC bridge latency and throughput, over real UDP sockets on 127.0.0.1.

1. OSC message -> parameter handed to the engine (the render thread executes the glide):
   p50/p99 over 300 fader messages sent 20 ms apart. Target p99 <= one 256-sample block
   + 5 ms (10.8 ms).
2. ``/latentscore/vibe`` -> crossfade start with a warm model: p50/p99 over 30 vibes.
   Target p99 <= 100 ms. Uses ``--model`` (default: a stand-in model that answers at once,
   so the figure is the bridge's own overhead; pass ``--model fast`` for the real one).
3. Sustained 1,000 messages/s for 5 s from one sender: every message accepted (no loss),
   no audio underrun.

The daemon runs with ``--no-audio`` (a null output clocked in real time like a sound card).
Run from the repo root: ``python benchmarks/osc_latency.py [--model fast]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.daemon import BridgeDaemon
from bridge.performance import Crossfade, Glide
from tests.bridge_util import FakeVibeModel, OscClient, running_daemon

P = "/latentscore"
BLOCK_MS = 256 / 44100 * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def wait_executed(daemon: BridgeDaemon, since: float, kind: type, timeout: float = 5.0) -> float:
    """Monotonic time the render thread executed the first op of ``kind`` at or after ``since``
    (a monotonic time: the log is a bounded deque, so positions in it shift)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for at, op in list(daemon.performance.executed):
            if at >= since and isinstance(op, kind):
                return at
        time.sleep(0.0002)
    raise TimeoutError(f"no {kind.__name__} executed")


def fader_latency(daemon: BridgeDaemon, client: OscClient, n: int = 300) -> list[float]:
    out = []
    for i in range(n):
        sent = time.monotonic()
        client.send(f"{P}/brightness", (i % 100) / 100 + 0.001)
        out.append((wait_executed(daemon, sent, Glide) - sent) * 1000)
        time.sleep(0.02)
    return out


def vibe_latency(daemon: BridgeDaemon, client: OscClient, n: int = 30) -> list[float]:
    out = []
    for i in range(n):
        sent = time.monotonic()
        client.send(f"{P}/vibe", "dark rain" if i % 2 else "bright morning")
        out.append((wait_executed(daemon, sent, Crossfade, 30.0) - sent) * 1000)
        time.sleep(0.1)
    return out


def sustained(
    daemon: BridgeDaemon, client: OscClient, rate: int = 1000, seconds: float = 5.0
) -> dict[str, float]:
    before = daemon.controller.received
    underruns = daemon.performance.stats.underruns
    start = time.monotonic()
    sent = 0
    while sent < rate * seconds:
        due = start + sent / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        client.send(f"{P}/motion", (sent % 1000) / 1000)
        sent += 1
    deadline = time.monotonic() + 5
    while daemon.controller.received - before < sent and time.monotonic() < deadline:
        time.sleep(0.01)
    return dict(
        sent=sent,
        accepted=daemon.controller.received - before,
        seconds=time.monotonic() - start,
        underruns=daemon.performance.stats.underruns - underruns,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="vibe model (default: a stand-in)")
    args = parser.parse_args()
    model: object = args.model or FakeVibeModel()
    with running_daemon(model=model, oscquery_port=None) as daemon:
        client = OscClient(daemon.osc_port)
        time.sleep(1.0)  # let the first fill and the model warm up
        fader = fader_latency(daemon, client)
        target = BLOCK_MS + 5
        print(
            f"OSC -> engine: p50 {percentile(fader, 50):.2f} ms, p99 {percentile(fader, 99):.2f} "
            f"ms, max {max(fader):.2f} ms (target p99 <= {target:.1f} ms)"
        )
        vibes = vibe_latency(daemon, client)
        print(
            f"vibe -> crossfade start ({args.model or 'stand-in model'}): p50 "
            f"{percentile(vibes, 50):.1f} ms, p99 {percentile(vibes, 99):.1f} ms "
            "(target p99 <= 100 ms)"
        )
        result = sustained(daemon, client)
        print(
            f"sustained: {result['sent']} messages in {result['seconds']:.2f} s, "
            f"{result['accepted']} accepted ({result['sent'] - result['accepted']} lost), "
            f"{result['underruns']} underruns"
        )
        print(f"mean fader latency {statistics.mean(fader):.2f} ms")
        client.close()


if __name__ == "__main__":
    main()
