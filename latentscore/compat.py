"""0.1.8 names that are thin wrappers over this library's API (see "Coming from 0.1.8").

Code written for latentscore 0.1.8 imports these from the top level. Each one maps onto the
one API this library has, so nothing here renders or streams by itself:

* ``Track`` / ``Playlist``: a timed item and a list of them, played by :func:`latentscore.stream`;
* ``render_raw`` / ``stream_raw`` / ``astream_raw``: the same music as bare numpy arrays;
* ``stream_texts`` / ``stream_configs`` / ``stream_updates``: a stream of one kind of item;
* ``save_wav``: samples or chunks to a WAV file (16-bit PCM, like :meth:`Audio.save`);
* ``prefetch``: load a model now instead of on the first vibe.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from latentscore.aio import astream
from latentscore.audio import Audio
from latentscore.audio_file import write_audio_chunks
from latentscore.config import MusicConfig, MusicConfigUpdate
from latentscore.errors import InvalidConfigError
from latentscore.hooks import RenderHooks, StreamHooks
from latentscore.items import Content, Streamable
from latentscore.models.base import DEFAULT_MODEL, ModelSpec, resolve_model
from latentscore.render import ConfigInput, UpdateInput, render
from latentscore.stream import AudioStream, stream
from synth.params import SAMPLE_RATE

Samples = NDArray[np.float32]

__all__ = [
    "DEFAULTS_018",
    "Playlist",
    "Track",
    "astream_raw",
    "prefetch",
    "render_raw",
    "save_wav",
    "stream_configs",
    "stream_raw",
    "stream_texts",
    "stream_updates",
]


DEFAULTS_018: dict[str, str | int] = {
    "tempo": "medium",
    "motion": "medium",
    "echo": "medium",
    "human": "robotic",
    "density": 5,
    "rhythm": "minimal",
    "texture": "shimmer",
    "accent": "bells",
}
"""The fields whose 0.1.8 default differs from ours, with 0.1.8's value.

A partial config gets this library's defaults (slow, sparser, no drums/texture/accent: a
calmer starting point). To hear a 0.1.8 partial config as 0.1.8 did, start from these:
``MusicConfig(**{**DEFAULTS_018, "mode": "dorian"})``."""


class Track(BaseModel):
    """One item of a :class:`Playlist`: ``content`` for ``duration`` s, reached over ``transition``.

    ``name`` is a label for your own use. A Track is a stream item anywhere one is taken
    (``ls.stream``, ``ls.live``); it plays as ``Streamable(content, duration, transition)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    content: Content
    duration: float = 60.0
    transition: float = 5.0
    name: str | None = None

    def to_streamable(self) -> Streamable:
        return Streamable(self.content, duration=self.duration, transition_duration=self.transition)


