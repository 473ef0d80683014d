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
from latentscore.hooks import RenderHooks, emit_render
from latentscore.models.base import DEFAULT_MODEL, ModelSpec, resolve_model
from latentscore.models.result import GenerateResult, Palette
from latentscore.params import to_synth_params
from latentscore.vibe import vibe_to_result
from synth.engine import Engine
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE

MAX_DURATION_S = 24 * 3600.0
BLOCK_SECONDS = 1.0

ConfigInput = MusicConfig | MusicConfigUpdate | GenerateResult | Mapping[str, Any] | str | None
UpdateInput = MusicConfigUpdate | Mapping[str, Any] | None


_NAMED_MODELS = ("fast", "expressive")


@dataclass(frozen=True)
class RenderInfo:
    """What a render was made from; stored as ``Audio.metadata`` so it can be reproduced.

    ``config`` is what played (after ``update``). For a vibe-text render, ``result`` is the
    model's whole answer, and :attr:`title`, :attr:`thinking`, :attr:`palettes`,
    :attr:`model` and :attr:`source` read from it; for a config render they are empty
    (``""`` / ``()``), so code that shows a title or colours needs no branch.
    """

    config: MusicConfig
    seed: int
    duration: float
    tempo_bpm: float
    result: GenerateResult | None = None

    @property
    def title(self) -> str:
        """The model's short name for the piece (``""`` for a config render)."""
        return self.result.title if self.result is not None else ""

    @property
    def thinking(self) -> str:
        """The model's reasoning (``""`` for the fast model and for config renders)."""
        return self.result.thinking if self.result is not None else ""

    @property
    def palettes(self) -> tuple[Palette, ...]:
        """Three five-colour palettes that go with the music (``()`` for a config render)."""
        return self.result.palettes if self.result is not None else ()

    @property
    def model(self) -> str:
        """Which model answered the text (``"fast"``, ...; ``""`` for a config render)."""
        return self.result.model if self.result is not None else ""

    @property
    def source(self) -> str:
        """For the fast model, the library scene closest to the text (else ``""``)."""
        return self.result.source if self.result is not None else ""


def validate_model(model: ModelSpec) -> ModelSpec:
    """Check a ``model=`` argument without loading anything; returns it unchanged.

    Called when ``render``, ``stream``, ``dx.live`` or ``astream`` is called, so a typo such
    as ``model="fastt"`` fails at once (InvalidConfigError naming ``model``) rather than
    minutes into a stream when the first vibe text arrives. Known names and model objects
    pass without being loaded: a config-only render never pays for a model it does not use.
    """
    if model is None:
        return DEFAULT_MODEL
    if isinstance(model, str):
        name = model.strip()
        if name in _NAMED_MODELS or name.startswith("external:"):
            return model
    elif callable(getattr(model, "to_model", None)):
        return model  # e.g. ExternalModelSpec: builds its model when first used
    resolve_model(model)  # an object is checked cheaply; an unknown name raises, naming model
    return model


def resolve_config(
    config_or_update: ConfigInput = None,
    update: UpdateInput = None,
    *,
    model: ModelSpec = DEFAULT_MODEL,
) -> MusicConfig:
    """The MusicConfig ``render`` would play for these arguments.

    ``None`` is the default config, a MusicConfigUpdate applies to the default config, a
    mapping is validated as a complete MusicConfig (missing fields take defaults), a string
    is a vibe text turned into a config by ``model`` (see :func:`latentscore.vibe_to_config`),
    a GenerateResult (a model answer you already have) plays its config, and ``update``
    (labels or Steps) is applied last.
    """
    return resolve_render_input(config_or_update, update, model=model)[0]


