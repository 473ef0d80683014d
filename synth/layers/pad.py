"""Pad layer styles (being written)."""

from __future__ import annotations

from synth.layers.base import LayerStyle

STYLES: dict[str, type[LayerStyle]] = {}
