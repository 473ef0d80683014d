"""LatentScore: describe a mood, get ambient music, rendered locally.

Quick start::

    import latentscore as ls
    from latentscore import MusicConfig, MusicConfigUpdate, Step

    audio = ls.render(MusicConfig(tempo="slow", mode="dorian", texture="breath"), duration=20)
    audio.save("calm.wav")
    audio.save("calm.mid")  # the same notes as a Standard MIDI File

    faster = ls.render(ls.presets.load("lofi_study"), update=MusicConfigUpdate(tempo=Step(1)))

    for chunk in ls.stream(config, MusicConfigUpdate(brightness=Step(1)), duration=30):
        ...  # float32 chunks, rendered as you iterate (also: async for, .save, .collect)

    with ls.live(my_generator()) as live:  # items decided while the music plays
        live.play()

Names from latentscore 0.1.8 (``render_raw``, ``Playlist``, ``RenderHooks``, ``SAMPLE_RATE``,
...) are kept as thin wrappers; see :mod:`latentscore.compat` and the README's "Coming from
0.1.8".

Importing this package stays light: audio I/O (soundfile), MIDI (mido), playback
(sounddevice) and progress bars (rich) load only when used.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from latentscore import dx, presets
from latentscore.aio import arender, astream
from latentscore.audio import Audio
from latentscore.compat import (
    Playlist,
    Track,
    astream_raw,
    prefetch,
    render_raw,
    save_wav,
    stream_configs,
    stream_raw,
    stream_texts,
    stream_updates,
)
from latentscore.config import (
    AccentStyle,
    BassStyle,
    BrightnessLabel,
    DensityLevel,
    EchoLabel,
    MelodyStyle,
    MotionLabel,
    MusicConfig,
    MusicConfigUpdate,
    PadStyle,
    RhythmStyle,
    SpaceLabel,
    Step,
    StereoLabel,
    TempoLabel,
    TextureStyle,
    config_json_schema,
)
from latentscore.config import AttackLabel as AttackStyle
from latentscore.config import GrainLabel as GrainStyle
from latentscore.config import HumanLabel as HumanFeelLabel
from latentscore.config import ModeLabel as ModeName
from latentscore.config import RootLabel as RootNote
from latentscore.dx import live
from latentscore.errors import (
    AudioDeviceError,
    InvalidConfigError,
    LatentScoreError,
    ModelNotAvailableError,
    PresetNotFoundError,
)
from latentscore.hooks import ModelLoadRole, RenderHooks, StreamEvent, StreamHooks
from latentscore.items import Streamable
from latentscore.live_stream import LiveStream
from latentscore.models.base import ModelForGeneratingMusicConfig, ModelSpec, VibeModel
from latentscore.models.result import GenerateResult, Palette, PaletteColor
from latentscore.render import render
from latentscore.stream import AudioStream, stream
from latentscore.vibe import avibe_to_config, avibe_to_result, vibe_to_config, vibe_to_result
from synth.params import SAMPLE_RATE

if TYPE_CHECKING:
    from latentscore.models.external import ExternalModelSpec

try:
    __version__ = version("latentscore")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "SAMPLE_RATE",
    "AccentStyle",
    "AttackStyle",
    "Audio",
    "AudioDeviceError",
    "AudioStream",
    "BassStyle",
    "BrightnessLabel",
    "DensityLevel",
    "EchoLabel",
    "ExternalModelSpec",
    "GenerateResult",
    "GrainStyle",
    "HumanFeelLabel",
    "InvalidConfigError",
    "LatentScoreError",
    "LiveStream",
    "MelodyStyle",
    "ModeName",
    "ModelForGeneratingMusicConfig",
    "ModelLoadRole",
    "ModelNotAvailableError",
    "ModelSpec",
    "MotionLabel",
    "MusicConfig",
    "MusicConfigUpdate",
    "PadStyle",
    "Palette",
    "PaletteColor",
    "Playlist",
    "PresetNotFoundError",
    "RenderHooks",
    "RhythmStyle",
    "RootNote",
    "SpaceLabel",
    "Step",
    "StereoLabel",
    "StreamEvent",
    "StreamHooks",
    "Streamable",
    "TempoLabel",
    "TextureStyle",
    "Track",
    "VibeModel",
    "__version__",
    "arender",
    "astream",
    "astream_raw",
    "avibe_to_config",
    "avibe_to_result",
    "config_json_schema",
    "dx",
    "live",
    "prefetch",
    "presets",
    "render",
    "render_raw",
    "save_wav",
    "stream",
    "stream_configs",
    "stream_raw",
    "stream_texts",
    "stream_updates",
    "vibe_to_config",
    "vibe_to_result",
]


def __getattr__(name: str) -> Any:
    # ExternalModelSpec loads on first use: only programs that bring their own LLM pay for
    # the prompt/repair modules behind it (LiteLLM itself loads later still, on first call).
    if name == "ExternalModelSpec":
        from latentscore.models.external import ExternalModelSpec

        return ExternalModelSpec
    raise AttributeError(f"module 'latentscore' has no attribute {name!r}")
