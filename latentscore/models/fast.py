"""The default "fast" vibe model: MiniLM embeddings + a curated library + explicit cues.

How a text becomes a config:

1. The text is embedded with all-MiniLM-L6-v2 (:mod:`latentscore.models.minilm`, numpy,
   a few ms) and compared by cosine with every library scene.
2. The ``k`` nearest scenes vote on every field, each weighted by ``exp(cos / tau)``; an
   ordered field takes the weighted median position, an unordered one the heaviest label.
   A vote over neighbours is steadier than copying the single closest row, which may
   agree with the text on the words that matter least.
3. Cues found in the text (:mod:`latentscore.models.cues`) then act on each field:
   explicit musical terms ("allegro", "no drums", "in D dorian") decide it outright;
   descriptive words ("candlelit", "frantic") add their weight to the vote, and so, more
   lightly, do words that merely resemble a lexicon phrase ("sprinting" ~ "sprint").

The title is the text itself in title case when it has at most six words, otherwise the
closest scene's title; the palettes come from the closest scene. Everything is
deterministic.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from latentscore.config import FIELDS, FieldSpec, MusicConfig
from latentscore.models.cues import EXPLICIT, Cue, CueMatcher
from latentscore.models.library import VibeLibrary
from latentscore.models.minilm import MiniLMEncoder
from latentscore.models.result import (
    MAX_TITLE_WORDS,
    PALETTE_WEIGHTS,
    GenerateResult,
    Palette,
    PaletteColor,
    title_case,
)

FIELD_NAMES = tuple(FIELDS)
CACHE_SIZE = 512


@dataclass(frozen=True)
class FastSettings:
    """Retrieval knobs (chosen with benchmarks/vibe_eval.py)."""

    k: int = 16
    tau: float = 0.1
    cue_weight: float = 0.6  # vote mass one strength unit of a descriptive cue adds
    phrase_threshold: float = 0.7  # cosine for a leftover word to count as a lexicon phrase
    phrase_weight: float = 0.5  # its cues' weight relative to an exact phrase match
    max_phrase_strength: float = 2.0  # a look-alike never decides a field outright


@dataclass(frozen=True)
class Match:
    """A retrieval answer with its evidence (for tools and the eval script)."""

    config: MusicConfig
    neighbours: tuple[int, ...]
    similarities: tuple[float, ...]
    cues: tuple[Cue, ...]


class FastModel:
    """Text -> GenerateResult with no network, no GPU and no torch at query time."""

    name = "fast"

    def __init__(
        self,
        encoder: MiniLMEncoder,
        library: VibeLibrary,
        cues: CueMatcher,
        settings: FastSettings | None = None,
    ) -> None:
        self.encoder = encoder
        self.library = library
        self.cues = cues
        self.settings = settings or FastSettings()
        self.load_seconds = 0.0
        self._cache: OrderedDict[str, GenerateResult] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def load(cls, settings: FastSettings | None = None) -> FastModel:
        """Load the encoder weights, the library and the cue table (about 0.2 s)."""
        t0 = time.perf_counter()
        library = VibeLibrary.load()
        encoder = MiniLMEncoder.load()
        model = cls(
            encoder,
            library,
            CueMatcher.from_file(library.directory / "cues.json", _whole_words(encoder)),
            settings,
        )
        model.load_seconds = time.perf_counter() - t0
        return model

    def embed(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    def match(self, text: str, settings: FastSettings | None = None) -> Match:
        """Retrieve and vote (steps 1-3 of the module docstring)."""
        s = settings or self.settings
        cues, leftover = self.cues.scan(text)
        cues += self._lookalike_cues(leftover, s)
        sims = self.library.similarities(self.embed(text))
        k = min(s.k, sims.shape[0])
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        weights = np.exp((sims[top] - sims[top[0]]) / s.tau)
        weights /= weights.sum()
        labels = self.library.labels[top]
        by_field: dict[str, list[Cue]] = defaultdict(list)
        for cue in cues:
            by_field[cue.field].append(cue)
        chosen: dict[str, str | int] = {}
        for j, name in enumerate(FIELD_NAMES):
            spec = FIELDS[name]
            votes: np.ndarray = np.bincount(
                labels[:, j], weights=weights, minlength=len(spec.labels)
            )
            field_cues = by_field.get(name, [])
            strongest = max((c.strength for c in field_cues), default=0.0)
            explicit = [c for c in field_cues if c.strength >= max(strongest, EXPLICIT)]
            if explicit:  # the most explicit cue(s) decide the field
                votes = np.zeros(len(spec.labels))
                field_cues = _most_marked(explicit, spec) if spec.ordered else explicit
            for c in field_cues:
                votes[spec.index(c.label)] += s.cue_weight * c.strength
            chosen[name] = spec.labels[_decide(votes, spec.ordered)]
        return Match(
            config=MusicConfig(**cast(dict[str, Any], chosen)),
            neighbours=tuple(int(i) for i in top),
            similarities=tuple(float(x) for x in sims[top]),
            cues=tuple(cues),
        )

    def _lookalike_cues(self, words: list[str], s: FastSettings) -> list[Cue]:
        """Cues for leftover words that resemble a lexicon phrase ("sprinting" ~ "sprint").

        The resemblance (cosine of the two embeddings) is precomputed for every word of
        the model's vocabulary when the library is built, so this is a table lookup.
        """
        out: list[Cue] = []
        for word in dict.fromkeys(words):
            hit = self.library.word_table.get(word)
            if hit is None or hit[1] < s.phrase_threshold:
                continue
            entry = self.cues.entries[hit[0]]
            for name, label, strength in entry.tendencies:
                weight = min(strength, s.max_phrase_strength) * s.phrase_weight
                out.append(Cue(name, label, weight, f"{word}~{entry.phrase}"))
        return out

    def generate(self, text: str) -> GenerateResult:
        """The answer for ``text`` (recent answers are cached: the model is deterministic)."""
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        result = self._generate(text)
        with self._cache_lock:
            self._cache[text] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _generate(self, text: str) -> GenerateResult:
        m = self.match(text)
        row = self.library.row(m.neighbours[0])
        return GenerateResult(
            title=_title(text) or row.title,
            thinking="",
            config=m.config,
            palettes=tuple(
                Palette(
                    colors=tuple(
                        PaletteColor(hex=h, weight=w)
                        for h, w in zip(p, reversed(PALETTE_WEIGHTS), strict=True)
                    )
                )
                for p in row.palettes
            ),
            model=self.name,
            source=row.text,
        )


def _title(text: str) -> str:
    """The vibe itself in title case when it is short enough for a title, else ""."""
    if text.isupper():  # SHOUTED TEXT gets ordinary title case
        text = text.lower()
    words = [w.strip(".,;:!?\"'()[]") for w in text.split()]
    words = [w for w in words if w]
    if not words or len(words) > MAX_TITLE_WORDS:
        return ""
    return title_case(words)


def _whole_words(encoder: MiniLMEncoder) -> set[str]:
    """The embedding model's whole-word vocabulary (~20k common English words)."""
    vocab = encoder.tokenizer.get_vocab()
    return {w for w in vocab if w.isalpha() and not w.startswith("##")}


