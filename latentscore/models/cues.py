"""Explicit cues: words in a vibe that name a field's value win over the neighbours' vote.

The matcher reads the same lexicon the library was built from (shipped as ``cues.json``):
every phrase with the field values it implies and a strength (1 plain, 2 strong, 3
explicit). Matching is on normalised tokens (case, accents and hyphens ignored), longest
phrase first, so "very dark" is one cue and "dark" inside it is not counted again.

Besides lexicon phrases it understands:

* negation: "not dark" asks for the other side of the middle (medium-bright), and
  cancels unordered cues ("not jazz"); phrases that carry their own negation such as
  "no drums" are lexicon entries;
* intensity: "very"/"extremely" push an ordered value one step outwards, "slightly"/"a bit"
  one step towards the middle;
* inflections and typos: "sprinting" is read as "sprint", "storms" as "storm", "slowest" as
  "very slow"; an unknown word one edit away from a lexicon word is read as that word
  ("melancholly");
* keys and tempi: "in D dorian", "C# minor", "key of Eb", "92 bpm".
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from latentscore.config import FIELDS

EXPLICIT = 3.0
MUSIC_TERM_BONUS = 1.0
BPM_STRENGTH = 5.0  # a number beats any tempo word
# "neither rushed nor dragging": each side is mirrored, and the two meet in the middle.
_NEGATIONS = frozenset({"no", "not", "without", "never", "neither", "nor", "non", "zero", "less"})
_INTENSIFIERS = frozenset(
    {
        "very",
        "extremely",
        "really",
        "super",
        "incredibly",
        "ultra",
        "so",
        "totally",
        "utterly",
        "impossibly",
        "insanely",
        "unbelievably",
        "ridiculously",
        "absurdly",
        "exceptionally",
        "remarkably",
        "intensely",
        "hyper",
        "mega",
    }
)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "by",
        "to",
        "with",
        "for",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "through",
        "across",
        "along",
        "around",
        "about",
        "after",
        "before",
        "during",
        "while",
        "as",
        "than",
        "like",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "some",
        "any",
        "all",
        "just",
        "very",
        "so",
        "too",
        "my",
        "your",
        "our",
        "their",
        "his",
        "her",
        "i",
        "we",
        "you",
        "they",
        "he",
        "she",
        "me",
        "us",
        "them",
        "what",
        "which",
        "who",
        "whom",
        "where",
        "when",
        "how",
        "up",
        "down",
        "out",
        "off",
        "again",
        "once",
        "only",
        "own",
        "same",
        "then",
        "also",
        "yet",
        "still",
        "such",
        "more",
        "most",
        "much",
        "many",
        "few",
        "each",
        "other",
        "something",
        "someone",
        "somewhere",
        "feel",
        "feeling",
        "feels",
        "vibe",
        "vibes",
        "mood",
        "music",
        "song",
        "track",
        "sound",
        "sounds",
        "piece",
    ]
)
_CONJUNCTIONS = frozenset({"and", "or", "but", "yet"})
_SOFTENERS = frozenset({"slightly", "somewhat", "mildly", "fairly", "moderately", "kinda"})
_TOKEN = re.compile(r"[a-z0-9#]+")
_FLATS = {"cb": "b", "db": "c#", "eb": "d#", "fb": "e", "gb": "f#", "ab": "g#", "bb": "a#"}
_SHARPS_UP = {"e#": "f", "b#": "c"}
_MODE_WORDS = {
    "major": "major",
    "maj": "major",
    "minor": "minor",
    "min": "minor",
    "m": "minor",
    "dorian": "dorian",
    "mixolydian": "mixolydian",
}
_KEY = re.compile(
    r"(?<![\w#])([A-G])\s*(#|♯|b|♭|-sharp| sharp|-flat| flat)?"
    r"(?:\s*|-)(major|minor|maj|min|dorian|mixolydian|m)\b"
)
_KEY_OF = re.compile(r"\bkey of ([a-gA-G])\s*(#|♯|b|♭| sharp| flat)?", re.IGNORECASE)
_BPM = re.compile(r"\b(\d{2,3}(?:\.\d+)?)\s*bpm\b", re.IGNORECASE)


def normalise(text: str) -> str:
    """Lower case, accents stripped, hyphens/underscores as spaces (matching form)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("-", " ").replace("_", " ").replace("'", "")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


@dataclass(frozen=True)
class Cue:
    """One field value the text asks for."""

    field: str
    label: str | int
    strength: float
    phrase: str


@dataclass(frozen=True)
class _Entry:
    phrase: str
    tendencies: tuple[tuple[str, str | int, float], ...]


