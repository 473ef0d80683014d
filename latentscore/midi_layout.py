"""Where each layer lives in MIDI: one channel and one General MIDI program per layer.

Shared by the Standard MIDI File writer (:mod:`latentscore.midi_file`) and, later, the
bridge's live MIDI output, so a DAW template built for one works for the other. Channels
are given 1-based, the way musicians and DAWs count; ``rhythm`` uses channel 10 so General
MIDI instruments treat it as drums.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerMidi:
    """MIDI placement of one layer.

    Attributes:
        channel: 1-based MIDI channel (1..16).
        program: 0-based General MIDI program sent at the start of the track, or ``None``
            for the drum channel, where programs select kits rather than instruments.
    """

    channel: int
    program: int | None

    @property
    def channel_index(self) -> int:
        """0-based channel, as mido and the MIDI wire format count."""
        return self.channel - 1


LAYER_MIDI: dict[str, LayerMidi] = {
    "bass": LayerMidi(channel=1, program=38),  # Synth Bass 1
    "pad": LayerMidi(channel=2, program=89),  # Pad 2 (warm)
    "melody": LayerMidi(channel=3, program=81),  # Lead 2 (sawtooth)
    "rhythm": LayerMidi(channel=10, program=None),  # GM drums
    "texture": LayerMidi(channel=5, program=94),  # Pad 7 (halo)
    "accent": LayerMidi(channel=6, program=14),  # Tubular Bells
}

# Fallback for layers added after this table (kept off the drum channel).
DEFAULT_LAYER_MIDI = LayerMidi(channel=16, program=None)


def layer_midi(layer: str) -> LayerMidi:
    """The MIDI placement of ``layer`` (unknown layers share channel 16)."""
    return LAYER_MIDI.get(layer, DEFAULT_LAYER_MIDI)
