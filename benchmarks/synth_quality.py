"""Synth audio-quality figures against the targets in shared/bench/README.md.

Prints: the ordinal-field table (feature value per label, monotone or not), style
distinctness per layer (closest pair, its distance, near-identical pairs), loudness, true
peak and click ratio of the reference configs, and the in-key ratio per mode. The same
experiments back ``tests/test_synth_quality.py`` (see ``benchmarks/_common.py``).

Run from the repo root: ``python benchmarks/synth_quality.py`` (a few minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    IN_KEY_CASES,
    MIN_IN_KEY,
    MIN_STYLE_DISTANCE,
    MODE_NAMES,
    ORDINAL_EXPERIMENTS,
    SR,
    in_key_config,
    in_key_ratio_of,
    load_reference_configs,
    measure_ordinal,
    render,
    strictly_monotone,
    style_report,
)
from latentscore.config import LAYERS
from synth.analysis import click_ratio
from synth.loudness import integrated_loudness, true_peak_dbtp


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def ordinal_section() -> int:
    """Print the monotonicity table; return how many fields are monotone."""
    print("== Ordinal fields (seed-averaged; the first feature of each field is the target)")
    monotone = 0
    for exp in ORDINAL_EXPERIMENTS:
        values = measure_ordinal(exp, list(exp.features))
        print(f"{exp.field} ({', '.join(str(label) for label in exp.labels)})")
        for name, vals in values.items():
            direction = exp.direction if name == exp.primary else 0
            if direction:
                ok = strictly_monotone(vals, direction)
                monotone += ok
                mark = ("rising" if direction > 0 else "falling") + (
                    " ok" if ok else " NOT MONOTONE"
                )
            else:
                mark = "(info)"
            print(f"  {name:<34} {' '.join(f'{_fmt(v):>8}' for v in vals)}   {mark}")
    print(f"monotone: {monotone}/{len(ORDINAL_EXPERIMENTS)}  (target: all)")
    return monotone


def style_section() -> int:
    """Print per-layer style distinctness; return the number of near-identical pairs."""
    print()
    print(f"== Style distinctness (target: no near-identical pair, closest > {MIN_STYLE_DISTANCE})")
    print(f"{'layer':<8} {'styles':>6} {'closest pair':<36} {'distance':>8} {'near-identical':>14}")
    total = 0
    for layer in LAYERS:
        report = style_report(layer)
        (a, b), dist = report.closest
        total += len(report.near_identical_pairs)
        print(
            f"{layer:<8} {len(report.labels):>6} {a + ' / ' + b:<36} {dist:>8.2f} "
            f"{len(report.near_identical_pairs):>14}"
        )
        shown = report.near_identical_pairs[:5]
        more = len(report.near_identical_pairs) - len(shown)
        if shown:
            pairs = ", ".join(f"{a}/{b}" for a, b in shown)
            print(f"         near-identical: {pairs}" + (f" (+{more} more)" if more else ""))
    print(f"near-identical pairs: {total}")
    return total


def reference_section() -> None:
    print()
    print("== Reference configs, 30 s renders (targets: spread <= 3 LU, <= -0.5 dBTP, clicks <= 4)")
    print(f"{'config':<22} {'LUFS':>7} {'dBTP':>7} {'click':>7}")
    loud, peaks, clicks = [], [], []
    for name, cfg in load_reference_configs().items():
        x = render(cfg, 30.0, seed=0)
        loud.append(integrated_loudness(x, SR))
        peaks.append(true_peak_dbtp(x, SR))
        clicks.append(click_ratio(x))
        print(f"{name:<22} {loud[-1]:>7.2f} {peaks[-1]:>7.2f} {clicks[-1]:>7.2f}")
    print(
        f"loudness spread {max(loud) - min(loud):.2f} LU, true peak max {max(peaks):.2f} dBTP, "
        f"click ratio max {max(clicks):.2f}"
    )


def in_key_section() -> None:
    print()
    roots = ", ".join(root for root, _ in IN_KEY_CASES)
    print(f"== In-key ratio, 55 Hz-2 kHz (roots {roots}; target >= {MIN_IN_KEY} for every mode)")
    for mode in MODE_NAMES:
        ratios = [in_key_ratio_of(in_key_config(mode, root, s)) for root, s in IN_KEY_CASES]
        print(f"{mode:<11} min {min(ratios):.3f}   " + "  ".join(f"{r:.3f}" for r in ratios))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=("ordinal", "style", "reference", "key"),
        action="append",
        help="run only these sections (repeatable)",
    )
    args = parser.parse_args()
    sections = {
        "ordinal": ordinal_section,
        "style": style_section,
        "reference": reference_section,
        "key": in_key_section,
    }
    start = time.perf_counter()
    for name, fn in sections.items():
        if not args.only or name in args.only:
            fn()
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
