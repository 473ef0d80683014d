"""Audio: rendered samples plus the notes that made them.

An :class:`Audio` is what :func:`latentscore.render` returns. It behaves like a numpy array
(``np.asarray(audio)`` is the float32 mono samples) and knows how to save itself as audio
(.wav / .flac / .ogg) or as a Standard MIDI File (.mid) of its note events, and how to play
itself. Heavy optional machinery (soundfile, mido, sounddevice) is imported on use.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from latentscore.audio_file import (
    MIDI_EXTENSIONS,
    write_audio_chunks,
)
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE


class Audio:
    """Float32 mono samples at ``sample_rate`` Hz, with the note events behind them.

    Attributes:
        samples: float32 array of shape ``(n,)``, values in [-1, 1].
        sample_rate: samples per second (44100 for everything the engine renders).
        notes: the note events whose onsets fall inside the audio, in onset order.
        seed: the random seed the piece was rendered with (``None`` if not rendered).
        tempo_bpm: the tempo the notes' beat positions refer to (``None`` if unknown).
        metadata: anything the producer wants to attach (``render`` stores a RenderInfo).
    """

    __slots__ = ("metadata", "notes", "sample_rate", "samples", "seed", "tempo_bpm")

    def __init__(
        self,
        samples: Any,
        sample_rate: int = SAMPLE_RATE,
        *,
        notes: Iterable[NoteEvent] = (),
        seed: int | None = None,
        tempo_bpm: float | None = None,
        metadata: object = None,
    ) -> None:
        arr = np.asarray(samples, dtype=np.float32)
        if arr.ndim != 1:
            raise ValueError(f"Audio expects mono samples of shape (n,), got shape {arr.shape}")
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.samples: np.ndarray = np.ascontiguousarray(arr)
        self.sample_rate: int = int(sample_rate)
        self.notes: tuple[NoteEvent, ...] = tuple(
            sorted(notes, key=lambda n: (n.start_sample, n.start_beat))
        )
        self.seed = seed
        self.tempo_bpm = tempo_bpm
        self.metadata = metadata

    # --- array behaviour ---------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """numpy 2 array protocol: the samples, copied only when asked or needed."""
        target = np.dtype(np.float32 if dtype is None else dtype)
        if target == self.samples.dtype:
            return self.samples.copy() if copy else self.samples
        if copy is False:
            raise ValueError(f"cannot view float32 audio as {target} without a copy")
        return self.samples.astype(target)

    def to_numpy(self) -> np.ndarray:
        """The float32 samples as a numpy array (0.1.8's name for ``np.asarray(audio)``)."""
        return self.samples

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self) / self.sample_rate

    def __repr__(self) -> str:
        return (
            f"Audio(duration={self.duration:.2f}s, sample_rate={self.sample_rate}, "
            f"notes={len(self.notes)}, seed={self.seed})"
        )

    # --- output ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, subtype: str | None = None) -> Path:
        """Write the audio (or its notes) to ``path``; the format follows the extension.

        ``.wav`` is 16-bit PCM (what 0.1.8 wrote and every player and game engine reads)
        unless ``subtype`` says otherwise (``"PCM_24"``, ``"FLOAT"``); ``.flac`` is 24-bit;
        ``.ogg`` is Vorbis; ``.mid`` / ``.midi`` writes the note events as a Standard MIDI
        File, one track per layer. The file is written
        to a temporary sibling first and renamed into place, so a failed save never leaves
        a partial file. Returns the path written.
        """
        target = Path(path)
        if target.suffix.lower() in MIDI_EXTENSIONS:
            self.save_midi(target)
            return target
        midi = f" or {', '.join(MIDI_EXTENSIONS)} for the notes"
        return write_audio_chunks(
            target, [self.samples], self.sample_rate, subtype=subtype, owner="save", midi_hint=midi
        )

    def save_midi(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`notes` as a Standard MIDI File (see :mod:`latentscore.midi_file`)."""
        from latentscore.midi_file import DEFAULT_BPM, estimate_bpm, write_midi_file

        bpm = self.tempo_bpm or estimate_bpm(self.notes, self.sample_rate) or DEFAULT_BPM
        if not (math.isfinite(bpm) and bpm > 0):
            bpm = DEFAULT_BPM
        end_beat = self.samples.shape[0] / self.sample_rate * bpm / 60.0
        config = getattr(self.metadata, "config", None)  # a render's RenderInfo
        key = None
        if config is not None:
            from latentscore.midi_file import key_signature

            key = key_signature(str(config.root), str(config.mode))
        write_midi_file(self.notes, path, bpm=bpm, end_beat=end_beat, key=key)
        return Path(path)

    def play(self, blocking: bool = True, *, device: int | str | None = None) -> None:
        """Play through the default (or given) output device.

        Plays through the same real-time output loop as streams and the bridge
        (:mod:`latentscore.output_loop`). With ``blocking=False`` it returns at once and the
        sound plays out in the background. Raises
        :class:`~latentscore.errors.AudioDeviceError` with a fix-it hint when PortAudio or an
        output device is missing. Ctrl-C fades out over 50 ms, then re-raises.
        """
        from latentscore.player import play_stream

        samples = np.asarray(self.samples, dtype=np.float32).reshape(-1)
        if blocking:
            play_stream([samples], device=device)
        else:
            play_stream([samples], device=device, blocking=False)
