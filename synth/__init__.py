"""synth: LatentScore's pure DSP and music layer (numpy + scipy only).

Public surface: :class:`synth.engine.Engine` (block-based pull renderer),
:class:`synth.params.SynthParams` (numeric controls) and :class:`synth.events.NoteEvent`.
This package never imports ``latentscore`` or ``bridge``, nor any ML or I/O library.
"""

from synth.events import NoteEvent
from synth.params import SAMPLE_RATE, SynthParams

__all__ = ["SAMPLE_RATE", "NoteEvent", "SynthParams"]
