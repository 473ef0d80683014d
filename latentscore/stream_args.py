"""One validator for the arguments every performance takes: stream, astream and live.

``ls.stream``, ``ls.astream`` and ``ls.live`` all play items one after another, so they take
the same settings (seconds per item, transition, chunk size, seed, model) and must accept and
reject the same values with the same messages. :func:`stream_args` is the single place those
checks live; :func:`latentscore.render` shares its duration, seed and model checks.

Spelling: ``transition`` is the name we document; ``transition_seconds`` (0.1.8's name, and
the positional name of ``astream``/``live``) is accepted everywhere as an alias. Giving both
with different values is an error rather than a silent choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from latentscore.errors import InvalidConfigError
from latentscore.items import ITEM_TYPES, Streamable, is_item, validate_item
from latentscore.models.base import ModelSpec
from latentscore.render import resolve_seed, validate_duration, validate_model
from synth.params import SAMPLE_RATE

__all__ = [
    "ITEM_TYPES",
    "UNSET",
    "StreamArgs",
    "is_item",
    "item_duration",
    "pick_transition",
    "stream_args",
    "validate_chunk_seconds",
    "validate_item",
    "validate_transition",
]

MIN_CHUNK_S = 0.01
MAX_CHUNK_S = 60.0


class _Unset:
    """Marker for "argument not given" (so an alias can be told apart from a default)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


def validate_chunk_seconds(value: object, name: str = "chunk_seconds") -> float:
    """``value`` as float seconds in [0.01, 60], or InvalidConfigError naming ``name``."""
    allowed = f"a number of seconds in [{MIN_CHUNK_S}, {MAX_CHUNK_S:g}]"
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if not ok or not (MIN_CHUNK_S <= float(value) <= MAX_CHUNK_S):  # type: ignore[arg-type]
        raise InvalidConfigError(
            f"{name}: expected {allowed}, got {value!r}", field=name, value=value, allowed=allowed
        )
    return float(value)  # type: ignore[arg-type]


def validate_transition(value: object, name: str = "transition") -> float:
    """``value`` as float seconds >= 0, or InvalidConfigError naming ``name``.

    A transition longer than an item is not an error: it is clamped to that item's duration
    when the item is scheduled (the change completes inside the item it leads into).
    """
    allowed = "a finite number of seconds >= 0"
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if not ok or not (math.isfinite(float(value)) and float(value) >= 0):  # type: ignore[arg-type]
        raise InvalidConfigError(
            f"{name}: expected {allowed}, got {value!r}", field=name, value=value, allowed=allowed
        )
    return float(value)  # type: ignore[arg-type]


def pick_transition(
    transition: object, transition_seconds: object, default: float
) -> tuple[object, str]:
    """The transition the caller meant and the name they gave it (for error messages)."""
    if transition is UNSET:
        if transition_seconds is UNSET:
            return default, "transition"
        return transition_seconds, "transition_seconds"
    if transition_seconds is not UNSET and transition_seconds != transition:
        raise InvalidConfigError(
            f"transition={transition!r} and transition_seconds={transition_seconds!r} disagree; "
            "they are the same setting, give one",
            field="transition",
            value=transition_seconds,
        )
    return transition, "transition"


@dataclass(frozen=True)
class StreamArgs:
    """Validated settings of one performance (see :func:`stream_args`)."""

    duration: float  # seconds an item plays unless it says otherwise
    transition: float  # seconds of glide/crossfade into each later item
    chunk_seconds: float
    seed: int
    model: ModelSpec
    sample_rate: int = SAMPLE_RATE

    @property
    def chunk_samples(self) -> int:
        return max(1, round(self.chunk_seconds * self.sample_rate))


def stream_args(
    *,
    duration: object,
    transition: tuple[object, str],
    chunk_seconds: object,
    seed: object,
    model: ModelSpec,
) -> StreamArgs:
    """Check every setting (cheap checks, no model load); InvalidConfigError names the bad one.

    ``transition`` is ``(value, name)`` as :func:`pick_transition` returns it.
    """
    return StreamArgs(
        duration=validate_duration(duration),
        transition=validate_transition(*transition),
        chunk_seconds=validate_chunk_seconds(chunk_seconds),
        seed=resolve_seed(seed),
        model=validate_model(model),
    )


def item_duration(item: object, default: float) -> float:
    """Seconds an item plays: its own ``Streamable.duration`` or the stream's default."""
    if callable(getattr(item, "to_streamable", None)):
        item = item.to_streamable()  # type: ignore[attr-defined]
    if isinstance(item, Streamable) and item.duration is not None:
        return item.duration
    return default
