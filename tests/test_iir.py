"""synth.iir must match scipy.signal.lfilter and keep scipy.signal out of the render path."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import lfilter as scipy_lfilter

from synth import iir
from synth.dsp import biquad_coeffs


@pytest.mark.parametrize("kind", ["lowpass", "highpass", "bandpass"])
def test_matches_scipy_with_and_without_state(kind: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(5000)
    b, a = biquad_coeffs(kind, 1234.0, 0.9)
    np.testing.assert_allclose(iir.lfilter(b, a, x), scipy_lfilter(b, a, x), atol=1e-12)
    # carried state across two blocks equals one pass
    zi = np.zeros(2)
    y1, zi = iir.lfilter(b, a, x[:1700], zi=zi)
    y2, _ = iir.lfilter(b, a, x[1700:], zi=zi)
    np.testing.assert_allclose(np.concatenate((y1, y2)), scipy_lfilter(b, a, x), atol=1e-12)


def test_unnormalised_denominator_is_normalised() -> None:
    x = np.random.default_rng(2).standard_normal(300)
    b, a = [0.2, 0.4], [2.0, -0.5]
    np.testing.assert_allclose(iir.lfilter(b, a, x), scipy_lfilter(b, a, x), atol=1e-12)


def test_fast_path_is_active() -> None:
    assert iir._RAW is not None, "scipy's _sigtools could not be loaded directly"


def test_rendering_does_not_import_scipy_signal() -> None:
    code = (
        "import sys; import latentscore as ls;"
        "ls.render(ls.MusicConfig(density=6, rhythm='electronic', texture='glitch',"
        " accent='bells'), duration=2, seed=1);"
        "bad = [m for m in sys.modules if m == 'scipy.signal' or m.startswith('scipy.stats')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
