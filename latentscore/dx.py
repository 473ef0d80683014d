"""Developer-experience entry points for live, generator-driven music.

``ls.live(source)`` (also ``dx.live``, its name in earlier releases) is the one call a
script, a game loop or a web handler needs to turn a generator of musical decisions into
sound: see :class:`~latentscore.live_stream.LiveStream` for what the returned stream can do
(play, chunks, achunks, save, collect, close) and how the generator is consumed (lazily, in
step with time, never stalling the audio).
"""

from __future__ import annotations

from typing import Any

from latentscore.hooks import StreamHooks
from latentscore.live_stream import DEFAULT_ITEM_SECONDS, CueStart, LiveStream
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.stream_args import UNSET

__all__ = ["CueStart", "LiveStream", "live"]


def live(
    source: Any,
    chunk_seconds: float = 1.0,
    transition: float | Any = UNSET,
    *,
    duration: float = DEFAULT_ITEM_SECONDS,
    seed: int | None = None,
    model: ModelSpec = DEFAULT_MODEL,
    hooks: StreamHooks | None = None,
    transition_seconds: float | Any = UNSET,
) -> LiveStream:
    """Music driven by ``source``, a sync or async generator (or iterable) of items.

    Items are MusicConfig, MusicConfigUpdate (applied to what plays now; Steps included),
    dict updates, vibe strings, GenerateResults or Streamable (its own duration and
    transition); a single item is a stream of one. A bare item plays ``duration`` seconds
    (default 60) and is reached over ``transition`` seconds (default 3;
    ``transition_seconds=`` is the same setting under its 0.1.8 name). Nothing runs until
    the stream is played or read. Arguments are checked now, by the validator ``ls.stream``
    uses.

    Vibe strings are turned into configs by ``model`` (``"fast"`` by default, or any
    ``model=`` that :func:`latentscore.render` takes) in a background thread while the
    current item keeps playing; an unknown model name raises InvalidConfigError now.

    Example::

        def scenes():
            yield presets.load("deep_space")
            while True:
                yield Streamable(MusicConfigUpdate(brightness=Step(1)), duration=10)

        with ls.live(scenes()) as stream:
            stream.play()
    """
    return LiveStream(
        source,
        chunk_seconds=chunk_seconds,
        transition=transition,
        transition_seconds=transition_seconds,
        duration=duration,
        seed=seed,
        model=model,
        hooks=hooks,
    )
