"""LayerStyle: the contract between the engine and one style of one layer.

A style is both a *score generator* (``bar``: which notes to play in the next bar, from the
chord, the params and a seeded RNG) and a *voice* (``render``: the samples of one note). The
engine owns time: it asks each active style for one bar of events ahead of the playhead,
humanises their timing, renders them and mixes them into the layer's bus. Styles keep musical
memory between bars (motifs, contour, position in a pattern), so music evolves phrase by
phrase instead of looping.

Rules every style follows:

* Pitched events stay in key: build pitches with ``ctx.scale`` / ``ctx.chord`` only.
* Times are in beats (``ctx.start_beat`` + offset within ``ctx.beats_per_bar``); everything
  is therefore tempo-aware.
* ``render`` returns float32 samples starting at the onset, including the release tail,
  peak amplitude about ``event.velocity`` (the engine applies layer gain, filters, effects).
* Randomness only from ``ctx.rng`` (score) / ``vctx.rng`` (voice): same seed, same music.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from synth.dsp import F32
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE, SynthParams
from synth.theory import Chord, Scale


@dataclass(frozen=True)
class BarContext:
    """What a score generator knows when it writes one bar."""

    bar: int
    start_beat: float
    beats_per_bar: int
    chord: Chord
    next_chord: Chord
    scale: Scale
    params: SynthParams
    rng: np.random.Generator
    seconds_per_beat: float

    @property
    def phrase_bar(self) -> int:
        """Position inside an 8-bar phrase (0..7); phrase ends invite cadences and fills."""
        return self.bar % 8


@dataclass(frozen=True)
class VoiceContext:
    """What a voice knows when it renders one note."""

    params: SynthParams
    rng: np.random.Generator
    seconds_per_beat: float
    sample_rate: int = SAMPLE_RATE

    def gate_samples(self, event: NoteEvent) -> int:
        return max(1, int(event.duration_beats * self.seconds_per_beat * self.sample_rate))


class LayerStyle(ABC):
    """One style of one layer. Subclasses set ``layer``/``name`` and implement both methods.

    Attributes:
        gain: level trim so styles of a layer sit at a similar loudness.
        reverb_send / echo_send: how much of this style feeds the shared reverb / echo,
            relative to the amounts set by ``space`` / ``echo``.
    """

    layer: str = ""
    name: str = ""
    gain: float = 1.0
    reverb_send: float = 1.0
    echo_send: float = 1.0

    @abstractmethod
    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        """Events for the bar starting at ``ctx.start_beat`` (absolute beats)."""

    @abstractmethod
    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        """Samples of one event, from onset through its release tail."""

    def note(
        self,
        ctx: BarContext,
        offset_beats: float,
        duration_beats: float,
        pitch: float,
        velocity: float,
        voice: str = "",
    ) -> NoteEvent:
        """Convenience: an event of this layer at ``offset_beats`` into the bar."""
        return NoteEvent(
            layer=self.layer,
            start_beat=ctx.start_beat + offset_beats,
            duration_beats=duration_beats,
            pitch=float(pitch),
            velocity=float(min(1.0, max(0.0, velocity))),
            voice=voice,
        )


class Silent(LayerStyle):
    """The ``none`` style: no events."""

    name = "none"

    def __init__(self, layer: str) -> None:
        self.layer = layer

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        return []

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        return np.zeros(1, dtype=np.float32)


def bar_contexts(
    params: SynthParams,
    degrees: list[int],
    rng: np.random.Generator,
    beats_per_bar: int = 4,
) -> list[BarContext]:
    """Contexts for ``len(degrees) - 1`` consecutive bars whose chords follow ``degrees``.

    For scoring a style outside the engine (auditions, tests): bar ``i`` plays chord
    ``degrees[i]`` and sees ``degrees[i + 1]`` as its next chord.
    """
    scale = Scale(params.root, params.mode)
    spb = 60.0 / params.bpm
    return [
        BarContext(
            bar=bar,
            start_beat=float(beats_per_bar * bar),
            beats_per_bar=beats_per_bar,
            chord=Chord(degrees[bar], scale),
            next_chord=Chord(degrees[bar + 1], scale),
            scale=scale,
            params=params,
            rng=rng,
            seconds_per_beat=spb,
        )
        for bar in range(len(degrees) - 1)
    ]


def audition(
    style: LayerStyle,
    params: SynthParams,
    seconds: float,
    seed: int = 0,
    root_degree_cycle: tuple[int, ...] = (0, 5, 3, 4),
) -> F32:
    """Render a style alone, dry, for development checks (no engine, no effects).

    Chords cycle through ``root_degree_cycle`` one per bar. Used by layer tests and by
    developers to hear / measure one style in isolation.
    """
    rng = np.random.default_rng(seed)
    spb = 60.0 / params.bpm
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n + 30 * SAMPLE_RATE, dtype=np.float32)
    vctx = VoiceContext(params=params, rng=rng, seconds_per_beat=spb)
    bars = int(np.ceil(seconds / (4 * spb)))
    cyc = root_degree_cycle
    degrees = [cyc[i % len(cyc)] for i in range(bars + 1)]
    for ctx in bar_contexts(params, degrees, rng):
        for ev in style.bar(ctx):
            start = round(ev.start_beat * spb * SAMPLE_RATE)
            if start >= n:
                continue
            sig = style.render(ev, vctx)[: out.size - start]
            out[start : start + sig.size] += sig
    return out[:n]
