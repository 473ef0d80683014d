"""Audio files: which extensions we write, and writing chunks to them atomically.

One place for the format rules shared by :meth:`Audio.save`, :meth:`AudioStream.save` and
:meth:`LiveStream.save`: the extension picks the container (``.wav`` 16-bit PCM, ``.flac``
24-bit, ``.ogg`` Vorbis), ``subtype`` may override the encoding, integer and lossy
encodings get clipped samples (they would wrap around otherwise), and the file is written to
a temporary sibling and renamed into place, so a failed or interrupted save never leaves a
partial file. Chunks are written as they arrive, so a one-hour stream never sits in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from latentscore.atomic import atomic_target
from latentscore.errors import InvalidConfigError


@dataclass(frozen=True)
class AudioFormat:
    """How one file extension is written with soundfile."""

    format: str
    default_subtype: str


# WAV defaults to 16-bit PCM: what 0.1.8 wrote, and the one WAV encoding every consumer reads
# (game-engine importers, embedded and simple players; float and even 24-bit WAV are not
# supported everywhere). The engine's output sits ~18 dB under full scale with a limiter at
# -1.5 dBFS, so 16 bits (96 dB) lose nothing audible. Ask for "PCM_24" or "FLOAT" when a DAW
# should get more; FLAC is lossless 24-bit already.
AUDIO_FORMATS: dict[str, AudioFormat] = {
    ".wav": AudioFormat("WAV", "PCM_16"),
    ".flac": AudioFormat("FLAC", "PCM_24"),
    ".ogg": AudioFormat("OGG", "VORBIS"),
}
MIDI_EXTENSIONS: tuple[str, ...] = (".mid", ".midi")
SUPPORTED_EXTENSIONS: tuple[str, ...] = (*AUDIO_FORMATS, *MIDI_EXTENSIONS)


def audio_format(path: Path, owner: str, midi_hint: str = "") -> AudioFormat:
    """The format for ``path``'s extension, or InvalidConfigError naming the allowed ones."""
    ext = path.suffix.lower()
    fmt = AUDIO_FORMATS.get(ext)
    if fmt is None:
        allowed = tuple(AUDIO_FORMATS)
        raise InvalidConfigError(
            f"{owner}({str(path)!r}): unsupported extension {ext or '(none)'!r}; "
            f"supported: {', '.join(allowed)}{midi_hint}",
            field="path",
            value=str(path),
            allowed=allowed,
        )
    return fmt


def write_audio_chunks(
    path: str | os.PathLike[str],
    chunks: Iterable[NDArray[np.float32]],
    sample_rate: int,
    *,
    subtype: str | None = None,
    owner: str = "save",
    midi_hint: str = "",
) -> Path:
    """Write mono float32 ``chunks`` to ``path`` as they come; returns the path written."""
    import soundfile

    target = Path(path)
    fmt = audio_format(target, owner, midi_hint)
    chosen = (subtype or fmt.default_subtype).upper()
    if not soundfile.check_format(fmt.format, chosen):
        options = sorted(soundfile.available_subtypes(fmt.format))
        raise InvalidConfigError(
            f"subtype {chosen!r} is not valid for {target.suffix.lower()} files; "
            f"allowed: {', '.join(options)}",
            field="subtype",
            value=subtype,
            allowed=tuple(options),
        )
    clip = chosen not in ("FLOAT", "DOUBLE")  # integer and lossy codecs must not wrap around
    with (
        atomic_target(target) as tmp,
        soundfile.SoundFile(tmp, "w", sample_rate, 1, chosen, format=fmt.format) as sink,
    ):
        for chunk in chunks:
            sink.write(np.clip(chunk, -1.0, 1.0) if clip else chunk)
    return target
