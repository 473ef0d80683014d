"""Generated README sections: the config reference and the label -> engine mapping.

The tables are derived from :data:`latentscore.config.FIELDS` and the anchor constants in
:mod:`synth.params`, so the docs cannot drift from the code. They live between
``<!-- BEGIN GENERATED: name -->`` / ``<!-- END GENERATED: name -->`` comments in README.md.

Usage::

    python -m latentscore.docs            # rewrite README.md in place
    python -m latentscore.docs --check    # exit 1 if README.md is out of date (used by tests)
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import synth.params as synth_params
from latentscore.config import FIELDS

README = Path(__file__).resolve().parent.parent / "README.md"

# Unit suffix of an anchor constant's name -> (quantity label, number format).
_UNITS: dict[str, tuple[str, str]] = {
    "BPM": ("BPM", "{:g}"),
    "HZ": ("Hz", "{:g}"),
    "S": ("s", "{:g}"),
    "MS": ("ms", "{:g}"),
    "OCT": ("octaves", "{:g}"),
    "CENTS": ("cents", "{:g}"),
}


def config_reference_table() -> str:
    """Markdown table: every MusicConfig field, its kind, labels, default and meaning."""
    lines = [
        "| Field | Kind | Labels (low → high for ordered fields) | Default | What it does |",
        "|---|---|---|---|---|",
    ]
    for spec in FIELDS.values():
        labels = ", ".join(f"`{label}`" for label in spec.labels)
        lines.append(
            f"| `{spec.name}` | {spec.kind} | {labels} | `{spec.default}` | {spec.description} |"
        )
    return "\n".join(lines)


def _anchor_constants(field: str) -> list[tuple[str, tuple[float, ...]]]:
    prefix = f"{field.upper()}_"
    found = []
    for name in sorted(vars(synth_params)):
        value = getattr(synth_params, name)
        numeric = isinstance(value, tuple) and all(isinstance(v, int | float) for v in value)
        if name.startswith(prefix) and value and numeric:
            found.append((name, value))
    return found


def _describe(name: str, field: str) -> str:
    quantity = name[len(field) + 1 :]
    unit = quantity.rsplit("_", 1)[-1]
    if unit in _UNITS:
        words = quantity.rsplit("_", 1)[0].lower().replace("_", " ") if "_" in quantity else field
        return f"{words} ({_UNITS[unit][0]})"
    return quantity.lower().replace("_", " ")


def engine_mapping_table() -> str:
    """Markdown table: for each ordered field, the engine value each label lands on."""
    lines = [
        "| Field | Engine quantity (`synth.params` constant) | Value at each label |",
        "|---|---|---|",
    ]
    for field in synth_params.CONTINUOUS:
        spec = FIELDS[field]
        for name, values in _anchor_constants(field):
            if len(values) == len(spec.labels):
                cells = " · ".join(
                    f"{label} {value:g}" for label, value in zip(spec.labels, values, strict=True)
                )
            else:  # anchors spread evenly on 0..1 independently of the label count
                cells = " · ".join(f"{value:g}" for value in values) + " (evenly on 0..1)"
            lines.append(f"| `{field}` | {_describe(name, field)} (`{name}`) | {cells} |")
    layers = ", ".join(synth_params.LAYERS)
    lines.append(
        f"| `density` | active layers, in order {layers} | 2..6 (fractional values fade the "
        "next layer in) |"
    )
    return "\n".join(lines)


SECTIONS: dict[str, Callable[[], str]] = {
    "config-reference": config_reference_table,
    "engine-mapping": engine_mapping_table,
}


def _pattern(name: str) -> re.Pattern[str]:
    tag = re.escape(name)
    begin, end = rf"<!-- BEGIN GENERATED: {tag} -->\n", rf"<!-- END GENERATED: {tag} -->"
    return re.compile(rf"({begin}).*?({end})", re.DOTALL)


def render_readme(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, make in SECTIONS.items():
        pattern = _pattern(name)
        if not pattern.search(text):
            raise ValueError(f"README has no generated section {name!r}")
        body = make()
        text = pattern.sub(lambda m, body=body: f"{m.group(1)}{body}\n{m.group(2)}", text)  # type: ignore[misc]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the README tables.")
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    current = args.readme.read_text(encoding="utf-8")
    updated = render_readme(current)
    if args.check:
        if updated != current:
            print(f"{args.readme} is out of date; run: python -m latentscore.docs", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        args.readme.write_text(updated, encoding="utf-8")
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
