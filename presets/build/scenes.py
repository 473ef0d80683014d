"""Write natural scene descriptions from lexicon concepts.

A template names the grammatical slots it combines ("{adjective} {place} {time}"); each
slot is filled with one surface form of a concept of that kind. Slot order in a template is
also the order of importance used for the title and palettes. Concepts whose strong
tendencies contradict each other (an "adagio chase") are rejected, so every row describes
a scene a musician could score.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from latentscore.config import FIELDS
from presets.build.lexicon import Concept

TEMPLATES: tuple[str, ...] = (
    "{adjective} {place}",
    "{adjective} {place} {time}",
    "{adjective} {place} {weather}",
    "{place} {time}",
    "{place} {weather}",
    "{place} {weather} {time}",
    "{adjective} {activity}",
    "{adjective} {activity} in the {place}",
    "{activity} through the {place}",
    "{activity} {time}",
    "{adjective} {genre}",
    "{adjective} {genre} {time}",
    "{genre} in the {place}",
    "{genre} {weather}",
    "{genre} with {music}",
    "{adjective} {place}, {music}",
    "{music} {genre}",
    "{adjective} and {adjective} {place}",
    "{adjective} {object}",
    "{place} of {object}",
    "{adjective} {place} full of {object}",
    "{object} {time}",
    "{adjective}, {adjective} {activity}",
    "{activity} with {music}",
    "{place}, {adjective}",
    "{adjective} {music}",
)
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Scene:
    text: str
    concepts: tuple[Concept, ...]
    phrases: tuple[str, ...]  # the surface form used for each concept


def _conflict(concepts: list[Concept]) -> bool:
    """True when two concepts strongly disagree about one field (distance >= 2 steps)."""
    for name, spec in FIELDS.items():
        strong = [c.tendencies[name] for c in concepts if c.tendencies.get(name, ("", 0))[1] >= 2]
        if len(strong) < 2:
            continue
        if spec.ordered:
            idx = [spec.index(v) for v, _ in strong]
            if max(idx) - min(idx) >= 2:
                return True
        elif len({v for v, s in strong if s >= 3}) > 1:
            return True
    return False


def generate(lexicon: dict[str, list[Concept]], count: int, seed: int = 0) -> Iterator[Scene]:
    """Yield ``count`` distinct scenes (deterministic for a seed)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    attempts = 0
    while len(seen) < count:
        attempts += 1
        if attempts > count * 50:
            raise RuntimeError(f"only {len(seen)} distinct scenes; extend the lexicon/templates")
        template = TEMPLATES[rng.randrange(len(TEMPLATES))]
        slots = _SLOT.findall(template)
        picked: list[Concept] = []
        for slot in slots:
            options = [c for c in lexicon[slot] if c.gen_phrases and c not in picked]
            picked.append(options[rng.randrange(len(options))])
        if _conflict(picked):
            continue
        phrases = tuple(c.gen_phrases[rng.randrange(len(c.gen_phrases))] for c in picked)
        parts = _SLOT.split(template)  # literal, slot, literal, slot, ..., literal
        parts[1::2] = phrases
        text = "".join(parts)
        if text in seen:
            continue
        seen.add(text)
        yield Scene(text, tuple(picked), phrases)
