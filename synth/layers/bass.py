"""Bass layer styles (MIDI register about 28..52): the harmonic floor of every config."""

from __future__ import annotations

import numpy as np

from synth import dsp
from synth.events import NoteEvent
from synth.layers.base import BarContext, LayerStyle, VoiceContext


class Drone(LayerStyle):
    """Tonic held across two bars, soft sine + a little 2nd/3rd harmonic, slow swell.

    The drone ignores chord changes on purpose (it is the pedal under the harmony) and
    re-articulates only every second bar, with overlapping envelopes so it never gaps.
    """

    layer = "bass"
    name = "drone"
    gain = 1.0

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        if ctx.bar % 2:
            return []
        pitch = ctx.scale.pitch(0, 2)
        return [self.note(ctx, 0.0, 2 * ctx.beats_per_bar, pitch, 0.8 + 0.1 * ctx.rng.random())]

    def render(self, event: NoteEvent, vctx: VoiceContext) -> dsp.F32:
        p = vctx.params
        freq = dsp.midi_to_hz(event.pitch)
        gate = vctx.gate_samples(event)
        n = gate + dsp.samples(2.5)
        tone = dsp.osc("soft", freq, n, cutoff_hz=p.cutoff_hz * 0.5, max_harmonics=6)
        env = dsp.adsr(n, 1.2 * p.attack_scale, 1.0, 0.85, 2.5, gate)
        return (event.velocity * tone * env).astype(np.float32)


STYLES: dict[str, type[LayerStyle]] = {"drone": Drone}
