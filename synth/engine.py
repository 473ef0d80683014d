"""TEMPORARY STUB (being replaced by the real engine): same public API."""
from __future__ import annotations
import numpy as np
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE, SynthParams

class Engine:
    def __init__(self, params: SynthParams, seed: int = 0, sample_rate: int = SAMPLE_RATE) -> None:
        self.params = params.clamped(); self.seed = seed; self.sample_rate = sample_rate
        self.position = 0; self._events: list[NoteEvent] = []
    def set_params(self, params: SynthParams) -> None:
        self.params = params.clamped()
    def render(self, n_samples: int) -> np.ndarray:
        t = (self.position + np.arange(n_samples)) / self.sample_rate
        spb = 60.0 / self.params.bpm
        beat0 = int(np.ceil(self.position / self.sample_rate / spb))
        beat1 = int(np.ceil((self.position + n_samples) / self.sample_rate / spb))
        for b in range(beat0, beat1):
            self._events.append(NoteEvent("bass", float(b), 1.0, 48.0, 0.8, int(b * spb * self.sample_rate)))
        self.position += n_samples
        return (0.2 * np.sin(2 * np.pi * 220 * t) * (1 + self.seed % 3)).astype(np.float32)
    def drain_events(self) -> list[NoteEvent]:
        ev, self._events = self._events, []
        return ev
