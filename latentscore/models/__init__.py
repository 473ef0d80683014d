"""Vibe models: text -> :class:`GenerateResult` (title, thinking, MusicConfig, palettes)."""

from latentscore.models.base import DEFAULT_MODEL, ModelSpec, VibeModel, resolve_model
from latentscore.models.result import GenerateResult, Palette, PaletteColor

__all__ = [
    "DEFAULT_MODEL",
    "GenerateResult",
    "ModelSpec",
    "Palette",
    "PaletteColor",
    "VibeModel",
    "resolve_model",
]
