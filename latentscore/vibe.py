"""Vibe text -> MusicConfig: the one entry point every caller uses.

``render``, stream items, live generators, the CLI and the bridge all turn text into
music through :func:`vibe_to_result` / :func:`vibe_to_config`, so input checks (empty
text, very long text), model selection and caching behave the same everywhere. The model
itself is chosen with ``model=`` (see :mod:`latentscore.models.base`).
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata

from latentscore.config import MusicConfig
from latentscore.errors import InvalidConfigError
from latentscore.models.base import DEFAULT_MODEL, ModelSpec, resolve_model
from latentscore.models.cues import explicit_bpm
from latentscore.models.result import GenerateResult

MAX_VIBE_CHARS = 1000
"""Longer texts are cut here (with a warning): a vibe is a phrase, not an essay, and the
embedding model reads at most 256 tokens anyway."""

log = logging.getLogger("latentscore.vibe")


def clean_vibe_text(text: object) -> str:
    """Validate and normalise a vibe text (raises InvalidConfigError naming the problem)."""
    if not isinstance(text, str):
        raise InvalidConfigError(
            f"vibe: expected text (str), got {type(text).__name__}", field="vibe", value=text
        )
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not cleaned:
        raise InvalidConfigError(
            "vibe text is empty; describe a mood or scene, e.g. 'warm sunset over water'",
            field="vibe",
            value=text,
        )
    if len(cleaned) > MAX_VIBE_CHARS:
        log.warning("vibe text is %d characters; using the first %d", len(cleaned), MAX_VIBE_CHARS)
        cleaned = cleaned[:MAX_VIBE_CHARS].rsplit(" ", 1)[0] or cleaned[:MAX_VIBE_CHARS]
    return cleaned


def with_written_bpm(text: str, result: GenerateResult) -> GenerateResult:
    """A tempo the text writes as a number ("92 bpm", 40..200) is played exactly, whatever
    the model: the answer's config gets it as ``bpm`` unless the model set one itself."""
    bpm = explicit_bpm(text)
    if bpm is None or result.config.bpm is not None:
        return result
    return result.model_copy(update={"config": result.config.with_(bpm=bpm)})


def vibe_to_result(text: str, model: ModelSpec = DEFAULT_MODEL) -> GenerateResult:
    """The model's full answer (title, thinking, config, palettes) for a vibe text."""
    cleaned = clean_vibe_text(text)
    return with_written_bpm(cleaned, resolve_model(model).generate(cleaned))


def vibe_to_config(text: str, model: ModelSpec = DEFAULT_MODEL) -> MusicConfig:
    """The MusicConfig a vibe text asks for, without rendering anything.

    >>> import latentscore as ls
    >>> ls.vibe_to_config("warm sunset over water").tempo  # doctest: +SKIP
    'slow'
    """
    return vibe_to_result(text, model).config


async def avibe_to_result(text: str, model: ModelSpec = DEFAULT_MODEL) -> GenerateResult:
    """:func:`vibe_to_result` for async code: the model runs in a worker thread.

    Models with a native async path (``agenerate``, e.g. LiteLLM's ``acompletion``) are
    awaited directly instead.
    """
    cleaned = clean_vibe_text(text)
    resolved = await asyncio.to_thread(resolve_model, model)
    agenerate = getattr(resolved, "agenerate", None)
    if agenerate is not None:
        return with_written_bpm(cleaned, await agenerate(cleaned))
    return with_written_bpm(cleaned, await asyncio.to_thread(resolved.generate, cleaned))


async def avibe_to_config(text: str, model: ModelSpec = DEFAULT_MODEL) -> MusicConfig:
    """:func:`vibe_to_config` for async code (never blocks the event loop)."""
    return (await avibe_to_result(text, model)).config
