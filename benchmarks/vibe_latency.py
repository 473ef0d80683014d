"""Fast vibe model latency and memory.

Prints:

1. Cold CLI, end to end: ``latentscore render "warm sunset" --duration 10 -o x.wav`` in a
   fresh process (median of ``--runs``; target <= 2.5 s), and ``latentscore config``.
2. Import and load: ``import latentscore`` and the first ``vibe_to_config`` in a fresh
   process, split into model load (encoder weights + library) and the first query.
3. Warm query -> config: p50 / p99 over varied texts (target p50 <= 10 ms), and the
   share spent embedding, with the default dense backend (the float16 C kernel where it
   was built) and, for comparison, the numpy fallback.
4. Memory: peak RSS of a process with the model loaded, and without it.

Run from the repo root: ``python benchmarks/vibe_latency.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

QUERIES = [
    "warm sunset over calm water",
    "dark industrial warehouse at midnight",
    "very fast frantic chase through neon streets",
    "melancholy rain on glass, no drums",
    "a cathedral at dawn, vast reverb, in D dorian",
    "lo-fi study beats with vinyl crackle",
    "glacial arctic silence",
    "joyful celebration under the stars",
    "SLOW DARK AMBIENT DRONE",
    "noche oscura y triste",
]

_PROBE = """
import json, resource, sys, time
t0 = time.perf_counter()
import latentscore as ls
t1 = time.perf_counter()
from latentscore.models.base import resolve_model
model = resolve_model("fast")
t2 = time.perf_counter()
ls.vibe_to_config("warm sunset over calm water")
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first_query": t3 - t2,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
_BASELINE = """
import json, resource
import latentscore as ls
ls.render(ls.MusicConfig(), duration=1, seed=1)
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _cli() -> list[str]:
    exe = shutil.which("latentscore", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "latentscore.cli"]


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t0


def probe(code: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _warm_queries(model: Any, texts: list[str], label: str) -> None:
    """Time ``model.generate`` (uncached texts) and the embedding alone; print p50/p99."""
    for q in QUERIES:
        model.generate(q)
    total, embed = [], []
    for t in texts:
        t0 = time.perf_counter()
        model.generate(t)
        t1 = time.perf_counter()
        model.embed(t)
        t2 = time.perf_counter()
        total.append(1000 * (t1 - t0))
        embed.append(1000 * (t2 - t1))
    total.sort()
    p99 = total[min(len(total) - 1, int(0.99 * len(total)))]
    print(
        f"   {label}: p50 {statistics.median(total):.1f} ms, p99 {p99:.1f} ms "
        f"(target p50 <= 10 ms); embedding alone p50 {statistics.median(embed):.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "x.wav")
        render = [*_cli(), "render", "warm sunset", "--duration", "10", "-o", wav]
        config = [*_cli(), "config", "warm sunset"]
        timed(render)  # page cache warm-up, like a second launch
        r = [timed(render) for _ in range(args.runs)]
        try:
            c = [timed(config) for _ in range(args.runs)]
        except subprocess.CalledProcessError:
            c = []
    print("1. cold CLI (fresh process each run)")
    print(
        f"   render 'warm sunset' 10 s -> wav: median {statistics.median(r):.2f} s "
        f"(min {min(r):.2f}, max {max(r):.2f}; target <= 2.5 s)"
    )
    if c:
        print(f"   config 'warm sunset' -> JSON:    median {statistics.median(c):.2f} s")

    p = [probe(_PROBE) for _ in range(3)]
    med = {k: statistics.median(x[k] for x in p) for k in p[0]}
    print("2. fresh process")
    print(
        f"   import latentscore {1000 * med['import']:.0f} ms, model load "
        f"{1000 * med['load']:.0f} ms, first query {1000 * med['first_query']:.1f} ms"
    )

    from latentscore.models.base import resolve_model
    from latentscore.models.fast import FastModel
    from latentscore.models.halfgemm import BACKEND_ENV

    texts = [f"{q} {i}" if i else q for i in range(30) for q in QUERIES]
    model = cast(FastModel, resolve_model("fast"))
    backend = model.encoder.backend
    print(f"3. warm query -> config over {len(texts)} texts")
    _warm_queries(model, texts, f"{backend} (default)")
    if backend == "native":  # the fallback users without a C compiler get, for comparison
        os.environ[BACKEND_ENV] = "numpy"
        try:
            _warm_queries(FastModel.load(), texts, "numpy fallback")
        finally:
            del os.environ[BACKEND_ENV]

    base = probe(_BASELINE)["rss_mb"]
    print("4. memory (peak RSS)")
    print(
        f"   with the fast model loaded: {med['rss_mb']:.0f} MB; "
        f"rendering without it: {base:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
