"""The one interface every vibe model implements, and how a ``model=`` argument finds one.

``model`` arguments across the API (render, stream, live, CLI, bridge) accept:

* ``"fast"`` (default): offline MiniLM retrieval over the curated library;
* ``"external:<litellm model id>"`` or an ``ExternalModelSpec``: any LLM through LiteLLM;
* ``"expressive"``: the local instruction-tuned model;
* any object with a ``generate(text)`` method (your own model): sync or async, answering a
  ``GenerateResult`` or a bare ``MusicConfig`` (0.1.8's protocol); see
  :mod:`latentscore.models.user_model`.

0.1.8's ``"fast_heavy"`` (CLAP retrieval) and ``"local"`` are not part of this library; they
raise ModelNotAvailableError saying what to use instead.

Model modules are imported only when first asked for, so ``import latentscore`` never
pays for torch, tokenizers or litellm.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Protocol, runtime_checkable

from latentscore.errors import InvalidConfigError, ModelNotAvailableError
from latentscore.models.result import GenerateResult


@runtime_checkable
class VibeModel(Protocol):
    """Text -> GenerateResult. Implementations must be thread-safe for ``generate``.

    A ``name`` attribute is optional (it labels the model in logs and metadata).
    """

    def generate(self, text: str) -> GenerateResult:
        """Answer one (already validated, stripped, length-limited) vibe text."""
        ...


ModelSpec = Any
"""``str`` | ``VibeModel`` | ``ExternalModelSpec``: see the module docstring."""

DEFAULT_MODEL = "fast"

ModelForGeneratingMusicConfig = VibeModel
"""0.1.8's name for the custom-model protocol."""

_RETIRED = {
    "fast_heavy": "0.1.8's CLAP retrieval model is not part of this library; use "
    "model='fast' (offline, no download) or 'external:<litellm model id>'",
    "local": "0.1.8's name for the local LLM; use model='expressive'",
}

_cache: dict[str, VibeModel] = {}
_lock = threading.Lock()


def resolve_model(spec: ModelSpec = DEFAULT_MODEL) -> VibeModel:
    """The model object for a ``model=`` argument (loaded once per process and cached)."""
    if spec is None:
        spec = DEFAULT_MODEL
    if isinstance(spec, str):
        key = spec.strip()
        with _lock:
            model = _cache.get(key)
            if model is None:
                model = _load_named(key)
                _cache[key] = model
        return model
    from_spec = getattr(spec, "to_model", None)
    if callable(from_spec):  # e.g. ExternalModelSpec builds its model object
        return from_spec()
    if callable(getattr(spec, "generate", None)):  # any object with generate(text)
        from latentscore.models.user_model import UserModel

        return UserModel(spec)
    raise InvalidConfigError(
        f"model: expected 'fast', 'expressive', 'external:<litellm model id>', an "
        f"ExternalModelSpec or an object with generate(text), got {type(spec).__name__}",
        field="model",
        value=spec,
        allowed=("fast", "expressive", "external:<model id>"),
    )


def _load_named(name: str) -> VibeModel:
    if name == "fast":
        from latentscore.models.fast import FastModel

        return FastModel.load()
    if name.startswith("external:"):
        return _optional("latentscore.models.external", "external_model", name)
    if name == "expressive":
        return _optional("latentscore.models.expressive", "expressive_model", name)
    if name in _RETIRED:
        raise ModelNotAvailableError(f"model {name!r}: {_RETIRED[name]}")
    raise InvalidConfigError(
        f"model: unknown model {name!r}; use 'fast', 'expressive' or "
        "'external:<litellm model id>' (e.g. 'external:openai/gpt-4o')",
        field="model",
        value=name,
        allowed=("fast", "expressive", "external:<model id>"),
    )


def _optional(module: str, factory: str, name: str) -> VibeModel:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise ModelNotAvailableError(f"model {name!r} is not available in this build") from None
    return getattr(mod, factory)(name)


def clear_model_cache() -> None:
    """Forget loaded models (tests; frees memory)."""
    with _lock:
        _cache.clear()
