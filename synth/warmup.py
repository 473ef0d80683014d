"""Warm the voices' caches before real-time use, so the first note of a style never stalls.

Voices cache what is expensive to build (band-limited wavetables per harmonic count,
envelope shapes, drum samples). Built on first use, they cost 10-40 ms per new style: fine
offline, but in a live engine a style change would then make one render block late and the
output drop out. :func:`warm_voices` renders one short audition of every style of every
layer at a dark, a medium and a bright setting (about 2 s of CPU once per process; later
calls return at once), which fills those caches.
"""

from __future__ import annotations

import threading

from synth.layers import STYLES, make_style
from synth.layers.base import audition
from synth.params import SynthParams

_lock = threading.Lock()
_done = False


def warm_voices(base: SynthParams) -> None:
    """Render every style briefly at three brightness settings (once per process)."""
    global _done
    with _lock:
        if _done:
            return
        for brightness in (0.0, 0.5, 1.0):
            params = base.with_values(brightness=brightness)
            for layer, styles in STYLES.items():
                for name in styles:
                    audition(make_style(layer, name), params, 2.0)
        _done = True
