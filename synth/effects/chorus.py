"""Chorus: the ``stereo`` control rendered in mono as an ensemble of slowly drifting copies.

The output contract is mono, so "width" becomes what a wide stereo image is made of: two
delayed copies whose delay times wobble out of phase (a few ms), mixed with the dry signal.
That thickens pads and melodies the way detuned unison voices do. Feed-forward only, so the
delayed reads come from a short history buffer and need no recursion. The delay LFOs are
evaluated once per quantum edge and swept linearly across the quantum (they run below 1 Hz,
so 46 ms linear segments are exact to well under a sample).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from synth.dsp import ramp
from synth.params import SAMPLE_RATE

_BASE_MS = 7.0
_RATES_HZ = (0.37,)


class Chorus:
    """``process(x, depth_ms)`` consumes one quantum and returns the wet (delayed) signal."""

    def __init__(self, quantum: int, sample_rate: int = SAMPLE_RATE) -> None:
        self.quantum = quantum
        self.sample_rate = sample_rate
        self._hist = int((_BASE_MS + 10.0) * 1e-3 * sample_rate) + 4
        self._buf = np.zeros(self._hist + quantum, dtype=np.float32)
        self._t = 0

    def _delay_samples(self, k: int, sample: int, depth_ms: float) -> float:
        phase = 2 * math.pi * _RATES_HZ[k] * (sample / self.sample_rate) + k * math.pi
        return (_BASE_MS + 0.5 * depth_ms * (1.0 + math.sin(phase))) * self.sample_rate * 1e-3

    def process(self, x: NDArray[np.float32], depth_ms: float) -> NDArray[np.float32]:
        q = self.quantum
        buf = self._buf
        buf[: self._hist] = buf[q : q + self._hist]
        buf[self._hist :] = x
        t0 = self._t
        self._t += q
        if depth_ms <= 0.0:
            return np.zeros(q, dtype=np.float32)
        r = ramp(q)
        wet = np.zeros(q, dtype=np.float32)
        for k in range(len(_RATES_HZ)):
            d0 = self._delay_samples(k, t0, depth_ms)
            d1 = self._delay_samples(k, t0 + q, depth_ms)
            pos = r * np.float32(1.0 - (d1 - d0) / q) + np.float32(self._hist - d0)
            i = pos.astype(np.int64)
            frac = pos - i
            a = buf[i]
            wet += a + (buf[i + 1] - a) * frac
        return wet
