"""Synth render speed: offline real-time factor and live per-block cost.

Offline: each reference config (benchmarks/reference_configs.json) is rendered for 60 s from
a fresh engine, pulled in 1 s blocks (what ``latentscore.render`` and file export do; the
engine works in fixed internal quanta, so block size changes only the per-call overhead),
``--repeats`` times; the table shows the median wall time and the real-time factor.

Live: one config is pulled for 20 s in 256-sample blocks (5.8 ms at 44.1 kHz, a typical audio
callback) from an engine with the bridge's 256-sample control quantum, its bars composed
ahead as the bridge's composer thread does (so the figure is what the render worker pays);
the mean, 99th percentile and maximum cost per block are shown as a share of the block's
duration. Above 100 % the audio thread would underrun; the target leaves headroom for the
rest of the process (bridge, OSC, Python's GC). The composing itself is shown separately.

Run from the repo root: ``python benchmarks/synth_speed.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks._common import SR, load_reference_configs, pull
from latentscore.params import to_synth_params
from synth.engine import LIVE_QUANTUM, Engine

RENDER_SECONDS = 60
TARGET_RENDER_S = 0.35  # per 60 s render: 170x real time
LIVE_BLOCK = 256
LIVE_SECONDS = 20
TARGET_LIVE_MEAN = 0.05  # mean block cost as a share of the block duration


def time_render(config_name: str, repeats: int) -> list[float]:
    """Wall times of ``repeats`` 60 s renders (fresh engine each, 1 s blocks)."""
    params = to_synth_params(load_reference_configs()[config_name])
    times = []
    for seed in range(repeats):
        engine = Engine(params, seed=seed)
        start = time.perf_counter()
        pull(engine, RENDER_SECONDS * SR, block=SR)
        times.append(time.perf_counter() - start)
    return times


def time_live_blocks(config_name: str) -> tuple[np.ndarray, float]:
    """Per-block wall time (s) of 20 s pulled in 256-sample blocks, and the composing time."""
    params = to_synth_params(load_reference_configs()[config_name])
    engine = Engine(params, seed=0, quantum=LIVE_QUANTUM, knob_seconds=0.01)
    n_blocks = LIVE_SECONDS * SR // LIVE_BLOCK
    costs = np.empty(n_blocks)
    composing = 0.0
    for i in range(n_blocks):
        start = time.perf_counter()
        engine.compose(SR // 4)  # the composer thread's job, done between blocks
        mid = time.perf_counter()
        engine.render(LIVE_BLOCK)
        costs[i] = time.perf_counter() - mid
        composing += mid - start
    return costs, composing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--live-config", default="d6_electronic_full")
    args = parser.parse_args()

    names = list(load_reference_configs())
    time_render(names[0], 1)  # warm-up: imports, wavetables, numpy caches
    print(f"Offline: {RENDER_SECONDS} s renders, 1 s blocks, median of {args.repeats}")
    print(f"{'config':<22} {'median s':>9} {'x real time':>12}")
    medians = []
    for name in names:
        med = statistics.median(time_render(name, args.repeats))
        medians.append(med)
        print(f"{name:<22} {med:>9.3f} {RENDER_SECONDS / med:>11.0f}x")
    overall = statistics.median(medians)
    verdict = "ok" if overall <= TARGET_RENDER_S else "MISSED"
    print(f"{'overall median':<22} {overall:>9.3f} {RENDER_SECONDS / overall:>11.0f}x")
    target = f"median <= {TARGET_RENDER_S} s per {RENDER_SECONDS} s render (170x)"
    print(f"target: {target}  [{verdict}]")

    block_s = LIVE_BLOCK / SR
    time_live_blocks(args.live_config)  # warm-up
    block_costs, composing = time_live_blocks(args.live_config)
    costs = block_costs / block_s
    print()
    print(
        f"Live: {args.live_config}, {LIVE_SECONDS} s in {LIVE_BLOCK}-sample blocks "
        f"({block_s * 1000:.1f} ms each); cost as % of block duration"
    )
    print(
        f"mean {100 * costs.mean():.2f} %   p99 {100 * np.percentile(costs, 99):.2f} %   "
        f"max {100 * costs.max():.2f} %"
    )
    verdict = "ok" if costs.mean() <= TARGET_LIVE_MEAN else "MISSED"
    print(f"target: mean <= {100 * TARGET_LIVE_MEAN:.0f} %  [{verdict}]")
    print(f"composing (background thread): {100 * composing / LIVE_SECONDS:.2f} % of one core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
