"""Turn a set of concepts into a coherent MusicConfig, a title and three palettes.

Rules, in order:

1. Every concept votes for the field values it implies, weighted by strength (1 plain,
   2 strong, 3 explicit). Ordered fields take the strength-weighted mean position (so a
   "dim basement at noon" lands between dark and very bright); unordered fields take the
   heaviest vote.
2. Fields no concept speaks about are filled from the ones that were decided, using the
   conventions of ambient production (slow pieces get soft attacks and no drums, fast
   ones get a kit and a pulsing bass, dark pieces lean minor and dark pads...). Where
   several choices are equally idiomatic a seeded RNG picks one, so the library covers
   the style space without contradicting the text.
"""

from __future__ import annotations

import colorsys
import random
from collections.abc import Sequence
from typing import Any, cast

from latentscore.config import FIELDS, MusicConfig
from latentscore.models.result import MAX_TITLE_WORDS, PALETTE_WEIGHTS, title_case
from presets.build.lexicon import Concept

ORDERED = [n for n, s in FIELDS.items() if s.ordered]


def vote(concepts: Sequence[Concept]) -> dict[str, str | int]:
    """Field values the concepts decide (rule 1)."""
    decided: dict[str, str | int] = {}
    for name, spec in FIELDS.items():
        votes = [c.tendencies[name] for c in concepts if name in c.tendencies]
        if not votes:
            continue
        top = max(s for _, s in votes)
        if top >= 3:  # explicit terms outrank descriptions
            votes = [(v, s) for v, s in votes if s >= 3]
        if spec.ordered:
            total = sum(s for _, s in votes)
            pos = sum(spec.position(v) * s for v, s in votes) / total
            decided[name] = spec.nearest_label(pos)
        else:
            weights: dict[str | int, float] = {}
            for v, s in votes:
                weights[v] = weights.get(v, 0.0) + s
            decided[name] = max(weights, key=lambda k: weights[k])
    return decided


def _pick(rng: random.Random, options: Sequence[str | int]) -> str | int:
    return options[rng.randrange(len(options))]


def complete(decided: dict[str, str | int], rng: random.Random) -> MusicConfig:
    """Fill the undecided fields idiomatically (rule 2)."""
    d = dict(decided)
    if "tempo" not in d:
        # ambient's home tempo; the extremes only when a word asks for them
        d["tempo"] = _pick(rng, ("slow", "slow", "slow", "medium"))
    tempo = FIELDS["tempo"].index(d["tempo"])
    if "brightness" not in d:
        mode = d.get("mode")
        dark_lean = ("dark", "medium") if mode == "minor" else ("medium",)
        bright_lean = ("medium", "bright") if mode == "major" else ("medium",)
        d["brightness"] = _pick(rng, dark_lean if mode == "minor" else bright_lean)
    bright = FIELDS["brightness"].index(d["brightness"])
    if "mode" not in d:
        d["mode"] = (
            "minor" if bright <= 1 else "major" if bright >= 3 else _pick(rng, ("minor", "major"))
        )
    mode = d["mode"]
    d.setdefault("density", {0: 3, 1: 4, 2: 4, 3: 5, 4: 6}[tempo])
    if "rhythm" not in d:
        if tempo <= 1:
            d["rhythm"] = (
                "none" if cast(int, d["density"]) <= 3 else _pick(rng, ("none", "minimal"))
            )
        elif tempo == 2:
            d["rhythm"] = _pick(rng, ("kit_light", "minimal", "soft_four"))
        else:
            d["rhythm"] = _pick(rng, ("kit_medium", "electronic"))
    d.setdefault("attack", "soft" if tempo <= 1 else "medium" if tempo == 2 else "sharp")
    d.setdefault("motion", "slow" if tempo <= 2 else "medium")
    if "space" not in d:
        d["space"] = "large" if tempo <= 1 else "medium" if tempo == 2 else "small"
    space = FIELDS["space"].index(d["space"])
    d.setdefault("stereo", "wide" if space >= 3 else "medium" if space >= 1 else "narrow")
    d.setdefault("echo", "medium" if space >= 3 and tempo <= 1 else "subtle")
    d.setdefault("human", "natural" if d["rhythm"] != "electronic" else "tight")
    d.setdefault("grain", "clean" if bright >= 3 else _pick(rng, ("clean", "warm")))
    if "bass" not in d:
        d["bass"] = (
            _pick(rng, ("drone", "sustained"))
            if tempo <= 1
            else _pick(rng, ("sustained", "pulsing"))
            if tempo == 2
            else _pick(rng, ("pulsing", "octave"))
        )
    if "pad" not in d:
        if bright <= 1:
            d["pad"] = "dark_sustained"
        elif bright >= 3:
            d["pad"] = _pick(rng, ("bright_open", "thin_high"))
        else:
            d["pad"] = _pick(rng, ("warm_slow", "ambient_drift"))
    if "melody" not in d:
        if tempo >= 3:
            d["melody"] = _pick(rng, ("arp_melody", "procedural"))
        elif mode == "minor":
            d["melody"] = _pick(rng, ("contemplative_minor", "falling", "minimal"))
        elif mode == "major":
            d["melody"] = _pick(rng, ("contemplative", "rising", "procedural"))
        else:
            d["melody"] = _pick(rng, ("minimal", "ornamental", "call_response"))
    if "texture" not in d:
        d["texture"] = (
            _pick(rng, ("shimmer", "shimmer_slow"))
            if bright >= 3
            else _pick(rng, ("breath", "none"))
            if bright <= 1
            else _pick(rng, ("none", "pad_whisper", "shimmer_slow"))
        )
    if "accent" not in d:
        d["accent"] = (
            _pick(rng, ("chime", "bells"))
            if bright >= 3
            else _pick(rng, ("none", "piano_note"))
            if bright <= 1
            else _pick(rng, ("none", "pluck", "bells"))
        )
    d.setdefault("root", _pick(rng, FIELDS["root"].labels))
    return MusicConfig(**cast(dict[str, Any], d))


