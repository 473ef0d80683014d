"""Output dynamics: a slow loudness leveller and a look-ahead peak limiter.

LoudnessLeveller keeps every config near the same perceived level (target -18 LUFS, the
integrated loudness of BS.1770). It measures K-weighted power on an 8x-decimated side chain
(cheap; K-weighting's shelf sits well below the decimated Nyquist), integrates it over
several seconds, ignores near-silence (like BS.1770's absolute gate) and moves the gain
slowly, so it evens out configs (a sparse drone vs a dense kit) without pumping notes.

PeakLimiter guarantees the sample ceiling (-1.5 dBFS, which keeps 4x-oversampled true peak
under -0.5 dBTP). It looks ahead one 64-sample sub-block: the gain at each sub-block edge is
the lowest any neighbouring sub-block needs, ramps linearly inside a sub-block (so gain
changes never click), and releases at a bounded rate. The release recursion
``b[j] = min(m[j], b[j-1] + r)`` is solved for a whole quantum at once with a running
minimum: ``b[j] = j*r + min_{i<=j}(m[i] - i*r)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synth.dsp import filter_block, ramp
from synth.params import SAMPLE_RATE

TARGET_LUFS = -18.0
CEILING_DBFS = -1.5
_DECIMATE = 8
_SUB = 64


def _k_weighting(fs: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BS.1770 K-weighting (high shelf + RLB highpass) as one 4th-order filter at ``fs``."""
    # Stage 1: high shelf, f0 1681.97 Hz, +4.0 dB, Q 0.7072 (RBJ form).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    a_lin = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / fs
    alpha = np.sin(w0) / (2 * q)
    cw = np.cos(w0)
    sq = 2 * np.sqrt(a_lin) * alpha
    b1 = np.array(
        [
            a_lin * ((a_lin + 1) + (a_lin - 1) * cw + sq),
            -2 * a_lin * ((a_lin - 1) + (a_lin + 1) * cw),
            a_lin * ((a_lin + 1) + (a_lin - 1) * cw - sq),
        ]
    )
    a1 = np.array(
        [
            (a_lin + 1) - (a_lin - 1) * cw + sq,
            2 * ((a_lin - 1) - (a_lin + 1) * cw),
            (a_lin + 1) - (a_lin - 1) * cw - sq,
        ]
    )
    # Stage 2: highpass, f0 38.14 Hz, Q 0.5003.
    f1, q1 = 38.13547087602444, 0.5003270373238773
    w1 = 2 * np.pi * f1 / fs
    al1 = np.sin(w1) / (2 * q1)
    c1 = np.cos(w1)
    b2 = np.array([(1 + c1) / 2, -(1 + c1), (1 + c1) / 2])
    a2 = np.array([1 + al1, -2 * c1, 1 - al1])
    b = np.convolve(b1 / a1[0], b2 / a2[0])
    a = np.convolve(a1 / a1[0], a2 / a2[0])
    return b, a


class LoudnessLeveller:
    """Slow automatic gain toward TARGET_LUFS.

    ``initial_gain`` is the engine's static estimate for the config (from its layer levels),
    so the first seconds are already close; measurement then refines it. ``gain_for(x)``
    measures one quantum and returns the per-sample gain ramp to apply to it.
    """

    def __init__(self, quantum: int, initial_gain: float = 1.0, sample_rate: int = SAMPLE_RATE):
        self.quantum = quantum
        self.sample_rate = sample_rate
        self._b, self._a = _k_weighting(sample_rate / _DECIMATE)
        self._zi = np.zeros(max(len(self._a), len(self._b)) - 1)
        self._target_ms = 10 ** ((TARGET_LUFS + 0.691) / 10)
        self._gain = float(initial_gain)
        self._power = self._target_ms / max(self._gain, 1e-3) ** 2
        self._elapsed = 0.0

    def gain_for(self, x: NDArray[np.float32]) -> NDArray[np.float32] | np.float32:
        """The gain for this quantum: a per-sample ramp, or a scalar when it holds still."""
        q = self.quantum
        y, self._zi = filter_block(self._b, self._a, x[::_DECIMATE], self._zi)
        power = float(np.dot(y, y)) / max(1, y.size)
        dt = q / self.sample_rate
        self._elapsed += dt
        if power > 1e-9:  # absolute gate (about -90 LKFS): silence does not pull the gain up
            tau = 2.0 if self._elapsed < 8.0 else 8.0  # settle early, then stay put (no pumping)
            self._power += (1.0 - np.exp(-dt / tau)) * (power - self._power)
        want = min(8.0, max(0.125, float(np.sqrt(self._target_ms / self._power))))
        start = self._gain
        self._gain = start + (want - start) * (1.0 - float(np.exp(-dt / 0.7)))
        if abs(self._gain - start) < 1e-3 * start:  # under 0.01 dB: hold it, no ramp needed
            return np.float32(self._gain)
        return (start + (self._gain - start) * (ramp(q) / np.float32(q))).astype(np.float32)


class PeakLimiter:
    """Look-ahead brickwall limiter; adds 64 samples of latency; ``process`` takes one quantum."""

    def __init__(self, quantum: int, sample_rate: int = SAMPLE_RATE) -> None:
        if quantum % _SUB:
            raise ValueError("quantum must be a multiple of 64")
        self.quantum = quantum
        self.ceiling = np.float32(10 ** (CEILING_DBFS / 20))
        self._tail = np.zeros(_SUB, dtype=np.float32)
        self._prev_target = 1.0
        self._prev_gain = 1.0
        release = _SUB / (0.25 * sample_rate)  # full recovery in about 250 ms
        k = quantum // _SUB
        self._release_ramp = np.arange(k + 1) * release
        self._t = np.empty(k + 1)
        self._v = np.empty(k + 1)
        self._starts = np.empty(k)
        self._frac = (np.arange(_SUB, dtype=np.float32) / np.float32(_SUB))[None, :]

    def process(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        q = self.quantum
        k = q // _SUB
        peaks = np.abs(x).reshape(k, _SUB).max(axis=1)
        delayed = np.concatenate((self._tail, x[:-_SUB]))
        self._tail = x[-_SUB:].copy()
        if self._prev_gain >= 1.0 and float(peaks.max()) <= self.ceiling:
            # nothing to limit (the usual case, the leveller keeps levels sane): pass through
            self._prev_target = min(1.0, float(self.ceiling / max(float(peaks[-1]), 1e-9)))
            return delayed
        # t[j]: gain allowed in delayed sub-block j (delayed j holds input sub-block j-1)
        t = self._t
        t[0] = self._prev_target
        np.divide(self.ceiling, np.maximum(peaks, 1e-9), out=t[1:])
        np.minimum(t, 1.0, out=t)
        # v[0] = previous end gain; v[j+1] = limit for the end of delayed sub-block j
        v = self._v
        v[0] = self._prev_gain
        np.minimum(t[:-1], t[1:], out=v[1:])
        v -= self._release_ramp
        ends = np.minimum.accumulate(v)[1:] + self._release_ramp[1:]
        np.minimum(ends, 1.0, out=ends)
        starts = self._starts
        starts[0] = self._prev_gain
        starts[1:] = ends[:-1]
        gain = (starts[:, None] + (ends - starts)[:, None] * self._frac).ravel()
        self._prev_target = float(t[-1])
        self._prev_gain = float(ends[-1])
        out = delayed * gain
        np.minimum(out, self.ceiling, out=out)
        np.maximum(out, -self.ceiling, out=out)
        return out