def resolve_render_input(
    config_or_update: ConfigInput = None,
    update: UpdateInput = None,
    *,
    model: ModelSpec = DEFAULT_MODEL,
) -> tuple[MusicConfig, GenerateResult | None]:
    """:func:`resolve_config` plus the model's answer when the input was vibe text.

    The answer (title, palettes, ...) is kept apart from the returned config because
    ``update`` may have changed the config after the model chose it.
    """
    validate_model(model)
    result: GenerateResult | None = None
    if config_or_update is None:
        config = MusicConfig()
    elif isinstance(config_or_update, MusicConfig):
        config = config_or_update
    elif isinstance(config_or_update, MusicConfigUpdate):
        config = config_or_update.apply_to(MusicConfig())
    elif isinstance(config_or_update, GenerateResult):
        result, config = config_or_update, config_or_update.config
    elif isinstance(config_or_update, str):
        result = vibe_to_result(config_or_update, model)
        config = result.config
    elif isinstance(config_or_update, Mapping):
        config = MusicConfig.model_validate(dict(config_or_update))
    else:
        raise InvalidConfigError(
            "render: expected a vibe string, MusicConfig, MusicConfigUpdate, GenerateResult, "
            f"dict or None, got {type(config_or_update).__name__}",
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
    return config, result


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
    model: ModelSpec = DEFAULT_MODEL,
    progress: bool = False,
    config: ConfigInput = None,
    hooks: RenderHooks | None = None,
) -> Audio:
    """Render ``duration`` seconds of music for a vibe text or a config.

    Args:
        config_or_update: a vibe text (``"warm sunset over water"``), a MusicConfig, a
            MusicConfigUpdate (applied to the default config), a dict of field -> label,
            a GenerateResult from :func:`latentscore.vibe_to_result`, or ``None`` for the
            default config.
        duration: seconds, > 0 and <= 24 h.
        seed: makes the piece reproducible; ``None`` picks a random seed, reported as
            ``audio.seed`` so a render you like can be repeated.
        update: a MusicConfigUpdate or dict applied on top (Steps allowed),
            e.g. ``update=MusicConfigUpdate(tempo=Step(1))``.
        model: which model turns text into a config: ``"fast"`` (default, offline),
            ``"expressive"``, ``"external:<litellm model id>"`` or your own object with
            ``generate(text) -> GenerateResult``. Checked at call time; loaded only when
            the input is text.
        progress: show a progress bar on the terminal (uses rich).
        config: 0.1.8's keyword: the config to play (``render(config=cfg)``), or the base
            that an update in ``config_or_update`` applies to. With vibe text it replaces
            the model's answer, as in 0.1.8. Giving a MusicConfig both ways is an error.
        hooks: :class:`~latentscore.hooks.RenderHooks` called at start, model start/end,
            synth start/end, end, and on error.

    Returns:
        :class:`Audio` with the samples, the notes that start inside it, the seed and
        a :class:`RenderInfo` as ``metadata`` (for text, also the model's title,
        thinking and palettes: ``audio.metadata.title``, ``audio.metadata.palettes``).
    """
    seconds = validate_duration(duration)  # cheap checks first: no model call for a typo
    chosen_seed = resolve_seed(seed)
    emit_render(hooks, "start")
    try:
        audio = _render(
            config_or_update, config, update, model, hooks, seconds, chosen_seed, progress
        )
    except Exception as exc:
        emit_render(hooks, "error", exc)
        raise
    emit_render(hooks, "end")
    return audio


def _with_base(config_or_update: ConfigInput, base: ConfigInput) -> ConfigInput:
    """Fold 0.1.8's ``config=`` (a base config) into the one positional input."""
    if base is None:
        return config_or_update
    if config_or_update is None or isinstance(config_or_update, str):
        return base  # 0.1.8 played the given config and skipped the model for the text
    if isinstance(config_or_update, MusicConfigUpdate | Mapping):
        update = config_or_update
        if isinstance(update, Mapping):
            update = MusicConfigUpdate.model_validate(dict(update))
        return update.apply_to(resolve_config(base))
    raise InvalidConfigError(
        "render: a config was given twice (positionally and as config=); pass it once, or pass "
        "a MusicConfigUpdate positionally to apply it to config=",
        field="config",
        value=base,
    )


def _render(
    config_or_update: ConfigInput,
    base: ConfigInput,
    update: UpdateInput,
    model: ModelSpec,
    hooks: RenderHooks | None,
    seconds: float,
    chosen_seed: int,
    progress: bool,
) -> Audio:
    config_or_update = _with_base(config_or_update, base)
    text = isinstance(config_or_update, str)
    if text:
        emit_render(hooks, "model_start", model)
    try:
        config, result = resolve_render_input(config_or_update, update, model=model)
    finally:
        if text:
            emit_render(hooks, "model_end", model)
    emit_render(hooks, "synth_start")
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
    info = RenderInfo(
        config=config, seed=chosen_seed, duration=seconds, tempo_bpm=bpm, result=result
    )
    emit_render(hooks, "synth_end")
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
