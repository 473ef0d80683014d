"""Audio-quality targets from shared/bench/README.md, measured on engine renders.

Ordinal fields move their feature monotonically, style labels are distinct, pitched output
stays in key, reference renders are loudness-matched, peak-safe and click-free, and every
label of every field audibly changes the render. Experiment definitions (base configs,
features, thresholds) live in ``benchmarks/_common.py`` and are shared with
``benchmarks/synth_quality.py``, which prints the same figures as tables.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks._common import (
    IN_KEY_CASES,
    LABEL_CHANGE_BASE,
    LABEL_CHANGE_SECONDS,
    MIN_IN_KEY,
    MIN_LABEL_DIFFERENCE,
    MIN_STYLE_DISTANCE,
    MODE_NAMES,
    ORDINAL_BY_FIELD,
    ORDINAL_EXPERIMENTS,
    SR,
    OrdinalExperiment,
    in_key_config,
    in_key_ratio_of,
    load_reference_configs,
    measure_ordinal,
    relative_difference,
    render,
    render_with_events,
    strictly_monotone,
    style_report,
)
from latentscore.config import FIELDS, LAYERS
from synth.analysis import click_ratio
from synth.loudness import integrated_loudness, true_peak_dbtp

REFS = load_reference_configs()
REFERENCE_SECONDS = 30.0


@pytest.fixture(scope="module")
def reference_renders() -> dict[str, np.ndarray]:
    return {name: render(cfg, REFERENCE_SECONDS, seed=0) for name, cfg in REFS.items()}


# --- ordinal fields --------------------------------------------------------------------------
@pytest.mark.parametrize("exp", ORDINAL_EXPERIMENTS, ids=lambda exp: exp.field)
def test_ordinal_field_moves_its_feature_monotonically(exp: OrdinalExperiment) -> None:
    values = measure_ordinal(exp)[exp.primary]
    table = ", ".join(f"{label}={v:.4g}" for label, v in zip(exp.labels, values, strict=True))
    trend = "rise" if exp.direction > 0 else "fall"
    assert strictly_monotone(values, exp.direction), f"{exp.primary} should {trend}: {table}"


def test_density_adds_layers_in_order() -> None:
    exp = ORDINAL_BY_FIELD["density"]
    for density in exp.labels:
        _, events = render_with_events(exp.config(density), 20, seed=0)
        assert {e.layer for e in events} == set(LAYERS[: int(density)]), f"density {density}"


# --- styles ----------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", LAYERS)
def test_styles_of_a_layer_are_distinct(layer: str) -> None:
    report = style_report(layer)
    assert not report.near_identical_pairs, f"{layer}: near-identical {report.near_identical_pairs}"
    (a, b), distance = report.closest
    assert distance > MIN_STYLE_DISTANCE, f"{layer}: {a} vs {b} distance {distance:.2f}"


# --- key -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODE_NAMES)
def test_pitched_output_stays_in_key(mode: str) -> None:
    for root, styles in IN_KEY_CASES:
        ratio = in_key_ratio_of(in_key_config(mode, root, styles))
        assert ratio >= MIN_IN_KEY, f"{root} {mode} {styles}: in-key ratio {ratio:.3f}"


# --- level, peaks, clicks --------------------------------------------------------------------
def test_reference_loudness_spread_within_3_lu(reference_renders: dict[str, np.ndarray]) -> None:
    loudness = {name: integrated_loudness(x, SR) for name, x in reference_renders.items()}
    assert all(np.isfinite(v) for v in loudness.values()), loudness
    spread = max(loudness.values()) - min(loudness.values())
    assert spread <= 3.0, {k: round(v, 2) for k, v in loudness.items()}


def test_reference_true_peak_below_minus_half_dbtp(
    reference_renders: dict[str, np.ndarray],
) -> None:
    for name, x in reference_renders.items():
        assert true_peak_dbtp(x, SR) <= -0.5, name


def test_reference_renders_do_not_click(reference_renders: dict[str, np.ndarray]) -> None:
    for name, x in reference_renders.items():
        assert click_ratio(x) <= 4.0, f"{name}: click ratio {click_ratio(x):.2f}"


# --- every label matters ---------------------------------------------------------------------
LABEL_CASES = [
    (name, label)
    for name, spec in FIELDS.items()
    for label in spec.labels
    if label != getattr(LABEL_CHANGE_BASE, name)
]


@pytest.fixture(scope="module")
def label_base_render() -> np.ndarray:
    return render(LABEL_CHANGE_BASE, LABEL_CHANGE_SECONDS, seed=0)


@pytest.mark.parametrize(("name", "label"), LABEL_CASES, ids=[f"{n}={v}" for n, v in LABEL_CASES])
def test_every_label_changes_the_sound(
    name: str, label: str | int, label_base_render: np.ndarray
) -> None:
    changed = render(LABEL_CHANGE_BASE.with_(**{name: label}), LABEL_CHANGE_SECONDS, seed=0)
    diff = relative_difference(changed, label_base_render)
    assert diff >= MIN_LABEL_DIFFERENCE, f"{name}={label}: relative RMS difference {diff:.4f}"
