"""MiniLM query-embedding speed and fidelity: our encoder against sentence-transformers.

Prints, for :class:`latentscore.models.minilm.MiniLMEncoder` on each dense backend (the
float16 C kernel where built, and numpy):

* import time of ``latentscore.models.minilm`` in a fresh interpreter (whole, and the
  module's own share);
* load time (tokenizer + memory-mapped weights);
* warm single-query encode p50/p99 over ~200 varied short queries;
* batch throughput (texts/s) on short scene descriptions;
* fidelity against :func:`~latentscore.models.minilm.reference_encode` (sentence-transformers,
  offline) on a sample: minimum cosine and maximum absolute deviation, plus the reference's own
  warm single-query p50 for comparison.

Run from the repo root: ``python benchmarks/embed_speed.py`` (``--no-reference`` skips the
sentence-transformers part, which costs ~4 s of imports).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_WORDS = [
    "warm",
    "cold",
    "misty",
    "bright",
    "dark",
    "gentle",
    "stormy",
    "quiet",
    "vast",
    "neon",
    "golden",
    "sunset",
    "forest",
    "river",
    "city",
    "cathedral",
    "desert",
    "harbour",
    "meadow",
    "subway",
    "glacier",
    "rain",
    "midnight",
    "stars",
    "sea",
    "cave",
    "slow",
    "fast",
    "minor",
    "drums",
    "echo",
    "bass",
    "piano",
    "strings",
    "drone",
    "lofi",
    "jazz",
    "ambient",
    "calm",
    "tense",
    "hopeful",
]


def _queries(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 9))) for _ in range(n)]


def _import_ms(repeats: int = 3) -> tuple[float, float]:
    """Fresh-interpreter cost of ``import latentscore.models.minilm`` (best of ``repeats``):
    the whole import including the ``latentscore`` package, and the module's own
    self time from ``-X importtime`` (what it adds on top of the package)."""
    wall, own = [], []
    for _ in range(repeats):
        proc = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-c",
                "import time; t = time.perf_counter(); import latentscore.models.minilm; "
                "print((time.perf_counter() - t) * 1e3)",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        wall.append(float(proc.stdout.strip()))
        for line in proc.stderr.splitlines():
            if line.rstrip().endswith("latentscore.models.minilm"):
                own.append(int(line.split(":")[1].split("|")[0]) / 1e3)
    return min(wall), min(own) if own else float("nan")


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()

    whole, own = _import_ms()
    print(
        f"import latentscore.models.minilm: {whole:7.1f} ms "
        f"(self {own:.1f} ms; the rest is the latentscore package)"
    )

    from latentscore.models.halfgemm import Backend, native_available
    from latentscore.models.minilm import MiniLMEncoder, reference_encode

    queries = _queries(args.queries)
    batch = _queries(2000, seed=11)
    backends: list[Backend] = ["native", "numpy"] if native_available() else ["numpy"]
    encoders = {}
    for backend in backends:
        print(f"-- dense backend: {backend}")
        t0 = time.perf_counter()
        enc = encoders[backend] = MiniLMEncoder.load(dense=backend)
        print(f"load:                            {(time.perf_counter() - t0) * 1e3:7.1f} ms")
        for q in queries[:10]:
            enc.encode(q)
        times = []
        for q in queries:
            t0 = time.perf_counter()
            enc.encode(q)
            times.append(time.perf_counter() - t0)
        p50, p99 = _percentile(times, 50) * 1e3, _percentile(times, 99) * 1e3
        print(f"single query:                    p50 {p50:.2f} ms  p99 {p99:.2f} ms")
        t0 = time.perf_counter()
        enc.encode(batch)
        rate = len(batch) / (time.perf_counter() - t0)
        print(f"batch throughput:                {rate:7.0f} texts/s")

    if args.no_reference:
        return
    sample = [*queries[:100], "", "a", "CAFÉ AU LAIT!!", "雨の夜の東京 🌧️", "drone " * 400]
    ref = reference_encode(sample)
    for backend, enc in encoders.items():
        ours = enc.encode(sample)
        cos = np.sum(ours * ref, axis=1)
        print(
            f"{backend:>6} vs sentence-transformers: min cosine {cos.min():.7f}  "
            f"max |diff| {np.abs(ours - ref).max():.2e}  (n={len(sample)})"
        )
    ref_times = []
    for q in queries[:50]:
        t0 = time.perf_counter()
        reference_encode(q)
        ref_times.append(time.perf_counter() - t0)
    print(f"sentence-transformers single:    p50 {statistics.median(ref_times) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