class Playlist(BaseModel):
    """Tracks played back to back as one stream: ``.stream()``, ``.render()``, ``.play()``."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    tracks: tuple[Track, ...]

    def stream(
        self,
        *,
        chunk_seconds: float = 1.0,
        seed: int | None = None,
        model: ModelSpec = DEFAULT_MODEL,
        hooks: StreamHooks | None = None,
        transition_seconds: float = 5.0,
    ) -> AudioStream:
        """The tracks as an :class:`AudioStream` (each track's own duration and transition)."""
        if not self.tracks:
            raise InvalidConfigError("Playlist: no tracks", field="tracks", value=())
        return stream(
            *self.tracks,
            chunk_seconds=chunk_seconds,
            seed=seed,
            model=model,
            hooks=hooks,
            transition=transition_seconds,
        )

    def render(self, **kwargs: Any) -> Audio:
        """The whole playlist as one :class:`Audio` (``stream(**kwargs).collect()``)."""
        return self.stream(**kwargs).collect()

    def play(self, **kwargs: Any) -> object:
        """Play the playlist in real time (``stream(**kwargs).play()``)."""
        return self.stream(**kwargs).play()


def render_raw(
    vibe: ConfigInput,
    *,
    duration: float = 8.0,
    model: ModelSpec = DEFAULT_MODEL,
    config: ConfigInput = None,
    update: UpdateInput = None,
    hooks: RenderHooks | None = None,
    seed: int | None = None,
) -> Samples:
    """:func:`latentscore.render` as a bare float32 array (0.1.8's default of 8 seconds)."""
    audio = render(vibe, duration, seed, update, model=model, config=config, hooks=hooks)
    return audio.samples


def _chunks_of(audio_stream: AudioStream) -> Iterator[Samples]:
    yield from audio_stream


def stream_raw(
    items: Iterable[object],
    *,
    chunk_seconds: float = 1.0,
    transition_seconds: float = 1.0,
    duration: float = 60.0,
    model: ModelSpec = DEFAULT_MODEL,
    hooks: StreamHooks | None = None,
    seed: int | None = None,
) -> Iterator[Samples]:
    """Float32 chunks of ``items`` played as a stream (0.1.8's iterator form of ``stream``).

    A list or tuple is an :class:`AudioStream`; any other iterable (a generator) is pulled
    lazily by a :class:`~latentscore.live_stream.LiveStream`: the same performance either way.
    """
    if isinstance(items, str | bytes) or not isinstance(items, Iterable) or _is_one(items):
        raise InvalidConfigError(
            "stream_raw: expected an iterable of items (a list, tuple or generator)",
            field="items",
            value=items,
        )
    if not isinstance(items, list | tuple):  # a generator: pulled lazily, as 0.1.8 did
        from latentscore.live_stream import LiveStream

        live = LiveStream(
            items,
            chunk_seconds=chunk_seconds,
            transition=transition_seconds,
            duration=duration,
            model=model,
            hooks=hooks,
            seed=seed,
        )
        return live.chunks()
    return _chunks_of(
        stream(
            *items,
            chunk_seconds=chunk_seconds,
            transition=transition_seconds,
            duration=duration,
            model=model,
            hooks=hooks,
            seed=seed,
        )
    )


def _is_one(value: object) -> bool:
    return isinstance(value, MusicConfig | MusicConfigUpdate | Streamable | Track | dict)


def astream_raw(source: object, *args: Any, **kwargs: Any) -> AsyncIterator[Samples]:
    """0.1.8's name for :func:`latentscore.astream` (same arguments, same chunks)."""
    return astream(source, *args, **kwargs)


def _typed_stream(
    kind: str,
    values: Iterable[object],
    accept: tuple[type, ...],
    duration: float,
    transition_duration: float,
    kwargs: dict[str, Any],
) -> Iterator[Samples]:
    if isinstance(values, str | bytes) or _is_one(values) or not isinstance(values, Iterable):
        raise InvalidConfigError(
            f"{kind}: expected an iterable of items, got one {type(values).__name__}",
            field="items",
            value=values,
        )
    items: list[Streamable] = []
    for i, value in enumerate(values):
        if not isinstance(value, accept):
            names = " or ".join(t.__name__ for t in accept)
            raise InvalidConfigError(
                f"{kind}: items[{i}] is a {type(value).__name__}; expected {names}",
                field=f"items[{i}]",
                value=value,
            )
        if isinstance(value, dict):
            value = MusicConfigUpdate.model_validate(value)
        items.append(Streamable(value, duration=duration, transition_duration=transition_duration))
    return stream_raw(items, **kwargs)


def stream_texts(
    prompts: Iterable[str],
    *,
    duration: float = 60.0,
    transition_duration: float = 1.0,
    **kwargs: Any,
) -> Iterator[Samples]:
    """Vibe texts played one after another, ``duration`` s each (float32 chunks)."""
    return _typed_stream("stream_texts", prompts, (str,), duration, transition_duration, kwargs)


def stream_configs(
    configs: Iterable[MusicConfig],
    *,
    duration: float = 60.0,
    transition_duration: float = 1.0,
    **kwargs: Any,
) -> Iterator[Samples]:
    """MusicConfigs played one after another, ``duration`` s each (float32 chunks)."""
    accept = (MusicConfig,)
    return _typed_stream("stream_configs", configs, accept, duration, transition_duration, kwargs)


def stream_updates(
    updates: Iterable[MusicConfigUpdate | dict[str, Any]],
    *,
    duration: float = 60.0,
    transition_duration: float = 1.0,
    **kwargs: Any,
) -> Iterator[Samples]:
    """Updates applied one after another to the default config (float32 chunks)."""
    accept = (MusicConfigUpdate, dict)
    return _typed_stream("stream_updates", updates, accept, duration, transition_duration, kwargs)


def save_wav(path: str | os.PathLike[str], audio_or_chunks: object) -> str:
    """Write samples (an array, an Audio) or an iterable of chunks to a WAV file.

    Uses the same writer as :meth:`Audio.save` (16-bit PCM, written to a temporary sibling
    and renamed into place); returns the path as a string, as 0.1.8 did.
    """
    if isinstance(audio_or_chunks, Audio | np.ndarray) or (
        isinstance(audio_or_chunks, list | tuple)
        and audio_or_chunks
        and all(isinstance(x, int | float) for x in audio_or_chunks)
    ):
        chunks: Iterable[Samples] = [np.asarray(audio_or_chunks, dtype=np.float32).reshape(-1)]
    elif isinstance(audio_or_chunks, Iterable) and not isinstance(audio_or_chunks, str | bytes):
        chunks = (np.asarray(c, dtype=np.float32).reshape(-1) for c in audio_or_chunks)
    else:
        raise InvalidConfigError(
            "save_wav: expected audio samples or an iterable of chunks, got "
            f"{type(audio_or_chunks).__name__}",
            field="audio_or_chunks",
            value=audio_or_chunks,
        )
    target = Path(path)
    if target.suffix.lower() != ".wav":
        raise InvalidConfigError(
            f"save_wav({str(path)!r}): the path must end in .wav (use Audio.save for others)",
            field="path",
            value=str(path),
        )
    return str(write_audio_chunks(target, chunks, SAMPLE_RATE, owner="save_wav"))


def prefetch(model: ModelSpec = DEFAULT_MODEL) -> None:
    """Load ``model`` now (files, weights, imports), so the first vibe does not wait for it.

    ``"fast"`` ships with the package and needs no download; loading it takes about a
    second. ``"expressive"`` needs its weights (``latentscore download expressive``) and an
    external model its extra; both raise ModelNotAvailableError saying how to fix it.
    """
    resolve_model(model)
