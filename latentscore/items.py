"""Stream items: what a stream or live generator may yield, and how each one changes the music.

An item is a vibe string, a :class:`MusicConfig`, a :class:`MusicConfigUpdate` (applied to
the config playing now, Steps included), a :class:`~latentscore.models.result.GenerateResult`
(a model's answer you already have) or a :class:`Streamable` wrapping one of those with its
own duration and transition. :func:`resolve_item` turns any of them into a :class:`Cue` (the
next config, how long it plays, how long the transition takes, whether the change can be a
glide, and for text the model's answer); :func:`perform_cue` applies a cue to a
:class:`~synth.performer.Performer`. Vibe strings are answered by the ``model`` the stream
was made with (``"fast"`` by default).

Glide or crossfade: an update that only moves continuous fields (tempo, brightness, space,
motion, stereo, echo, human, attack, grain, density) glides them on the running engine, so
nothing restarts. Anything else (root, mode, a layer style: a new piece of music) crossfades
to a fresh engine with an equal-power fade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from latentscore.config import MusicConfig, MusicConfigUpdate
from latentscore.errors import InvalidConfigError
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.models.result import GenerateResult
from latentscore.params import to_synth_params
from latentscore.vibe import vibe_to_result
from synth.params import CONTINUOUS
from synth.performer import Performer

GLIDE_FIELDS: frozenset[str] = frozenset((*CONTINUOUS, "density", "bpm"))
Content = str | MusicConfig | MusicConfigUpdate | GenerateResult


class Streamable(BaseModel):
    """One stream item with its own timing: ``Streamable(content, duration, transition_duration)``.

    ``content`` is a vibe string, a MusicConfig, a MusicConfigUpdate or a GenerateResult;
    ``duration`` (seconds
    this item plays, > 0) and ``transition_duration`` (seconds of glide/crossfade into it,
    >= 0) override the stream's defaults when given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    content: Content
    duration: float | None = None
    transition_duration: float | None = None

    def __init__(self, content: Any = None, duration: float | None = None, **kw: Any) -> None:
        try:
            super().__init__(content=content, duration=duration, **kw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err.get("loc", ()))
            raise InvalidConfigError(
                f"Streamable.{loc}: {err.get('msg')} (got {err.get('input')!r})", field=loc
            ) from None

    @field_validator("duration")
    @classmethod
    def _positive_duration(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError("must be a finite number of seconds > 0")
        return value

    @field_validator("transition_duration")
    @classmethod
    def _non_negative_transition(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError("must be a finite number of seconds >= 0")
        return value


ITEM_TYPES = (str, MusicConfig, MusicConfigUpdate, GenerateResult, Streamable, Mapping)


def is_item(item: object) -> bool:
    """True for anything a stream can play (a 0.1.8 ``Track`` included)."""
    return isinstance(item, ITEM_TYPES) or callable(getattr(item, "to_streamable", None))


def validate_item(item: object, where: str) -> None:
    """Reject anything that cannot be a stream item, naming its position (``items[2]``).

    The one item check: lists are checked up front by ``ls.stream``, generator items when
    they are resolved.
    """
    if not is_item(item):
        raise InvalidConfigError(
            f"{where}: expected a vibe string, MusicConfig, MusicConfigUpdate, dict, "
            f"GenerateResult, Streamable or Track, got {type(item).__name__}",
            field=where,
            value=item,
        )


@dataclass(frozen=True)
class Cue:
    """A resolved item: play ``config`` for ``duration`` s, reached over ``transition`` s.

    ``result`` is the model's answer (title, palettes, ...) when the item was vibe text or a
    GenerateResult, so streams can report what each section was called.
    """

    config: MusicConfig
    duration: float
    transition: float
    glide: bool
    result: GenerateResult | None = None


def resolve_item(
    item: Any,
    current: MusicConfig | None,
    duration: float,
    transition: float,
    model: ModelSpec = DEFAULT_MODEL,
) -> Cue:
    """Turn a stream item into a Cue, relative to the config playing now (``current``).

    Vibe text is answered by ``model`` here, so this may take a model call: streams and
    live generators run it off the audio path (and off the event loop).
    """
    to_streamable = getattr(item, "to_streamable", None)
    if callable(to_streamable):  # a 0.1.8 Track: content with its own timing
        item = to_streamable()
    if isinstance(item, Streamable):
        duration = item.duration if item.duration is not None else duration
        transition = (
            item.transition_duration if item.transition_duration is not None else transition
        )
        item = item.content
    base = current or MusicConfig()
    result: GenerateResult | None = None
    if isinstance(item, str):
        item = vibe_to_result(item, model)
    if isinstance(item, GenerateResult):
        result = item
        item = item.config
    if isinstance(item, MusicConfig):
        config, changed = item, _changed_fields(base, item)
    elif isinstance(item, MusicConfigUpdate):
        config = item.apply_to(base)
        changed = _changed_fields(base, config)
    elif isinstance(item, Mapping):
        update = MusicConfigUpdate.model_validate(dict(item))
        return resolve_item(update, current, duration, transition, model)
    else:
        validate_item(item, "stream item")
        raise InvalidConfigError(f"stream item: cannot play {item!r}", value=item)
    glide = current is not None and changed <= GLIDE_FIELDS
    return Cue(config=config, duration=duration, transition=transition, glide=glide, result=result)


def _changed_fields(old: MusicConfig, new: MusicConfig) -> set[str]:
    a, b = old.model_dump(), new.model_dump()
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def perform_cue(performer: Performer, cue: Cue) -> None:
    """Apply a cue at the performer's current position (glide or crossfade)."""
    params = to_synth_params(cue.config)
    if cue.glide:
        performer.glide_to(params, cue.transition)
    else:
        performer.crossfade_to(params, cue.transition)
