"""Per-layer style registry: ``make_style(layer, name)`` builds a fresh LayerStyle instance."""

from __future__ import annotations

from synth.layers import accent, bass, melody, pad, rhythm, texture
from synth.layers.base import BarContext, LayerStyle, Silent, VoiceContext

STYLES: dict[str, dict[str, type[LayerStyle]]] = {
    "bass": bass.STYLES,
    "pad": pad.STYLES,
    "melody": melody.STYLES,
    "rhythm": rhythm.STYLES,
    "texture": texture.STYLES,
    "accent": accent.STYLES,
}


def make_style(layer: str, name: str) -> LayerStyle:
    """A new instance of a layer style (``none`` -> :class:`Silent`)."""
    if name == "none":
        return Silent(layer)
    try:
        cls = STYLES[layer][name]
    except KeyError:
        raise ValueError(
            f"{layer}: unknown style {name!r}; known: {sorted(STYLES[layer])}"
        ) from None
    return cls()


__all__ = ["STYLES", "BarContext", "LayerStyle", "Silent", "VoiceContext", "make_style"]