def title(text: str, phrases: Sequence[str]) -> str:
    """A short title (<= 6 words): the scene text itself, or its two leading phrases."""
    words = [w.strip(",") for w in text.split()]
    if len(words) > MAX_TITLE_WORDS:
        lead: list[str] = []
        for phrase in phrases[:2]:
            for prefix in ("at ", "in the ", "in a ", "in ", "on a ", "under a ", "under ", "by "):
                if phrase.startswith(prefix):
                    phrase = phrase[len(prefix) :]
                    break
            lead.extend(phrase.split())
        words = lead[:MAX_TITLE_WORDS]
    return title_case(words)


def _rgb(hex_color: str) -> tuple[float, float, float]:
    return tuple(int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(1.0, max(0.0, x)) * 255):02x}" for x in rgb)


def _shade(hex_color: str, lightness: float, saturation: float = 1.0) -> str:
    h, l_, s = colorsys.rgb_to_hls(*_rgb(hex_color))
    return _hex(colorsys.hls_to_rgb(h, min(0.97, max(0.03, l_ * lightness)), s * saturation))


def palettes(
    concepts: Sequence[Concept], config: MusicConfig, rng: random.Random
) -> list[list[dict[str, str]]]:
    """Three five-colour palettes: each concept's colours, then a blend, shaded by brightness."""
    sources = [list(c.colors) for c in concepts if c.colors]
    if not sources:
        sources = [["#3a506b", "#5bc0be", "#1c2541", "#6fffe9", "#0b132b"]]
    light = 0.7 + 0.15 * FIELDS["brightness"].index(config.brightness)
    pool = [col for src in sources for col in src]
    chosen: list[list[str]] = []
    for i in range(3):
        if i < len(sources):
            base = sources[i]
        else:
            base = rng.sample(pool, 5) if len(pool) >= 5 else (pool * 5)[:5]
        factor = light * (1.0, 0.85, 1.15)[i]
        chosen.append([_shade(col, factor) for col in base[:5]])
    return [
        [{"hex": col, "weight": w} for col, w in zip(p, reversed(PALETTE_WEIGHTS), strict=True)]
        for p in chosen
    ]
