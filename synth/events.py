"""NoteEvent: the unit the score produces and everything downstream consumes.

The same events drive the voices, go out as MIDI / OSC, and are written to Standard MIDI
Files, so an event carries only musical facts (time in beats, pitch, velocity, duration,
layer) plus the sample position the engine scheduled it at.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """One note of one layer.

    Attributes:
        layer: ``bass`` | ``pad`` | ``melody`` | ``rhythm`` | ``texture`` | ``accent``.
        start_beat: onset in beats from the start of the piece (after humanisation).
        duration_beats: gate length in beats (the voice's release tail may ring longer).
        pitch: MIDI note number (float for microtonal voices; rhythm uses General MIDI drum
            numbers: 36 kick, 38 snare, 42 closed hat, ...). Unpitched textures use the
            centre of their band.
        velocity: 0..1.
        start_sample: absolute sample index of the onset (filled in by the engine).
        voice: optional voice hint within the layer style (e.g. ``"kick"``, ``"ornament"``).
    """

    layer: str
    start_beat: float
    duration_beats: float
    pitch: float
    velocity: float
    start_sample: int = 0
    voice: str = field(default="")

    @property
    def midi_pitch(self) -> int:
        return max(0, min(127, round(self.pitch)))

    @property
    def midi_velocity(self) -> int:
        return max(1, min(127, round(self.velocity * 127)))
