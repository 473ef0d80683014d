"""Playing samples on the default audio output through sounddevice (PortAudio).

sounddevice is imported only when something is played: importing it loads the PortAudio
shared library, which may be missing on servers and CI machines where LatentScore is only
used to render files. Every failure to reach an output is turned into one
:class:`~latentscore.errors.AudioDeviceError` whose message says how to fix it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from latentscore.errors import AudioDeviceError

_SAVE_INSTEAD = 'or write the audio to a file instead: audio.save("out.wav")'


def load_sounddevice() -> ModuleType:
    """Import sounddevice, translating a missing PortAudio library into AudioDeviceError."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is not found
        raise AudioDeviceError(
            f"PortAudio is not installed ({exc}). Install it (Debian/Ubuntu: "
            f"sudo apt-get install libportaudio2; macOS: brew install portaudio), {_SAVE_INSTEAD}"
        ) from None
    return sounddevice


def check_output_device(sd: ModuleType, device: int | str | None = None) -> None:
    """Raise AudioDeviceError unless ``device`` (default: the system default) can play."""
    try:
        info = (
            sd.query_devices(device, kind="output") if device is None else sd.query_devices(device)
        )
    except (ValueError, sd.PortAudioError) as exc:
        raise AudioDeviceError(
            f"No audio output device available ({exc}). Connect or enable an output, pick one "
            f"with audio.play(device=...) (list them: python -m sounddevice), {_SAVE_INSTEAD}"
        ) from None
    if int(info.get("max_output_channels", 0)) < 1:
        raise AudioDeviceError(
            f"Audio device {info.get('name')!r} has no output channels; pick another with "
            f"audio.play(device=...) (list them: python -m sounddevice), {_SAVE_INSTEAD}"
        )


def play_samples(
    samples: np.ndarray,
    sample_rate: int,
    *,
    blocking: bool = True,
    device: int | str | None = None,
) -> None:
    """Play mono float32 ``samples`` on ``device`` (default output).

    With ``blocking=True`` this returns when playback has finished. Ctrl-C stops the sound
    immediately and then re-raises KeyboardInterrupt, so scripts still end as the user asked
    but no stream is left running. With ``blocking=False`` it returns at once; call
    :func:`stop` to end playback early.
    """
    sd = load_sounddevice()
    check_output_device(sd, device)
    try:
        sd.play(np.asarray(samples, dtype=np.float32), samplerate=sample_rate, device=device)
        if blocking:
            sd.wait()
    except KeyboardInterrupt:
        sd.stop()
        raise
    except sd.PortAudioError as exc:
        sd.stop()
        raise AudioDeviceError(f"Audio playback failed ({exc}); {_SAVE_INSTEAD}") from None


def stop() -> None:
    """Stop non-blocking playback started by :func:`play_samples` (no-op if none)."""
    try:
        sd = load_sounddevice()
    except AudioDeviceError:
        return
    sd.stop()
