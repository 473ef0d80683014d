"""Parse the hand-authored lexicon (``lexicon/*.txt``) into :class:`Concept` objects.

Each concept is a musical reading of a word or phrase: the field values it implies, how
strongly, and the colours it evokes. The library builder combines concepts into scenes and
the query-time cue matcher reads the same concepts (exported as ``cues.json``), so what a
word means is written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from latentscore.config import FIELDS

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
# "cue" (cue-only vocabulary) comes last: a phrase defined in a scene slot keeps that meaning.
SLOTS = ("adjective", "place", "time", "weather", "activity", "genre", "music", "object", "cue")
_HEX = re.compile(r"^#[0-9a-f]{6}$")


@dataclass(frozen=True)
class Concept:
    """One lexicon line."""

    slot: str
    phrases: tuple[str, ...]  # every surface form (matched in queries)
    gen_phrases: tuple[str, ...]  # the forms used when writing scene texts
    tendencies: dict[str, tuple[str | int, float]] = field(hash=False)
    colors: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.gen_phrases[0] if self.gen_phrases else self.phrases[0]


def _label(field_name: str, raw: str, where: str) -> str | int:
    spec = FIELDS.get(field_name)
    if spec is None:
        raise ValueError(f"{where}: unknown field {field_name!r}; allowed: {', '.join(FIELDS)}")
    value: str | int = int(raw) if field_name == "density" else raw
    if value not in spec.labels:
        raise ValueError(f"{where}: {field_name}={raw!r} is not one of {spec.labels}")
    return value


def parse_line(slot: str, line: str, where: str) -> Concept:
    """Parse ``phrases | tendencies | colours`` (see lexicon/README.txt)."""
    parts = [p.strip() for p in line.split("|")]
    if len(parts) not in (2, 3):
        raise ValueError(f"{where}: expected 'phrases | tendencies | colours', got {line!r}")
    raw_phrases = [p.strip().lower() for p in parts[0].split(";") if p.strip()]
    phrases = tuple(p.lstrip("~").strip() for p in raw_phrases)
    gen = tuple(p for p in raw_phrases if not p.startswith("~"))
    tendencies: dict[str, tuple[str | int, float]] = {}
    for token in parts[1].split():
        name, _, value = token.partition("=")
        strength = 1.0 + value.count("!")
        value = value.rstrip("!")
        tendencies[name] = (_label(name, value, where), strength)
    colors = tuple(c.lower() for c in parts[2].split()) if len(parts) == 3 else ()
    for c in colors:
        if not _HEX.match(c):
            raise ValueError(f"{where}: bad colour {c!r} (expected #rrggbb)")
    if not phrases or not tendencies:
        raise ValueError(f"{where}: a concept needs phrases and at least one tendency")
    return Concept(slot, phrases, gen, tendencies, colors)


def load_lexicon(directory: Path = LEXICON_DIR) -> dict[str, list[Concept]]:
    """All concepts, by slot (file name).

    A cue-only phrase (``cue.txt``) may not repeat a phrase defined before it: the first
    definition wins at query time, so the repeat would be silently dead.
    """
    from latentscore.models.cues import tokens

    out: dict[str, list[Concept]] = {}
    defined: dict[tuple[str, ...], str] = {}
    for slot in SLOTS:
        path = directory / f"{slot}.txt"
        concepts: list[Concept] = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                where = f"{path.name}:{n}"
                concept = parse_line(slot, line, where)
                for phrase in concept.phrases:
                    key = tuple(tokens(phrase))
                    if slot == "cue" and defined.get(key, where) != where:
                        raise ValueError(
                            f"{where}: {phrase!r} is already defined at {defined[key]}; "
                            "edit it there (the first definition wins)"
                        )
                    defined.setdefault(key, where)
                concepts.append(concept)
        out[slot] = concepts
    return out


def cue_table(lexicon: dict[str, list[Concept]]) -> list[dict[str, object]]:
    """The lexicon as shipped runtime data (``cues.json``): phrase -> field tendencies."""
    rows: list[dict[str, object]] = []
    for slot, concepts in lexicon.items():
        for c in concepts:
            rows.append(
                {
                    "slot": slot,
                    "phrases": list(c.phrases),
                    "tendencies": {k: [v, s] for k, (v, s) in c.tendencies.items()},
                }
            )
    return rows
