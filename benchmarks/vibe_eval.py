"""How well the fast model maps text to the fields a prompt asks for.

Reads every ``*.jsonl`` in the evaluation folder (default ``../shared/eval`` next to the
repo; ``--eval-dir`` to point elsewhere). Each line has ``prompt`` and ``expected_fields``.
Prints, per field: exact accuracy, within-one-step accuracy for ordered fields, and the
expected accuracy of a random-label baseline; then per file, overall, and the misses.

    python benchmarks/vibe_eval.py [--eval-dir DIR] [--model fast] [--k 16 --tau 0.1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from latentscore.config import FIELDS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"


def load_prompts(directory: Path) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                item["_file"] = path.name
                items.append(item)
    return items


def random_baseline(field: str) -> tuple[float, float]:
    """Expected exact and within-one accuracy of picking a label uniformly at random."""
    n = len(FIELDS[field].labels)
    if not FIELDS[field].ordered:
        return 1 / n, 1 / n
    within = sum(min(i + 1, n - 1) - max(i - 1, 0) + 1 for i in range(n)) / (n * n)
    return 1 / n, within


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--model", default="fast")
    parser.add_argument("--k", type=int, default=None)
    parser.add_argument("--tau", type=float, default=None)
    parser.add_argument("--cue-weight", type=float, default=None)
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    args = parser.parse_args(argv)
    if not args.eval_dir.is_dir():
        print(f"no evaluation folder at {args.eval_dir}; pass --eval-dir", file=sys.stderr)
        return 2
    items = load_prompts(args.eval_dir)

    from dataclasses import replace

    from latentscore.models.base import resolve_model

    model = resolve_model(args.model)
    overrides = {
        k: v
        for k, v in (("k", args.k), ("tau", args.tau), ("cue_weight", args.cue_weight))
        if v is not None
    }
    if overrides:
        model.settings = replace(model.settings, **overrides)  # type: ignore[attr-defined]

    exact: dict[str, list[bool]] = defaultdict(list)
    within: dict[str, list[bool]] = defaultdict(list)
    per_file: dict[str, list[bool]] = defaultdict(list)
    controllability: list[bool] = []
    misses: list[str] = []
    t0 = time.perf_counter()
    for item in items:
        expected = dict(item.get("expected_fields") or {})  # type: ignore[call-overload]
        if not expected:
            continue
        config = model.generate(str(item["prompt"])).config.model_dump()
        for field, want in expected.items():
            spec = FIELDS[field]
            got = config[field]
            ok = got == want
            exact[field].append(ok)
            per_file[str(item["_file"])].append(ok)
            if item.get("category") == "controllability":
                controllability.append(ok)
            if spec.ordered:
                within[field].append(abs(spec.index(got) - spec.index(want)) <= 1)
            if not ok:
                misses.append(f"  {item['prompt']!r}: {field} expected {want}, got {got}")
    elapsed = time.perf_counter() - t0

    def pct(xs: list[bool]) -> str:
        return f"{100 * sum(xs) / len(xs):5.1f}%" if xs else "   - "

    print(f"vibe eval: model={args.model}  prompts from {args.eval_dir}")
    print(f"{'field':<12}{'n':>4}  {'exact':>6}  {'within1':>7}  {'random':>6}  {'rand±1':>6}")
    all_checks: list[bool] = []
    for field in FIELDS:
        if field not in exact:
            continue
        r_exact, r_within = random_baseline(field)
        w = pct(within[field]) if FIELDS[field].ordered else "   - "
        print(
            f"{field:<12}{len(exact[field]):>4}  {pct(exact[field]):>6}  {w:>7}  "
            f"{100 * r_exact:5.1f}%  {100 * r_within:5.1f}%"
        )
        all_checks += exact[field]
    print("per file:")
    for name, xs in sorted(per_file.items()):
        print(f"  {name:<28}{len(xs):>4}  {pct(xs)}")
    n_ctrl = len(controllability)
    print(f"controllability exact: {pct(controllability)} ({sum(controllability)}/{n_ctrl})")
    print(f"overall exact:         {pct(all_checks)} ({sum(all_checks)}/{len(all_checks)})")
    n = len(all_checks)
    print(f"time per prompt: {1000 * elapsed / max(1, n):.1f} ms")
    if misses and not args.quiet:
        print("misses:")
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
