"""ToneFilter: the master lowpass that ``brightness`` (and ``motion``) steer.

A 12 dB/oct resonant-free lowpass (RBJ biquad, Q 0.707) with its state carried across
quanta. The cutoff may change every sub-block; coefficients are recomputed only when it does.
Running ``lfilter`` over a sub-block with carried state keeps the output continuous when the
cutoff moves, and moving in steps of at most 1/24 octave (sub-blocks down to 2048 samples) keeps
sweeps free of zipper noise.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synth.dsp import biquad_coeffs, filter_block
from synth.params import SAMPLE_RATE

SUB_BLOCK = 2048


class ToneFilter:
    """``sub_block``: the shortest stretch filtered with one cutoff while it moves (a live
    engine's small quanta use short ones, so a fast knob still steps in 1/24 octaves)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, sub_block: int = SUB_BLOCK) -> None:
        self.sample_rate = sample_rate
        self.sub_block = sub_block
        self._zi = np.zeros(2)
        self._cutoff = -1.0
        self._ba: tuple[NDArray[np.float64], NDArray[np.float64]] = biquad_coeffs("lowpass", 1000.0)

    def _coeffs(self, cutoff: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if abs(cutoff - self._cutoff) > 1e-3 * cutoff:
            self._cutoff = cutoff
            self._ba = biquad_coeffs("lowpass", cutoff, 0.707, self.sample_rate)
        return self._ba

    def process(self, x: NDArray[np.float32], cutoff_start: float, cutoff_end: float) -> NDArray:
        """Filter one block, moving the cutoff geometrically from start to end across it."""
        n = x.shape[0]
        moved_oct = abs(np.log2(cutoff_end / cutoff_start))
        if moved_oct <= 0.02:
            b, a = self._coeffs(cutoff_end)
            y, self._zi = filter_block(b, a, x, self._zi)
            return y.astype(np.float32)
        out = np.empty(n, dtype=np.float32)
        # one coefficient step per 1/24 octave of movement, at most one per sub-block
        steps = int(min(max(1, n // self.sub_block), max(1, np.ceil(moved_oct * 24))))
        for k in range(steps):
            lo, hi = k * n // steps, (k + 1) * n // steps
            f = cutoff_start * (cutoff_end / cutoff_start) ** ((k + 1) / steps)
            b, a = self._coeffs(f)
            out[lo:hi], self._zi = filter_block(b, a, x[lo:hi], self._zi)
        return out
