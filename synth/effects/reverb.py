"""ReverbTail: early reflections plus an 8-line feedback delay network whose tail really decays.

Late tail (after Jot's FDN): eight delay lines of mutually prime lengths, a Householder
feedback matrix (lossless, dense mixing, O(N) to apply), a per-line gain that sets the T60
decay time, and a gentle two-tap lowpass in the loop so high frequencies die first, as in
real rooms. Early reflections: four feed-forward taps (7..38 ms) that give the first
impression of a room before the tail builds up.

Speed: every line is at least one network step long, so a whole step of every line is one
vector operation (the step is 4096 samples, or the engine quantum when that is shorter: a
live engine steps in device-sized blocks so ``space`` answers at once) — a line's output
for this step was written by the loop at least one step ago. All lines share one 2-D ring;
line ``i`` writes ``len_i`` samples ahead of the common read position, so reading all lines
is one slice. The network runs at half the sample rate
(pairs averaged in, linear interpolation out): tails carry little above 11 kHz and the loop
filter darkens them anyway (early reflections are tapped at the half rate too). State
persists across blocks, so renders pulled in any block size are identical.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synth.effects.ring import ring_write
from synth.params import SAMPLE_RATE

# half-rate samples (22.05 kHz): 93..204 ms, mutually prime; the step is 2048 half-rate samples
LINE_LENGTHS = np.array([2053, 2357, 2671, 2999, 3319, 3697, 4073, 4493], dtype=np.int64)
_HALF_STEP = 2048
_DENORMAL_GUARD = np.float32(1e-18)  # -360 dB: inaudible, but far above float32 subnormals
# early reflections: (delay ms, gain) — sparse, decaying, alternating polarity
EARLY_TAPS = ((7.1, 0.6), (13.7, -0.5), (23.3, 0.38), (37.9, -0.26))


class ReverbTail:
    """``process(x)`` takes one engine quantum of send signal per call.

    The quantum is a multiple of 4096 samples (the network steps 4096 at a time) or a power of
    two from 64 to 2048 (the network steps one quantum at a time).
    """

    def __init__(self, quantum: int, sample_rate: int = SAMPLE_RATE) -> None:
        small = quantum < 2 * _HALF_STEP and quantum >= 64 and quantum & (quantum - 1) == 0
        if not small and quantum % (2 * _HALF_STEP):
            raise ValueError(
                f"quantum must be a multiple of {2 * _HALF_STEP} or a power of two >= 64, "
                f"got {quantum}"
            )
        self.quantum = quantum
        self._half_step = min(_HALF_STEP, quantum // 2)
        self.sample_rate = sample_rate
        self._half_rate = sample_rate / 2
        size = 1
        while size < int(LINE_LENGTHS.max()) + 2 * _HALF_STEP:
            size *= 2
        self._size = size
        n = len(LINE_LENGTHS)
        self._buf = np.zeros((n, size), dtype=np.float32)
        self._pos = 0
        self._last = np.zeros(n, dtype=np.float32)
        self._prev_out = np.float32(0.0)
        self._signs = np.array([1.0, -1.0] * (n // 2), dtype=np.float32)
        self._mix = np.zeros((n, n + 1), dtype=np.float32)  # loop matrix, input column last
        self._u = np.zeros((n + 1, self._half_step), dtype=np.float32)
        self._in_gain = np.float32(1.0)
        self._write_starts = [int(length) for length in LINE_LENGTHS]
        self._er_delays = [int(ms * 1e-3 * self._half_rate) for ms, _ in EARLY_TAPS]
        self._er_gains = [np.float32(g) for _, g in EARLY_TAPS]
        self._er_hist = max(self._er_delays)
        self._er_buf = np.zeros(self._er_hist + self._half_step, dtype=np.float32)
        self._t60 = -1.0
        self._damp = -1.0
        self.set_decay(2.0, 0.3)

    def set_decay(self, t60: float, damping: float) -> None:
        """Decay time in seconds to -60 dB (mid frequencies) and loop damping 0..0.5."""
        damping = float(min(0.5, max(0.0, damping)))
        if abs(t60 - self._t60) < 1e-4 and abs(damping - self._damp) < 1e-4:
            return
        self._t60, self._damp = t60, damping
        n = len(LINE_LENGTHS)
        g = 10.0 ** (-3.0 * LINE_LENGTHS / (self._half_rate * max(t60, 0.05)))
        # Householder reflection (I - 2/N 11^T) after each line's decay gain, plus the input
        # column: the whole loop update is one small matrix product per step.
        householder = np.eye(n) - 2.0 / n
        self._mix[:, :n] = householder * g[None, :]
        self._mix[:, n] = self._signs
        # tail energy grows like 1 / (1 - g^2): scale the input so every T60 has similar energy
        self._in_gain = np.float32(np.sqrt(1.0 - float(np.mean(g**2))))

    def process(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """One engine quantum in, one out (the network steps 4096 samples at a time at most)."""
        step = 2 * self._half_step
        if x.shape[0] == step:
            return self._step(x)
        return np.concatenate([self._step(x[i : i + step]) for i in range(0, x.shape[0], step)])

    def _step(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        q = self._half_step
        xin = (x[0::2] + x[1::2]) * (np.float32(0.5) * self._in_gain)
        s = self._pos % self._size
        lines = self._buf[:, s : s + q]  # every line's output for this step (never wraps)
        # loop lowpass y[n] = (1-d) v[n] + d v[n-1], decay gain folded into c0/c1
        # (out-of-place: numpy's in-place adds on shifted 2-D slices are slow)
        # loop lowpass u[n] = (1-d) v[n] + d v[n-1], computed into the rows of _u whose last
        # row carries the input; then feedback = _mix @ _u (gains, Householder, input at once)
        u = self._u
        n = len(LINE_LENGTHS)
        d = np.float32(self._damp)
        prev = np.concatenate((self._last[:, None], lines[:, :-1]), axis=1)
        np.multiply(lines, np.float32(1.0) - d, out=u[:n])
        prev *= d
        u[:n] += prev
        u[n] = xin
        u[n] += _DENORMAL_GUARD  # keeps decaying tails out of (very slow) subnormal floats
        self._last = lines[:, -1].copy()
        feedback = self._mix @ u
        buf, size = self._buf, self._size
        for i, start in enumerate(self._write_starts):
            w = (self._pos + start) % size
            if w + q <= size:
                buf[i, w : w + q] = feedback[i]
            else:
                ring_write(buf[i], w, feedback[i])
        self._pos += q
        half = (self._signs * np.float32(0.35)) @ lines + self._early(xin)
        out = np.empty(2 * q, dtype=np.float32)
        out[1::2] = half
        out[0] = (self._prev_out + half[0]) * np.float32(0.5)
        out[2::2] = (half[:-1] + half[1:]) * np.float32(0.5)
        self._prev_out = half[-1]
        return out

    def _early(self, xin: NDArray[np.float32]) -> NDArray[np.float32]:
        """Early reflections of the (half-rate, tail-normalised) input, at full strength."""
        buf, h, n = self._er_buf, self._er_hist, xin.shape[0]
        buf[:h] = buf[n : n + h]
        buf[h:] = xin
        scale = np.float32(0.35) / self._in_gain  # early taps are not tail-normalised
        d0 = self._er_delays[0]
        out = buf[h - d0 : h - d0 + n] * (self._er_gains[0] * scale)
        for d, g in zip(self._er_delays[1:], self._er_gains[1:], strict=True):
            out += buf[h - d : h - d + n] * (g * scale)
        return out
