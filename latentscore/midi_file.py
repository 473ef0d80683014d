"""Standard MIDI File export of a piece's note events.

One track per layer (named after the layer, on the layer's channel from
:mod:`latentscore.midi_layout`), plus a conductor track carrying the tempo. Event times are
in beats, so ticks are simply ``beat * ticks_per_beat``; the tempo meta event makes a DAW
play them back at the piece's BPM.

``mido`` is imported inside the functions so ``import latentscore`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from latentscore.atomic import atomic_target
from latentscore.midi_layout import layer_midi
from synth.events import NoteEvent
from synth.params import LAYERS

if TYPE_CHECKING:
    import mido

TICKS_PER_BEAT = 480
DEFAULT_BPM = 120.0


def estimate_bpm(notes: Sequence[NoteEvent], sample_rate: int) -> float | None:
    """Tempo implied by the notes' beat and sample positions (median), or ``None``.

    Used when the caller did not record the tempo; humanised onsets shift beats and samples
    together, so the ratio stays accurate.
    """
    ratios = sorted(
        60.0 * n.start_beat * sample_rate / n.start_sample
        for n in notes
        if n.start_sample > 0 and n.start_beat > 0
    )
    if not ratios:
        return None
    return ratios[len(ratios) // 2]


_PITCH_CLASSES = {
    "c": 0, "c#": 1, "db": 1, "d": 2, "d#": 3, "eb": 3, "e": 4, "f": 5, "f#": 6, "gb": 6,
    "g": 7, "g#": 8, "ab": 8, "a": 9, "a#": 10, "bb": 10, "b": 11,
}  # fmt: skip
_MAJOR_KEYS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_KEYS = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


def _layer_order(notes: Iterable[NoteEvent]) -> list[str]:
    present = {n.layer for n in notes}
    ordered = [layer for layer in LAYERS if layer in present]
    return ordered + sorted(present - set(ordered))


def _note_spans(notes: list[NoteEvent], tpb: int) -> list[tuple[int, int, int, int]]:
    """(on_tick, off_tick, pitch, velocity) per note, with same-pitch overlaps trimmed.

    MIDI cannot tell two sounding notes of the same pitch and channel apart, so a note is
    cut where the next one of the same pitch starts; every note-on then has exactly one
    matching note-off.
    """
    spans: list[tuple[int, int, int, int]] = []
    by_pitch: dict[int, list[NoteEvent]] = {}
    for note in notes:
        by_pitch.setdefault(note.midi_pitch, []).append(note)
    for pitch, group in by_pitch.items():
        group.sort(key=lambda n: n.start_beat)
        ticks = [(max(0, round(n.start_beat * tpb)), n) for n in group]
        for i, (on, note) in enumerate(ticks):
            off = on + max(1, round(note.duration_beats * tpb))
            if i + 1 < len(ticks):
                off = min(off, ticks[i + 1][0])
            if off <= on:  # two onsets on one tick: keep the later one only
                continue
            spans.append((on, off, pitch, note.midi_velocity))
    return spans


def key_signature(root: str, mode: str) -> str | None:
    """The SMF key signature (``"Eb"``, ``"F#m"``) nearest a root and mode: major-like
    modes (major, lydian, mixolydian) read as major, the rest as minor."""
    pc = _PITCH_CLASSES.get(root.strip().lower())
    if pc is None:
        return None
    minor = mode.strip().lower() not in ("major", "ionian", "lydian", "mixolydian")
    names = _MINOR_KEYS if minor else _MAJOR_KEYS
    return names[pc]


def build_midi_file(
    notes: Sequence[NoteEvent],
    bpm: float,
    ticks_per_beat: int = TICKS_PER_BEAT,
    *,
    end_beat: float | None = None,
    key: str | None = None,
) -> mido.MidiFile:
    """A type-1 :class:`mido.MidiFile` holding ``notes`` at ``bpm`` in 4/4.

    ``end_beat``: where the audio ends; every track ends there (notes sounding past it are
    released at it, none starts after it), so the file lines up with the audio in a DAW.
    ``key``: an SMF key name (see :func:`key_signature`) for the conductor track.
    """
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    end_tick = None if end_beat is None else max(0, round(end_beat * ticks_per_beat))
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("track_name", name="LatentScore", time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    if key is not None:
        conductor.append(mido.MetaMessage("key_signature", key=key, time=0))
    conductor.append(mido.MetaMessage("end_of_track", time=end_tick or 0))
    midi.tracks.append(conductor)

    for layer in _layer_order(notes):
        place = layer_midi(layer)
        channel = place.channel_index
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=layer, time=0))
        if place.program is not None:
            track.append(mido.Message("program_change", channel=channel, program=place.program))
        layer_notes = [n for n in notes if n.layer == layer]
        # (tick, order, message) - note-offs sort before note-ons on the same tick.
        timeline: list[tuple[int, int, mido.Message]] = []
        for on, off, pitch, velocity in _note_spans(layer_notes, ticks_per_beat):
            if end_tick is not None:
                if on >= end_tick:
                    continue
                off = min(off, end_tick)
            timeline.append(
                (on, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
            )
            timeline.append(
                (off, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0))
            )
        timeline.sort(key=lambda item: (item[0], item[1]))
        now = 0
        for tick, _, message in timeline:
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, (end_tick or now) - now)))
        midi.tracks.append(track)
    return midi


def write_midi_file(
    notes: Sequence[NoteEvent],
    path: str | os.PathLike[str],
    bpm: float,
    ticks_per_beat: int = TICKS_PER_BEAT,
    *,
    end_beat: float | None = None,
    key: str | None = None,
) -> None:
    """Write ``notes`` as a Standard MIDI File at ``path`` (atomically; see
    :func:`build_midi_file` for ``end_beat`` and ``key``)."""
    midi = build_midi_file(notes, bpm, ticks_per_beat, end_beat=end_beat, key=key)
    with atomic_target(path) as tmp:
        midi.save(str(tmp))