class CueMatcher:
    """Finds lexicon phrases (and keys/tempi) in a vibe text."""

    def __init__(self, table: Sequence[dict[str, object]], known_words: Iterable[str] = ()) -> None:
        self._index: dict[tuple[str, ...], _Entry] = {}
        self.entries: list[_Entry] = []  # one per phrase, in cues.json order
        for row in table:
            # Musical terms ("no drums", "in a minor key") outrank every other kind of
            # word that also names a value ("techno" implies four-on-the-floor).
            boost = MUSIC_TERM_BONUS if row.get("slot") == "music" else 0.0
            tend = tuple(
                (str(name), _label(str(name), value), float(strength) + boost)
                for name, (value, strength) in dict(row["tendencies"]).items()  # type: ignore[call-overload]
            )
            for phrase in row["phrases"]:  # type: ignore[attr-defined]
                entry = _Entry(str(phrase), tend)
                self.entries.append(entry)
                key = tuple(tokens(str(phrase)))
                for variant in (key, _singular(key)):
                    if variant and variant not in self._index:
                        self._index[variant] = entry
        self._max_len = max(len(k) for k in self._index)
        self._vocab = {t for k in self._index for t in k}
        # Real words are never "corrected" (welding is not wedding): only words outside
        # the lexicon and outside the embedding model's vocabulary count as typos.
        self._known = frozenset(known_words) | self._vocab
        self._deletes: dict[str, str] = {}
        for word in sorted(self._vocab):
            if len(word) >= 4:
                for spelling in (word, *_deletions(word)):
                    self._deletes.setdefault(spelling, word)

    @classmethod
    def from_file(cls, path: Path, known_words: Iterable[str] = ()) -> CueMatcher:
        return cls(json.loads(path.read_text(encoding="utf-8")), known_words)

    def correct(self, word: str) -> str:
        """The lexicon word ``word`` stands for: itself, its stem, or a near-miss typo."""
        if word in self._vocab or word.isdigit():
            return word
        # Plurals always reduce (storms -> storm); other inflections only for words the
        # embedding model does not know whole (sprinting -> sprint), since a known word
        # such as "staring" has its own meaning (not "star").
        plural_only = word in self._known
        for stem in _stems(word, plural_only):
            if stem in self._vocab:
                return stem
        if word in self._known or len(word) < 5:
            return word
        for variant in (word, *_deletions(word)):
            hit = self._deletes.get(variant)
            if hit is not None and abs(len(hit) - len(word)) <= 1:
                return hit
        return word

    def _superlative(self, word: str) -> tuple[str, ...]:
        """ "slowest" -> ("very", "slow"): a superlative of a lexicon word is that word one
        step further out. Words the lexicon has whole ("darkest", "forest") stay as they are.
        """
        if word in self._vocab or len(word) < 6 or not word.endswith("est"):
            return (word,)
        stem = word[:-3]
        sunniest = (stem[:-1] + "y",) if stem.endswith("i") else ()
        for base in (*_bases(stem), *sunniest):
            if base in self._vocab:
                return ("very", base)
        return (word,)

    def find(self, text: str) -> list[Cue]:
        """Every cue in ``text``, in reading order."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[list[Cue], list[str]]:
        """Cues in ``text`` and the content words no lexicon phrase explained.

        The leftover words (stop words and negated words dropped, in order) are what the
        fast model compares with lexicon phrases by embedding, so "sprinting" can still
        mean what "sprint" means.
        """
        toks = [w for t in tokens(text) for w in self._superlative(t)]
        toks = [self.correct(t) for t in toks]
        cues: list[Cue] = []
        leftover: list[str] = []
        i = 0
        last_end, last_shift = -1, 0
        while i < len(toks):
            before = toks[max(0, i - 2) : i]
            negated = bool(_NEGATIONS & set(before))
            # "very slow and dark": an intensifier carries across a coordinated list.
            carried = last_shift if set(toks[last_end:i]) <= _CONJUNCTIONS else 0
            for n in range(min(self._max_len, len(toks) - i), 0, -1):
                entry = self._index.get(tuple(toks[i : i + n]))
                if entry is None:
                    continue
                if not negated or toks[i] in _NEGATIONS:
                    shift = _shift(before) or carried
                    for name, v, s in entry.tendencies:
                        cues.append(_cue(name, v, s, entry.phrase, shift))
                    last_shift = 1 if toks[i] in _INTENSIFIERS else shift
                else:  # "not dark": the other side of the middle, as strongly
                    cues.extend(
                        c
                        for name, v, s in entry.tendencies
                        if (c := _opposite(name, v, s, entry.phrase)) is not None
                    )
                i += n
                last_end = i
                break
            else:
                word = toks[i]
                if not negated and word not in _STOPWORDS and not word.isdigit():
                    leftover.append(word)
                i += 1
        cues.extend(_key_cues(text))
        cues.extend(_bpm_cues(text))
        return cues, leftover


_SUFFIXES = ("ing", "ed", "es", "s", "ly", "er", "ness")


def _singular(key: tuple[str, ...]) -> tuple[str, ...]:
    """A multi-word phrase with its last word made singular ("rim clicks" -> "rim click"),
    or ``()``. Queries reduce plurals to a lexicon singular themselves; this covers the
    other way round. Single words are left alone ("news" is not "new")."""
    last = key[-1] if len(key) > 1 else ""
    if len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        return (*key[:-1], last[:-1])
    return ()


def _stems(word: str, plural_only: bool = False) -> Iterable[str]:
    """Candidate stems of an inflected word, most specific first."""
    for suffix in ("es", "s") if plural_only else _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            yield from _bases(word[: -len(suffix)])


def _bases(stem: str) -> Iterable[str]:
    """The words a suffix may have been stripped from: the stem itself, with its silent e
    (danced -> dance, hoping -> hope), or without a doubled final consonant (running -> run,
    saddest -> sad)."""
    yield stem
    yield stem + "e"
    if len(stem) > 2 and stem[-1] == stem[-2]:
        yield stem[:-1]


def _deletions(word: str) -> Iterable[str]:
    return (word[:k] + word[k + 1 :] for k in range(len(word)))


def _label(name: str, value: object) -> str | int:
    return int(value) if name == "density" else str(value)  # type: ignore[call-overload]


def _shift(before: Sequence[str]) -> int:
    if _INTENSIFIERS & set(before):
        return 1
    if _SOFTENERS & set(before) or before[-2:] == ["a", "bit"] or before[-2:] == ["a", "little"]:
        return -1
    return 0


def _cue(name: str, value: str | int, strength: float, phrase: str, shift: int) -> Cue:
    spec = FIELDS[name]
    if shift and spec.ordered:
        idx = spec.index(value)
        middle = (len(spec.labels) - 1) / 2
        if idx != middle:
            outward = 1 if idx > middle else -1
            idx = min(len(spec.labels) - 1, max(0, idx + outward * shift))
            value = spec.labels[idx]
    return Cue(name, value, strength, phrase)


def _opposite(name: str, value: str | int, strength: float, phrase: str) -> Cue | None:
    """What "not <phrase>" asks of an ordered field: one step past the middle, mirrored."""
    spec = FIELDS[name]
    if not spec.ordered:
        return None
    idx, middle = spec.index(value), (len(spec.labels) - 1) / 2
    if idx == middle:
        return None
    target = int(middle + 1) if idx < middle else int(middle - 1 + (middle % 1) * 2)
    return Cue(name, spec.labels[target], strength, f"not {phrase}")


def _pitch(letter: str, accidental: str | None) -> str:
    name = letter.lower()
    acc = (accidental or "").strip().lstrip("-")
    if acc in ("#", "♯", "sharp"):
        name += "#"
    elif acc in ("b", "♭", "flat"):
        name += "b"
    name = _FLATS.get(name, _SHARPS_UP.get(name, name))
    return name


def _key_cues(text: str) -> list[Cue]:
    out: list[Cue] = []
    for m in _KEY.finditer(text):
        out.append(Cue("root", _pitch(m.group(1), m.group(2)), EXPLICIT, m.group(0)))
        out.append(Cue("mode", _MODE_WORDS[m.group(3).lower()], EXPLICIT, m.group(0)))
    for m in _KEY_OF.finditer(text):
        out.append(Cue("root", _pitch(m.group(1), m.group(2)), EXPLICIT, m.group(0)))
    return out


def explicit_bpm(text: str) -> float | None:
    """The first "<number> bpm" in ``text`` that the engine can play exactly (40..200)."""
    from synth.params import BPM_RANGE

    for m in _BPM.finditer(text):
        bpm = float(m.group(1))
        if BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
            return bpm
    return None


def _bpm_cues(text: str) -> list[Cue]:
    from synth.params import TEMPO_BPM

    out: list[Cue] = []
    for m in _BPM.finditer(text):
        bpm = float(m.group(1))
        idx = min(range(len(TEMPO_BPM)), key=lambda i: abs(TEMPO_BPM[i] - bpm))
        out.append(Cue("tempo", FIELDS["tempo"].labels[idx], BPM_STRENGTH, m.group(0)))
    return out
