"""Turn an LLM's near-miss field names and labels into the schema's own.

Language models write ``"Very Slow"``, ``"Bb"``, ``"aeolian"``, ``"warm"`` (for the pad style
``warm_slow``), ``"five"`` or ``"Key"`` where the schema wants ``very_slow``, ``a#``,
``minor``, ``warm_slow``, ``5`` and ``root``. Rejecting those would waste a paid round trip
on a perfectly clear answer, so this module maps them onto the schema.

Every label table is derived from :data:`latentscore.config.FIELDS` (the labels, their
order, the chromatic order of ``root``). The only hand-written tables are of plain English
words (``"quick"`` means ``"fast"``, ``"key"`` means the root field); a synonym is used only
when the word it produces is a real label of that field, so the tables can never invent a
label. Anything still unrecognised raises :class:`LabelError` with the allowed labels, which
the caller feeds back to the model.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from latentscore.config import FIELDS, FieldSpec, Label

# Generic English -> the word a label uses. Applied token by token.
_WORD_SYNONYMS: dict[str, str] = {
    "quick": "fast",
    "rapid": "fast",
    "brisk": "fast",
    "lively": "fast",
    "leisurely": "slow",
    "moderate": "medium",
    "mid": "medium",
    "med": "medium",
    "middle": "medium",
    "normal": "medium",
    "average": "medium",
    "extremely": "very",
    "super": "very",
    "really": "very",
    "dim": "dark",
    "gloomy": "dark",
    "brilliant": "bright",
    "huge": "vast",
    "enormous": "vast",
    "immense": "vast",
    "big": "large",
    "tiny": "small",
    "off": "none",
    "no": "none",
    "null": "none",
    "nothing": "none",
    "silent": "none",
    "empty": "none",
    "still": "static",
    "stationary": "static",
    "random": "chaotic",
    "erratic": "chaotic",
    "aeolian": "minor",
    "ionian": "major",
    "mechanical": "robotic",
    "quantized": "robotic",
    "quantised": "robotic",
    "sloppy": "loose",
    "hard": "sharp",
    "percussive": "sharp",
    "gentle": "soft",
    "smooth": "soft",
    "dirty": "gritty",
    "distorted": "gritty",
    "lofi": "gritty",
    "pristine": "clean",
    "analog": "warm",
    "analogue": "warm",
    "stereo": "wide",
    "minimalist": "minimal",
}

# Generic English names of a field -> the field. Targets are checked against FIELDS below.
_FIELD_SYNONYMS: dict[str, str] = {
    "key": "root",
    "tonic": "root",
    "key_center": "root",
    "scale": "mode",
    "tonality": "mode",
    "bpm": "tempo",
    "speed": "tempo",
    "reverb": "space",
    "room": "space",
    "modulation": "motion",
    "movement": "motion",
    "width": "stereo",
    "delay": "echo",
    "humanize": "human",
    "humanization": "human",
    "humanisation": "human",
    "feel": "human",
    "tone": "brightness",
    "saturation": "grain",
    "distortion": "grain",
    "layers": "density",
    "drums": "rhythm",
    "percussion": "rhythm",
    "beat": "rhythm",
    "chords": "pad",
    "pads": "pad",
    "lead": "melody",
    "textures": "texture",
    "accents": "accent",
}

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_NATURALS = "cdefgab"
_SHARP = ("#", "♯", "sharp", "s")
_FLAT = ("b", "♭", "flat")
_MODE_WORDS = ("major", "minor", "maj", "min", "m")

assert set(_FIELD_SYNONYMS.values()) <= set(FIELDS), "field synonym points at no field"


class LabelError(ValueError):
    """A field name or label that could not be mapped onto the schema."""


def canonical(text: str) -> str:
    """Lower case, words joined by single underscores (``"Very-Slow "`` -> ``"very_slow"``)."""
    return "_".join(re.split(r"[\s_\-]+", text.strip().lower())).strip("_")


def repair_field_name(name: object) -> str | None:
    """The schema field a key names (``"Tempo"``, ``"bass style"``, ``"key"``), else None."""
    if not isinstance(name, str):
        return None
    key = canonical(name)
    for candidate in (key, key.removesuffix("_style"), key.removesuffix("_layer")):
        if candidate in FIELDS:
            return candidate
        if candidate in _FIELD_SYNONYMS:
            return _FIELD_SYNONYMS[candidate]
    return None


def repair_label(field: str, value: object) -> Label:
    """The label of ``field`` that ``value`` means (raises LabelError when unclear)."""
    spec = FIELDS[field]
    if field == "density":
        return _density(spec, value)
    if field == "root" and isinstance(value, str):
        root = _root(spec, value)
        if root is not None:
            return root
    if isinstance(value, int | float) and not isinstance(value, bool) and spec.ordered:
        position = float(value)
        if 0.0 <= position <= 1.0:  # a position on the field's 0..1 axis
            return spec.nearest_label(position)
    if not isinstance(value, str) or not value.strip():
        raise _error(spec, value)
    for candidate in _candidates(value):
        if candidate in spec.labels:
            return candidate
    found = _unique_partial(spec, canonical(value))
    if found is not None:
        return found
    raise _error(spec, value)


def _error(spec: FieldSpec, value: object) -> LabelError:
    allowed = ", ".join(str(label) for label in spec.labels)
    return LabelError(f"{spec.name}: {value!r} is not a label; allowed: {allowed}")


def _candidates(value: str) -> Iterator[str]:
    """Spellings of ``value`` to look up, from most to least literal."""
    key = canonical(value)
    yield key
    words = key.split("_")
    synonyms = [_WORD_SYNONYMS.get(word, word) for word in words]
    yield "_".join(synonyms)
    for form in (key, "_".join(synonyms)):  # plural/singular: "bell" <-> "bells"
        yield form[:-1] if form.endswith("s") else form + "s"


def _unique_partial(spec: FieldSpec, key: str) -> Label | None:
    """A label that ``key`` squashes, abbreviates or misspells, if only one fits."""
    squashed = {str(label).replace("_", ""): label for label in spec.labels}
    if key.replace("_", "") in squashed:
        return squashed[key.replace("_", "")]
    words = set(key.split("_"))
    containing = [label for label in spec.labels if words and words <= set(str(label).split("_"))]
    if len(containing) == 1:  # "warm" -> warm_slow, "arp" -> arp_bass
        return containing[0]
    close = difflib.get_close_matches(key, [str(label) for label in spec.labels], n=2, cutoff=0.8)
    if len(close) == 1 or (len(close) == 2 and _clearly_closer(key, close)):
        return next(label for label in spec.labels if str(label) == close[0])
    return None


def _clearly_closer(key: str, close: list[str]) -> bool:
    ratios = [difflib.SequenceMatcher(None, key, c).ratio() for c in close]
    return ratios[0] - ratios[1] > 0.05


def _density(spec: FieldSpec, value: object) -> Label:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        match = re.search(r"\d+(\.\d+)?", value)
        if match:
            number = float(match.group())
        else:
            word = canonical(value).split("_")[0]
            number = _NUMBER_WORDS.get(word)
    if number is None:
        raise _error(spec, value)
    levels = [int(label) for label in spec.labels]
    # Out of range means "as sparse/busy as possible": clamp to the nearest level.
    return min(levels, key=lambda level: abs(level - number))


def _root(spec: FieldSpec, value: str) -> Label | None:
    """``"Bb"``, ``"C sharp"``, ``"A minor"``, ``"E♭"`` -> the chromatic label."""
    text = value.strip().lower()
    if not text or text[0] not in _NATURALS:
        return None
    rest = text[1:].strip()
    for word in _MODE_WORDS:  # "a minor" in the root field: the key is "a"
        if rest.endswith(word) and (rest[: -len(word)].strip() in ("", *_SHARP, *_FLAT)):
            rest = rest[: -len(word)].strip()
            break
    shift = 0
    if rest in _SHARP:
        shift = 1
    elif rest in _FLAT:
        shift = -1
    elif rest:
        return None
    # FIELDS lists root labels in chromatic order starting from c; naturals are the labels
    # without an accidental, so a letter's position is found rather than assumed.
    chromatic = list(spec.labels)
    natural = chromatic.index(text[0])
    return chromatic[(natural + shift) % len(chromatic)]
