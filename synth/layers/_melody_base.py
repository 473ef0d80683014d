"""Shared machinery of the melody styles: rhythm cells, motifs and the phrase engine.

Split from :mod:`synth.layers.melody` (which documents how melodies think) so the style
families can live in modules of a readable size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.dsp import F32
from synth.events import NoteEvent
from synth.layers._pitched import (
    Osc,
    Struck,
    chord_degree_set,
    degree_bounds,
    fold_degree,
    nearest_degree,
)
from synth.layers.base import BarContext, LayerStyle, VoiceContext

# One-bar rhythm cells for 4/4: (offset, duration) in beats.
CELLS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((0.0, 1.0), (1.0, 1.0), (2.0, 2.0)),
    ((0.0, 1.5), (1.5, 0.5), (2.0, 2.0)),
    ((0.0, 0.5), (0.5, 0.5), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)),
    ((0.0, 2.0), (2.0, 1.0), (3.0, 1.0)),
    ((0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 2.0)),
    ((0.5, 0.5), (1.0, 1.0), (2.0, 1.5), (3.5, 0.5)),
    ((0.0, 1.0), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)),
)


@dataclass
class Motif:
    """A rhythm and the scale steps between its notes (first step is from the anchor)."""

    rhythm: tuple[tuple[float, float], ...]
    steps: tuple[int, ...]

    def inverted(self) -> Motif:
        return Motif(self.rhythm, (self.steps[0], *(-s for s in self.steps[1:])))

    def rerhythmed(self, rng: np.random.Generator) -> Motif:
        """Same contour, new rhythm (steps recycled or trimmed to fit the new cell)."""
        cell = CELLS[int(rng.integers(len(CELLS)))]
        steps = tuple(self.steps[i % len(self.steps)] for i in range(len(cell)))
        return Motif(cell, steps)

    def mutated(self, rng: np.random.Generator) -> Motif:
        """One interval nudged by a step: the motif stays recognisable but moves on."""
        steps = list(self.steps)
        i = int(rng.integers(1, len(steps))) if len(steps) > 1 else 0
        steps[i] += int(rng.choice([-1, 1]))
        return Motif(self.rhythm, tuple(steps))


def random_motif(rng: np.random.Generator, leap: float = 0.2) -> Motif:
    cell = CELLS[int(rng.integers(len(CELLS)))]
    choices = [-1, 1, -2, 2, 0, 3, -3]
    probs = np.array([0.3, 0.3, 0.12, 0.12, 0.06, leap / 2, leap / 2])
    steps = rng.choice(choices, size=len(cell), p=probs / probs.sum())
    return Motif(cell, (0, *(int(s) for s in steps[1:])))


Note = tuple[float, float, int, float, str]  # offset, duration, degree, velocity, voice


class _Melody(LayerStyle):
    """Shared phrase machinery; subclasses implement :meth:`compose` and pick a timbre."""

    layer = "melody"
    lo, hi = 62, 86
    timbre: Osc | Struck

    def __init__(self) -> None:
        self._deg: int | None = None
        self._motif: Motif | None = None

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        return self.timbre.render(event, vctx)

    # --- helpers --------------------------------------------------------------------------
    def bounds(self, ctx: BarContext) -> tuple[int, int]:
        return degree_bounds(ctx.scale, self.lo, self.hi)

    def current(self, ctx: BarContext) -> int:
        d_lo, d_hi = self.bounds(ctx)
        if self._deg is None:
            self._deg = nearest_degree((d_lo + d_hi) // 2, chord_degree_set(ctx.chord))
        return fold_degree(self._deg, d_lo, d_hi)

    def keep_in(self, deg: int, ctx: BarContext) -> int:
        """Reflect a degree that left the register back inside (contour turns around)."""
        d_lo, d_hi = self.bounds(ctx)
        if deg > d_hi:
            deg = 2 * d_hi - deg
        if deg < d_lo:
            deg = 2 * d_lo - deg
        return fold_degree(deg, d_lo, d_hi)

    def play_motif(
        self, ctx: BarContext, motif: Motif, anchor: int, vel: float = 0.7, snap: bool = True
    ) -> list[Note]:
        """Notes of a motif from ``anchor``; downbeat notes snap to chord tones."""
        chord = chord_degree_set(ctx.chord)
        out: list[Note] = []
        deg = anchor
        for (off, dur), step in zip(motif.rhythm, motif.steps, strict=True):
            deg = self.keep_in(deg + step, ctx)
            if snap and off in (0.0, 2.0):
                deg = self.keep_in(nearest_degree(deg, chord, step), ctx)
            accent = 1.0 if off == 0.0 else (0.9 if off == 2.0 else 0.8)
            out.append((off, dur, deg, vel * accent + 0.08 * ctx.rng.random(), ""))
        return out

    def cadence(self, ctx: BarContext, start: float = 0.0, length: float = 3.0) -> list[Note]:
        """A held chord tone (root preferred) near the current degree, then silence."""
        deg = self.current(ctx)
        target = nearest_degree(deg, {ctx.chord.degree % 7})
        if abs(target - deg) > 2:
            target = nearest_degree(deg, chord_degree_set(ctx.chord))
        return [(start, length, self.keep_in(target, ctx), 0.72, "")]

    def compose(self, ctx: BarContext) -> list[Note]:
        raise NotImplementedError

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        notes = self.compose(ctx)
        bpb = ctx.beats_per_bar
        out = []
        for off, dur, deg, vel, voice in notes:
            if bpb != 4:  # rhythms are written in 4/4; squeeze them into other metres
                off, dur = off * bpb / 4.0, dur * bpb / 4.0
            if off >= bpb:
                continue
            pitch = ctx.scale.pitch(deg, 4)
            out.append(self.note(ctx, off, max(0.1, dur), pitch, vel, voice))
        if notes:
            self._deg = notes[-1][2]
        return out


# --- styles ---------------------------------------------------------------------------------
