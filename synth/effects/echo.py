"""FeedbackEcho: a tempo-synced recirculating delay (dub/tape style).

Each repeat goes back through the loop, losing a little top end (two-tap lowpass) and level
(``feedback``), so repeats darken and fade like tape echo; ``feedback`` near 0.9 gives the
"infinite" setting's long trails. The delay is at least one quantum, so the loop runs one
vector operation per quantum. When the tempo moves, the read point crossfades from the old
delay time to the new one across one quantum instead of jumping (no click).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from synth.dsp import ramp
from synth.effects.ring import ring_read, ring_write
from synth.params import SAMPLE_RATE

MAX_DELAY_S = 2.5


class FeedbackEcho:
    """``process(x, delay_samples, feedback)`` consumes and returns one quantum."""

    def __init__(self, quantum: int, sample_rate: int = SAMPLE_RATE) -> None:
        self.quantum = quantum
        size = 1
        while size < int(MAX_DELAY_S * sample_rate) + 2 * quantum:
            size *= 2
        self._buf = np.zeros(size, dtype=np.float32)
        self._pos = 0
        self._delay = 0
        self._last = np.float32(0.0)

    def process(
        self, x: NDArray[np.float32], delay_samples: int, feedback: float
    ) -> NDArray[np.float32]:
        q = self.quantum
        delay = int(min(max(delay_samples, q), MAX_DELAY_S * SAMPLE_RATE))
        out = ring_read(self._buf, self._pos - delay, q)
        if self._delay and delay != self._delay:
            old = ring_read(self._buf, self._pos - self._delay, q)
            r = ramp(q) / np.float32(q)
            out = old + (out - old) * r
        self._delay = delay
        damped = out * np.float32(0.7)
        damped[1:] += np.float32(0.3) * out[:-1]
        damped[0] += np.float32(0.3) * self._last
        self._last = out[-1]
        # the tiny offset keeps a fading loop out of (very slow) subnormal floats; -360 dB
        ring_write(self._buf, self._pos, x + np.float32(feedback) * damped + np.float32(1e-18))
        self._pos += q
        return out
