"""Rhythm layer styles: drum patterns written bar by bar, voiced by cached drum one-shots.

Each style is a *player*, not a loop: a base groove with per-bar decisions under ``ctx.rng``
(ghost notes, dropped hits, pickups, fills at phrase ends, crashes on phrase starts), so two
bars are rarely identical and eight-bar phrases breathe. Events carry General MIDI drum
numbers as pitch and the drum sound as ``voice`` (see :mod:`synth.layers._drums`); timing
and velocity humanisation is left to the engine.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from synth import dsp
from synth.events import NoteEvent
from synth.layers import _drums
from synth.layers.base import BarContext, LayerStyle, VoiceContext

_HIT_BEATS = 0.25  # gate length of a drum hit (MIDI note length; the sound rings on)


class DrumKit(LayerStyle):
    """Shared voice for all rhythm styles: every event is one cached drum strike."""

    layer = "rhythm"
    reverb_send = 0.45
    echo_send = 0.25

    def hit(
        self, ctx: BarContext, offset: float, voice: str, velocity: float, dur: float = _HIT_BEATS
    ) -> NoteEvent:
        return self.note(ctx, offset, dur, _drums.VOICES[voice].gm, velocity, voice)

    def render(self, event: NoteEvent, vctx: VoiceContext) -> dsp.F32:
        voice = _drums.voice_for(event.pitch, event.voice)
        return _drums.strike(voice, event.velocity, vctx.params, vctx.rng)


def _chance(ctx: BarContext, p: float) -> bool:
    return bool(ctx.rng.random() < p)


def _phrase_start(ctx: BarContext) -> bool:
    return ctx.phrase_bar == 0 and ctx.bar > 0


class Minimal(DrumKit):
    """A kick on the one and one or two side-stick clicks: pulse without a groove.

    Sparse on purpose (2-4 hits a bar): the rim moves between a few off-centre spots each
    bar, the kick sometimes answers itself, and the phrase end adds a pickup.
    """

    name = "minimal"
    gain = 2.13

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        ev: list[NoteEvent] = []
        if ctx.bar % 4 != 3 or _chance(ctx, 0.6):
            ev.append(self.hit(ctx, 0.0, "kick", 0.85))
        spots = [b + 0.5 for b in range(bpb - 1)] + [float(b) for b in range(2, bpb)]
        k = 1 + int(_chance(ctx, 0.35))
        for s in ctx.rng.choice(spots, size=min(k, len(spots)), replace=False):
            ev.append(self.hit(ctx, float(s), "rim", 0.5 + 0.15 * ctx.rng.random()))
        if _chance(ctx, 0.3):
            ev.append(self.hit(ctx, bpb - 1.5, "kick", 0.55))
        if ctx.phrase_bar == 7:
            ev.append(self.hit(ctx, bpb - 0.25, "rim", 0.4))
        return ev


class Heartbeat(DrumKit):
    """Lub-dub on every beat: a deep thump and a shorter, higher echo a third of a beat later.

    The heart rests at slow tempos and races at fast ones; the pressure swells and relaxes
    over each phrase, and now and then a beat comes softer (or skips) like a real pulse.
    """

    name = "heartbeat"
    gain = 1.87
    reverb_send = 0.3
    echo_send = 0.15

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        ev: list[NoteEvent] = []
        swell = 0.82 + 0.12 * np.sin(2 * np.pi * (ctx.bar % 8) / 8.0)
        for b in range(ctx.beats_per_bar):
            if _chance(ctx, 0.04):
                continue  # a skipped beat
            v = swell * (0.7 if _chance(ctx, 0.12) else 1.0)
            ev.append(self.hit(ctx, float(b), "lub", v))
            ev.append(self.hit(ctx, b + 0.3, "dub", 0.7 * v))
        return ev


class SoftFour(DrumKit):
    """A soft felt kick on every beat and a shaker on every offbeat: gentle four-on-the-floor.

    The shaker picks up 16th ghosts here and there, the last kick of a phrase drops out to
    let a shaker pickup through, so the pulse stays steady but never mechanical.
    """

    name = "soft_four"
    gain = 1.54

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        ev: list[NoteEvent] = []
        bpb = ctx.beats_per_bar
        drop_last = ctx.phrase_bar == 7 and _chance(ctx, 0.6)
        for b in range(bpb):
            if not (drop_last and b == bpb - 1):
                ev.append(self.hit(ctx, float(b), "kick_soft", 0.9 if b == 0 else 0.75))
            ev.append(self.hit(ctx, b + 0.5, "shaker", 0.5 + 0.1 * (b % 2)))
            for s in (0.25, 0.75):
                if _chance(ctx, 0.18):
                    ev.append(self.hit(ctx, b + s, "shaker", 0.25))
        if drop_last:
            ev.append(self.hit(ctx, bpb - 0.25, "shaker", 0.4))
        return ev


class HatsOnly(DrumKit):
    """Just the hi-hat: 8ths or 16ths with open-hat accents and a pedal chick, no kick/snare.

    Every two bars the player picks 8ths or 16ths; accents fall on the offbeats, the open
    hat breathes on the 'and' of the last beat (and sometimes elsewhere), ghosts drop out.
    """

    name = "hats_only"
    gain = 2.03

    def __init__(self) -> None:
        self._sixteenths = False

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        if ctx.bar % 2 == 0:
            self._sixteenths = _chance(ctx, 0.45)
        bpb = ctx.beats_per_bar
        opens = {bpb - 0.5} if _chance(ctx, 0.65) else set()
        if _chance(ctx, 0.25):
            opens.add(float(ctx.rng.integers(bpb - 1)) + 0.5)
        ev: list[NoteEvent] = []
        step = 0.25 if self._sixteenths else 0.5
        for i in range(int(bpb / step)):
            pos = i * step
            if pos in opens:
                ev.append(self.hit(ctx, pos, "hat_open", 0.7))
                continue
            if pos % 1.0 == 0.0:
                v = 0.6
            elif pos % 0.5 == 0.0:
                v = 0.75
            else:
                v = 0.38
                if _chance(ctx, 0.15):
                    continue
            ev.append(self.hit(ctx, pos, "hat_closed", v))
        for b in range(1, bpb, 2):
            if _chance(ctx, 0.7):
                ev.append(self.hit(ctx, float(b), "hat_pedal", 0.45))
        return ev


class Electronic(DrumKit):
    """909-style house kit: boomy kick on every beat, clap on 2 and 4, driving 16th hats.

    Hats are accented on the offbeat 8ths with open hats sprinkled in; ghost kicks, clap
    flams and a clap roll into the phrase end, and a crash on phrase starts.
    """

    name = "electronic"
    gain = 1.07
    reverb_send = 0.35

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        ev: list[NoteEvent] = []
        fill = ctx.phrase_bar == 7
        for b in range(bpb):
            ev.append(self.hit(ctx, float(b), "kick909", 0.8))
            if b % 2 == 1:
                ev.append(self.hit(ctx, float(b), "clap", 0.65))
        if _chance(ctx, 0.25):
            ev.append(self.hit(ctx, bpb - 0.25, "kick909", 0.5))
        open_spots = {b + 0.5 for b in range(bpb) if _chance(ctx, 0.22)}
        for i in range(bpb * 4):
            pos = i * 0.25
            if pos in open_spots:
                ev.append(self.hit(ctx, pos, "hat_open", 0.55))
                continue
            v = 0.7 if pos % 1.0 == 0.5 else (0.45 if pos % 1.0 == 0.0 else 0.3)
            if v < 0.35 and _chance(ctx, 0.12):
                continue
            ev.append(self.hit(ctx, pos, "hat_closed", v))
        if fill:
            for k, s in enumerate((bpb - 0.75, bpb - 0.5, bpb - 0.25)):
                ev.append(self.hit(ctx, s, "clap", 0.45 + 0.12 * k))
        elif _chance(ctx, 0.2):
            ev.append(self.hit(ctx, 1.75, "clap", 0.35))
        if _phrase_start(ctx) and _chance(ctx, 0.6):
            ev.append(self.hit(ctx, 0.0, "crash", 0.45))
        return ev


class KitLight(DrumKit):
    """Brushed-back acoustic kit in half time: kick on 1, rim or snare on 3, ride 8ths.

    The ride carries the time (quarters leaning on the bow, a cup hit at phrase starts),
    the kick sometimes anticipates, and rare ghost notes keep it human.
    """

    name = "kit_light"
    gain = 1.23

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        ev = [self.hit(ctx, 0.0, "kick", 0.8)]
        if _chance(ctx, 0.3):
            ev.append(self.hit(ctx, 2.5 if bpb > 3 else 1.5, "kick", 0.55))
        back = min(2, bpb - 1)
        ev.append(self.hit(ctx, float(back), "snare" if _chance(ctx, 0.3) else "rim", 0.7))
        for i in range(bpb * 2):
            pos = i * 0.5
            if i == 0 and _phrase_start(ctx):
                ev.append(self.hit(ctx, pos, "ride_bell", 0.6))
                continue
            ev.append(self.hit(ctx, pos, "ride", 0.55 if i % 2 == 0 else 0.4))
        for i in range(bpb * 4):
            if i % 4 and _chance(ctx, 0.06):
                ev.append(self.hit(ctx, i * 0.25, "snare", 0.15))
        if _chance(ctx, 0.4):
            ev.append(self.hit(ctx, float(bpb - 1), "hat_pedal", 0.35))
        return ev


class KitMedium(DrumKit):
    """Acoustic pop/rock kit: kick 1 and 3 plus a syncopated extra, snare 2 and 4, 8th hats.

    Ghost notes on the snare, an open hat into the next bar, tom fills on the last bar of each
    8-bar phrase and a crash on the downbeat after them.
    """

    name = "kit_medium"
    gain = 1.37

    _FILLS = (
        ("snare", "snare", "tom_high", "tom_high", "tom_mid", "tom_mid", "tom_low", "tom_low"),
        ("tom_high", "tom_high", "tom_mid", "tom_mid", "tom_low", "tom_low", "snare", "snare"),
        ("snare", "tom_high", "snare", "tom_mid", "snare", "tom_low", "snare", "snare"),
    )

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        fill = ctx.phrase_bar == 7
        fill_from = float(max(0, bpb - 2)) if fill else float(bpb)
        ev = [self.hit(ctx, 0.0, "kick", 0.9)]
        if bpb > 2:
            ev.append(self.hit(ctx, 2.0, "kick", 0.8))
        if _chance(ctx, 0.7):
            sync = float(ctx.rng.choice([1.5, 2.5, 0.75, 3.5]))
            if sync < fill_from:
                ev.append(self.hit(ctx, sync, "kick", 0.6))
        for b in range(1, bpb, 2):
            if b < fill_from:
                ev.append(self.hit(ctx, float(b), "snare", 0.85))
        for i in range(bpb * 4):
            pos = i * 0.25
            if pos < fill_from and i % 2 and _chance(ctx, 0.1):
                ev.append(self.hit(ctx, pos, "snare", 0.18))
        open_last = _chance(ctx, 0.3) and not fill
        for i in range(bpb * 2):
            pos = i * 0.5
            if pos >= fill_from:
                break
            if open_last and pos == bpb - 0.5:
                ev.append(self.hit(ctx, pos, "hat_open", 0.55))
            else:
                ev.append(self.hit(ctx, pos, "hat_closed", 0.6 if i % 2 == 0 else 0.42))
        if fill:
            pattern = self._FILLS[int(ctx.rng.integers(len(self._FILLS)))]
            for k, voice in enumerate(pattern):
                pos = fill_from + 0.25 * k
                if pos < bpb and not (k in (3, 5) and _chance(ctx, 0.3)):
                    ev.append(self.hit(ctx, pos, voice, 0.55 + 0.05 * k))
        if _phrase_start(ctx):
            ev.append(self.hit(ctx, 0.0, "crash", 0.5))
        return ev


class Military(DrumKit):
    """Field drum march: snare rudiments (16th rolls, flams, drags, triplets) over a bass drum
    on 1 and 3.

    Each beat picks a rudiment, accents fall on the beat, the phrase end is a crescendo
    roll, and the bass drum is the big slack concert drum.
    """

    name = "military"
    gain = 1.45

    # rudiment -> (offset in beats, velocity) strokes within one beat
    _RUDIMENTS: ClassVar[dict[str, tuple[tuple[float, float], ...]]] = {
        "sixteenths": ((0.0, 0.60), (0.25, 0.28), (0.5, 0.40), (0.75, 0.28)),
        "flam_tap": ((-0.04, 0.20), (0.0, 0.64), (0.5, 0.34)),
        "drag": ((-0.125, 0.20), (-0.0625, 0.22), (0.0, 0.60)),
        "triplet": ((0.0, 0.56), (1 / 3, 0.30), (2 / 3, 0.34)),
        "press": tuple((k / 8, 0.34 if k == 0 else 0.19) for k in range(8)),
        "quarter": ((0.0, 0.58),),
    }
    _WEIGHTS: ClassVar[dict[str, float]] = {
        "sixteenths": 0.26,
        "flam_tap": 0.22,
        "drag": 0.1,
        "triplet": 0.14,
        "press": 0.1,
        "quarter": 0.18,
    }

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        ev: list[NoteEvent] = []
        for b in range(0, bpb, 2):
            ev.append(self.hit(ctx, float(b), "bass_drum", 0.75 if b == 0 else 0.6))
        names = list(self._WEIGHTS)
        probs = np.array([self._WEIGHTS[k] for k in names])
        if ctx.phrase_bar == 7:
            for k in range(bpb * 4):
                ev.append(self.hit(ctx, k * 0.25, "military_snare", 0.2 + 0.45 * k / (bpb * 4)))
            return ev
        for b in range(bpb):
            rud = (
                "flam_tap" if b == 0 and _chance(ctx, 0.5) else str(ctx.rng.choice(names, p=probs))
            )
            for off, vel in self._RUDIMENTS[rud]:
                pos = b + off
                if pos >= 0.0:
                    ev.append(self.hit(ctx, pos, "military_snare", vel))
        if _phrase_start(ctx) and _chance(ctx, 0.4):
            ev.append(self.hit(ctx, 0.0, "crash", 0.55))
        return ev


class TablaEssence(DrumKit):
    """Tabla playing teental (16 beats over 4 bars) with the dayan tuned to the tonic.

    Theka: dha dhin dhin dha | dha dhin dhin dha | dha tin tin ta | ta dhin dhin dha. The khali
    (empty) third bar mostly drops the bass drum (tin, ta); beats get split into fillers
    (dha-te, te-te-ke-te), and some cycles end in a three-fold flourish landing on sam.
    """

    name = "tabla_essence"
    gain = 1.70
    reverb_send = 0.55

    _THEKA = (
        ("dha", "dhin", "dhin", "dha"),
        ("dha", "dhin", "dhin", "dha"),
        ("dha", "tin", "tin", "na"),
        ("na", "dhin", "dhin", "dha"),
    )
    _FLOURISH = (
        (0.0, "te", 0.5), (0.25, "te", 0.4), (0.5, "ke", 0.45), (0.75, "te", 0.45),
        (1.0, "dha", 0.85), (1.5, "te", 0.45), (1.75, "te", 0.45),
        (2.0, "dha", 0.9), (2.5, "te", 0.45), (2.75, "te", 0.45), (3.0, "dha", 1.0),
    )  # fmt: skip

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        cycle_bar = ctx.bar % 4
        khali = cycle_bar == 2
        ev: list[NoteEvent] = []
        if cycle_bar == 3 and ctx.beats_per_bar == 4 and _chance(ctx, 0.35):
            return [self.hit(ctx, off, bol, v) for off, bol, v in self._FLOURISH]
        theka = self._THEKA[cycle_bar]
        for b in range(ctx.beats_per_bar):
            bol = theka[b % 4]
            v = 1.0 if (cycle_bar == 0 and b == 0) else (0.8 if b == 0 else 0.68)
            r = ctx.rng.random()
            if r < 0.12:  # te re ki te: a quick run of closed strokes fills the beat
                run = ("te", "te", "ke", "te") if not khali else ("te", "te", "na", "te")
                for k, stroke in enumerate(run):
                    ev.append(self.hit(ctx, b + 0.25 * k, stroke, v if k == 0 else 0.42))
                continue
            ev.append(self.hit(ctx, float(b), bol, v))
            if r < 0.4:  # split the beat: an offbeat filler stroke
                filler = str(ctx.rng.choice(["te", "na"] if khali else ["te", "ge", "na", "ke"]))
                ev.append(self.hit(ctx, b + 0.5, filler, 0.45))
            elif r < 0.5:
                ev.append(self.hit(ctx, b + 0.75, "te", 0.35))
        return ev


class Brush(DrumKit):
    """Jazz brushes: swishes on 2 and 4 and swung 8th taps, a feathered kick underneath.

    The swish is a slow-attack noise sweep (not a hit), the taps lean on the swing and thin
    out at random, and phrase ends add a longer sweep.
    """

    name = "brush"
    gain = 1.53
    reverb_send = 0.6

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        swing = 0.64 + 0.04 * ctx.rng.random()
        ev: list[NoteEvent] = []
        for b in range(bpb):
            if b % 2 == 1:
                ev.append(self.hit(ctx, b - 0.1, "brush_swish", 0.75, dur=0.5))
            elif _chance(ctx, 0.85):
                ev.append(self.hit(ctx, float(b), "brush_tap", 0.6))
            if _chance(ctx, 0.6):
                ev.append(self.hit(ctx, b + swing, "brush_tap", 0.4))
        if _chance(ctx, 0.6):
            ev.append(self.hit(ctx, 0.0, "brush_kick", 0.55))
        if ctx.phrase_bar == 7:
            ev.append(self.hit(ctx, bpb - 0.6, "brush_swish", 0.6, dur=0.5))
        return ev


STYLES: dict[str, type[LayerStyle]] = {
    cls.name: cls
    for cls in (
        Minimal,
        Heartbeat,
        SoftFour,
        HatsOnly,
        Electronic,
        KitLight,
        KitMedium,
        Military,
        TablaEssence,
        Brush,
    )
}
