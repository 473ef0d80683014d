"""``render()``: turn a MusicConfig (or an update of one) into :class:`Audio`, offline.

An offline render is the same engine the live paths use, pulled for N samples in one-second
blocks. Blocks keep memory for progress reporting small and exercise exactly the code path
a real-time stream uses, so what you render is what you would hear live.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from latentscore.audio import Audio
from latentscore.config import MusicConfig, MusicConfigUpdate
from latentscore.errors import InvalidConfigError
from latentscore.params import to_synth_params
from latentscore.vibe import vibe_to_config
from synth.engine import Engine
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE

MAX_DURATION_S = 24 * 3600.0
BLOCK_SECONDS = 1.0

ConfigInput = MusicConfig | MusicConfigUpdate | Mapping[str, Any] | str | None
UpdateInput = MusicConfigUpdate | Mapping[str, Any] | None


@dataclass(frozen=True)
class RenderInfo:
    """What a render was made from; stored as ``Audio.metadata`` so it can be reproduced."""

    config: MusicConfig
    seed: int
    duration: float
    tempo_bpm: float


def resolve_config(config_or_update: ConfigInput = None, update: UpdateInput = None) -> MusicConfig:
    """The MusicConfig ``render`` would play for these arguments.

    ``None`` is the default config, a MusicConfigUpdate applies to the default config, a
    mapping is validated as a complete MusicConfig (missing fields take defaults), and
    ``update`` (labels or Steps) is applied last. A string is a vibe text, which needs a
    text-to-config model that is not installed yet.
    """
    if config_or_update is None:
        config = MusicConfig()
    elif isinstance(config_or_update, MusicConfig):
        config = config_or_update
    elif isinstance(config_or_update, MusicConfigUpdate):
        config = config_or_update.apply_to(MusicConfig())
    elif isinstance(config_or_update, str):
        config = vibe_to_config(config_or_update)
    elif isinstance(config_or_update, Mapping):
        config = MusicConfig.model_validate(dict(config_or_update))
    else:
        raise InvalidConfigError(
            f"render: expected a MusicConfig, MusicConfigUpdate, dict or None, got "
            f"{type(config_or_update).__name__}",
            field="config",
            value=config_or_update,
        )
    if update is not None:
        if isinstance(update, Mapping):
            update = MusicConfigUpdate.model_validate(dict(update))
        if not isinstance(update, MusicConfigUpdate):
            raise InvalidConfigError(
                f"render: update= must be a MusicConfigUpdate or dict, got {type(update).__name__}",
                field="update",
                value=update,
            )
        config = update.apply_to(config)
    return config


def validate_duration(duration: object) -> float:
    """``duration`` as float seconds, or InvalidConfigError naming ``duration``."""
    allowed = f"a finite number of seconds > 0 and <= {MAX_DURATION_S:.0f}"
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise InvalidConfigError(
            f"duration: expected {allowed}, got {duration!r}",
            field="duration",
            value=duration,
            allowed=allowed,
        )
    value = float(duration)
    if not math.isfinite(value) or value <= 0 or value > MAX_DURATION_S:
        raise InvalidConfigError(
            f"duration: {duration!r} is out of range; expected {allowed}",
            field="duration",
            value=duration,
            allowed=allowed,
        )
    return value


def resolve_seed(seed: object) -> int:
    """A validated seed; ``None`` draws a fresh random one (31 bits) from ``os.urandom``."""
    if seed is None:
        return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidConfigError(
            f"seed: expected a non-negative int or None, got {seed!r}",
            field="seed",
            value=seed,
            allowed="int >= 0 or None",
        )
    return seed


def _block_sizes(total: int, block: int) -> Iterator[int]:
    done = 0
    while done < total:
        size = min(block, total - done)
        yield size
        done += size


def render(
    config_or_update: ConfigInput = None,
    duration: float = 30.0,
    seed: int | None = None,
    update: UpdateInput = None,
    *,
    progress: bool = False,
) -> Audio:
    """Render ``duration`` seconds of music for a config.

    Args:
        config_or_update: a MusicConfig, a MusicConfigUpdate (applied to the default
            config), a dict of field -> label, or ``None`` for the default config.
        duration: seconds, > 0 and <= 24 h.
        seed: makes the piece reproducible; ``None`` picks a random seed, reported as
            ``audio.seed`` so a render you like can be repeated.
        update: a MusicConfigUpdate or dict applied on top (Steps allowed),
            e.g. ``update=MusicConfigUpdate(tempo=Step(1))``.
        progress: show a progress bar on the terminal (uses rich).

    Returns:
        :class:`Audio` with the samples, the notes that start inside it, the seed and
        a :class:`RenderInfo` as ``metadata``.
    """
    config = resolve_config(config_or_update, update)
    seconds = validate_duration(duration)
    chosen_seed = resolve_seed(seed)
    params = to_synth_params(config)
    engine = Engine(params, seed=chosen_seed, sample_rate=SAMPLE_RATE)
    n_total = max(1, round(seconds * SAMPLE_RATE))
    block = round(BLOCK_SECONDS * SAMPLE_RATE)

    out = np.empty(n_total, dtype=np.float32)
    events: list[NoteEvent] = []
    with _progress_bar(progress, n_total) as advance:
        pos = 0
        for size in _block_sizes(n_total, block):
            out[pos : pos + size] = engine.render(size)
            events.extend(engine.drain_events())
            pos += size
            advance(size)

    notes = [e for e in events if e.start_sample < n_total]
    bpm = params.clamped().bpm
    info = RenderInfo(config=config, seed=chosen_seed, duration=seconds, tempo_bpm=bpm)
    return Audio(out, SAMPLE_RATE, notes=notes, seed=chosen_seed, tempo_bpm=bpm, metadata=info)


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_samples)``; draws a rich bar only when enabled (rich loads lazily)."""
    if not enabled:
        yield lambda _n: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("Rendering"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with Progress(*columns, TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("render", total=total)
        yield lambda n: bar.advance(task, n)