def _most_marked(cues: list[Cue], spec: FieldSpec) -> list[Cue]:
    """Of equally explicit cues on an ordered field, the ones furthest from the middle.

    "dazzling sunlight" names both bright and very bright, "brisk morning jog" both medium
    and fast, "sunny, but pitch black" bright and very dark: the more marked word is the
    more specific one, so it decides. Cues equally far out on opposite sides ("neither
    hurried nor sluggish", "dark sunny afternoon") are all kept, and their even vote
    settles in the middle.
    """
    middle = (len(spec.labels) - 1) / 2
    offsets = [abs(spec.index(c.label) - middle) for c in cues]
    furthest = max(offsets)
    return [c for c, o in zip(cues, offsets, strict=True) if o == furthest]


def _decide(votes: np.ndarray, ordered: bool) -> int:
    """Heaviest label; for ordered fields the weighted median (robust to split votes)."""
    if not ordered:
        return int(np.argmax(votes))
    cum = np.cumsum(votes)
    half = cum[-1] / 2.0
    low = int(np.searchsorted(cum, half * (1 - 1e-9), side="left"))
    high = int(np.searchsorted(cum, half * (1 + 1e-9), side="right"))
    if high <= low:
        return low
    # An even split (two equal votes on "slow" and "fast"): the median is any label from
    # the lower to the upper one, so take the one between them, rounded towards the middle.
    middle = (len(votes) - 1) / 2
    mid = (low + high) / 2
    return int(np.floor(mid) if mid > middle else np.ceil(mid))
