"""Three colour palettes that follow a MusicConfig, for answers that come without any.

A custom model may answer with a bare MusicConfig (0.1.8 allowed it), but ``Audio.metadata``
promises three five-colour palettes. These are derived from the music itself, so they mean
something: the key sets the hue (the circle of fifths around the colour wheel), the mode
warms (major, mixolydian) or cools (minor, dorian) it, brightness sets lightness, and grain
and motion set saturation. The same config always gives the same palettes.
"""

from __future__ import annotations

import colorsys

from latentscore.config import FIELDS, MusicConfig
from latentscore.models.result import PALETTE_WEIGHTS, Palette, PaletteColor

_MODE_SHIFT = {"major": 20.0, "mixolydian": 10.0, "dorian": -15.0, "minor": -30.0}
_PALETTE_HUE_OFFSETS = (0.0, 30.0, 180.0)  # the key, its neighbour, its complement
_COLOUR_STEPS = ((0.0, 0.0), (8.0, -0.12), (-10.0, 0.14), (16.0, -0.24), (-22.0, 0.26))


def _position(config: MusicConfig, field: str) -> float:
    """The field's label as 0..1 along its ordered labels."""
    spec = FIELDS[field]
    return spec.index(getattr(config, field)) / (len(spec.labels) - 1)


def _hex(hue: float, lightness: float, saturation: float) -> str:
    r, g, b = colorsys.hls_to_rgb((hue % 360.0) / 360.0, lightness, saturation)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def palettes_for(config: MusicConfig) -> tuple[Palette, Palette, Palette]:
    """Three palettes (dominant colour first, weights xl .. xs) that suit ``config``."""
    root = FIELDS["root"].index(config.root)
    base_hue = (root * 7 % 12) * 30.0 + _MODE_SHIFT.get(config.mode, 0.0)
    lightness = 0.18 + 0.6 * _position(config, "brightness")
    saturation = 0.25 + 0.35 * _position(config, "grain") + 0.3 * _position(config, "motion")
    palettes: list[Palette] = []
    for offset in _PALETTE_HUE_OFFSETS:
        colors = tuple(
            PaletteColor(
                hex=_hex(
                    base_hue + offset + hue_step,
                    min(0.92, max(0.06, lightness + light_step)),
                    min(1.0, saturation),
                ),
                weight=weight,
            )
            for (hue_step, light_step), weight in zip(
                _COLOUR_STEPS, reversed(PALETTE_WEIGHTS), strict=True
            )
        )
        palettes.append(Palette(colors=colors))
    return palettes[0], palettes[1], palettes[2]
