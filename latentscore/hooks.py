"""Lifecycle callbacks, in 0.1.8's shapes: RenderHooks for ``render``, StreamHooks for streams.

Progress UIs and timing logs hook into a render or a stream without touching its audio:
``render(..., hooks=RenderHooks(on_start=..., on_synth_start=..., on_end=...))`` and
``stream(..., hooks=StreamHooks(on_event=callback))``, where ``callback`` receives a tagged
:class:`StreamEvent` (``event.kind`` is ``"stream_start"``, ``"item_resolve_success"``,
``"first_audio_chunk"``, ...). A hook that raises is logged and otherwise ignored: a broken
progress bar must never stop the music. Hooks of a stream may be called from the thread that
pulls its items, so they should be quick and thread-safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

log = logging.getLogger("latentscore.hooks")

ModelLoadRole = Literal["primary", "fallback"]
StreamEventKind = Literal[
    "model_load_start",
    "model_load_end",
    "stream_start",
    "item_resolve_start",
    "item_resolve_success",
    "item_resolve_error",
    "first_config_ready",
    "first_audio_chunk",
    "stream_end",
    "fallback_used",
    "error",
]


class RenderHooks(BaseModel):
    """Callbacks around one ``render``: start, model start/end (text only), synth start/end,
    end, and error (with the exception, before it propagates)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    on_start: Callable[[], None] | None = None
    on_model_start: Callable[[Any], None] | None = None
    on_model_end: Callable[[Any], None] | None = None
    on_synth_start: Callable[[], None] | None = None
    on_synth_end: Callable[[], None] | None = None
    on_end: Callable[[], None] | None = None
    on_error: Callable[[Exception], None] | None = None


class StreamEvent(BaseModel):
    """One moment in a stream's life; ``kind`` says which, the other fields give context."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    kind: StreamEventKind
    model: object | None = None
    model_role: ModelLoadRole | None = None
    index: int | None = None
    item: object | None = None
    error: Exception | None = None
    fallback: object | None = None


class StreamHooks(BaseModel):
    """Callbacks for a stream or live performance.

    ``on_event`` receives every :class:`StreamEvent`; the per-kind callbacks (0.1.8's
    ``on_stream_start``, ``on_item_resolve_success(index, item)``, ...) are called as well
    when set. ``model_load_*`` and ``fallback_used`` are never emitted here: models load on
    first use and a failing LLM falls back inside the model (see the README).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    on_event: Callable[[StreamEvent], None] | None = None
    on_model_load_start: Callable[[Any, ModelLoadRole], None] | None = None
    on_model_load_end: Callable[[Any, ModelLoadRole], None] | None = None
    on_stream_start: Callable[[], None] | None = None
    on_item_resolve_start: Callable[[int, Any], None] | None = None
    on_item_resolve_success: Callable[[int, Any], None] | None = None
    on_item_resolve_error: Callable[[int, Any, Exception, Any], None] | None = None
    on_first_config_ready: Callable[[int, Any], None] | None = None
    on_first_audio_chunk: Callable[[], None] | None = None
    on_stream_end: Callable[[], None] | None = None
    on_error: Callable[[Exception], None] | None = None


def _call(name: str, fn: Callable[..., None] | None, *args: Any) -> None:
    if fn is None:
        return
    try:
        fn(*args)
    except Exception:  # a hook must never break the audio
        log.exception("hook %s raised; ignored", name)


def emit_render(hooks: RenderHooks | None, kind: str, *args: Any) -> None:
    """Call ``hooks.on_<kind>(*args)`` if set."""
    if hooks is not None:
        _call(f"on_{kind}", getattr(hooks, f"on_{kind}"), *args)


def emit_stream(
    hooks: StreamHooks | None,
    kind: StreamEventKind,
    *,
    index: int | None = None,
    item: object = None,
    error: Exception | None = None,
) -> None:
    """Send one event to ``on_event`` and to the matching 0.1.8 per-kind callback."""
    if hooks is None:
        return
    event = StreamEvent(kind=kind, index=index, item=item, error=error)
    _call("on_event", hooks.on_event, event)
    per_kind = getattr(hooks, f"on_{kind}", None)
    if kind in ("item_resolve_start", "item_resolve_success", "first_config_ready"):
        _call(f"on_{kind}", per_kind, index, item)
    elif kind == "item_resolve_error":
        _call(f"on_{kind}", per_kind, index, item, error, None)
    elif kind == "error":
        _call("on_error", per_kind, error)
    else:
        _call(f"on_{kind}", per_kind)
