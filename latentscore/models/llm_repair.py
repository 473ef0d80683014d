"""Read an LLM's reply as a :class:`GenerateResult`, repairing near-misses on the way.

Replies are often almost right: JSON wrapped in code fences or followed by a friendly
sentence, ``"Title"`` instead of ``"title"``, a seven-word title, ``"aabbcc"`` for
``"#aabbcc"``, four palettes, labels in the wrong case. :func:`parse_answer` fixes what has
one obvious meaning (labels via :mod:`latentscore.models.label_repair`), validates the rest
with the pydantic models, and raises :class:`AnswerError` with a message written for the
model, so a retry can correct exactly what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from latentscore.config import FIELDS, MusicConfig
from latentscore.errors import InvalidConfigError
from latentscore.models.label_repair import LabelError, repair_field_name, repair_label
from latentscore.models.result import (
    ACCEPTED_WEIGHTS,
    MAX_TITLE_WORDS,
    PALETTE_COUNT,
    PALETTE_SIZE,
    PALETTE_WEIGHTS,
    GenerateResult,
    Palette,
    PaletteColor,
)

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_HEX_DIGITS = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_WEIGHT_WORDS = {
    "extra_small": "xs",
    "x_small": "xs",
    "tiny": "xs",
    "small": "sm",
    "medium": "md",
    "mid": "md",
    "large": "lg",
    "big": "lg",
    "extra_large": "xl",
    "x_large": "xl",
    "huge": "xl",
}
_CONFIG_KEYS = ("config", "music_config", "musicconfig", "settings", "music")
_PALETTE_KEYS = ("palettes", "palette", "colour_palettes", "color_palettes", "colors")

assert set(_WEIGHT_WORDS.values()) <= set(PALETTE_WEIGHTS)


class AnswerError(ValueError):
    """A reply that cannot be used; the message says why, in words a model can act on."""


def find_json_object_end(text: str, start: int = 0) -> int | None:
    """Index just past the JSON object opening at ``text[start]`` (string-aware), or None."""
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a reply: inside code fences or prose, before trailing text."""
    if not text or not text.strip():
        raise AnswerError("the reply was empty; expected a JSON object")
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for source in sources:
        start = source.find("{")
        while start != -1:
            end = find_json_object_end(source, start)
            if end is None:  # cut off: anything later is inside this unfinished object
                break
            data = _loads_lenient(source[start:end])
            if isinstance(data, dict):
                return data
            start = source.find("{", end)
    raise AnswerError("the reply did not contain a complete JSON object")


def _loads_lenient(chunk: str) -> Any:
    for attempt in (chunk, _TRAILING_COMMA.sub(r"\1", chunk)):
        try:
            return json.loads(attempt)
        except json.JSONDecodeError:
            continue
    return None


def parse_answer(text: str, *, model: str, vibe: str, reasoning: str = "") -> GenerateResult:
    """A validated GenerateResult from a raw reply (raises AnswerError).

    Args:
        text: the model's reply.
        model: the model's name, stored on the result.
        vibe: the vibe text, used to name the piece if the model gave no title.
        reasoning: the provider's separate reasoning trace, used when the answer's own
            ``thinking`` is empty.
    """
    data = {_key(k): v for k, v in extract_json_object(text).items()}
    thinking = data.get("thinking", data.get("reasoning", "")) or reasoning
    try:
        return GenerateResult(
            title=_title(data.get("title"), vibe),
            thinking=thinking if isinstance(thinking, str) else json.dumps(thinking),
            config=_config(data),
            palettes=_palettes(data),
            model=model,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise AnswerError(f"{where}: {err.get('msg')}") from None


def _key(name: object) -> str:
    return "_".join(str(name).strip().lower().replace("-", " ").split())


def _title(value: object, vibe: str) -> str:
    words = value.strip().strip("\"'").split() if isinstance(value, str) else []
    if not words:  # untitled: name it after the vibe
        words = vibe.title().split()
    return " ".join(words[:MAX_TITLE_WORDS])


def _config(data: dict[str, Any]) -> MusicConfig:
    raw = next((data[k] for k in _CONFIG_KEYS if isinstance(data.get(k), dict)), None)
    if raw is None:  # fields written at the top level instead of under "config"
        raw = {k: v for k, v in data.items() if repair_field_name(k) is not None}
    if not raw:
        raise AnswerError(
            f'"config" is missing; it must map each of {", ".join(FIELDS)} to a label'
        )
    labels: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        field = repair_field_name(key)
        if field is None or field in labels:
            continue  # an extra key the schema has no use for
        try:
            labels[field] = repair_label(field, value)
        except LabelError as exc:
            problems.append(str(exc))
    if problems:
        raise AnswerError("; ".join(problems))
    try:
        return MusicConfig(**labels)
    except InvalidConfigError as exc:  # pragma: no cover - repair_label only returns labels
        raise AnswerError(str(exc)) from None


def _palettes(data: dict[str, Any]) -> tuple[Palette, ...]:
    raw = next((data[k] for k in _PALETTE_KEYS if isinstance(data.get(k), list)), None)
    if raw is None:
        raise AnswerError(f'"palettes" is missing; give exactly {PALETTE_COUNT} palettes')
    palettes = [_palette(i, item) for i, item in enumerate(raw[:PALETTE_COUNT])]
    if len(palettes) < PALETTE_COUNT:
        raise AnswerError(f"got {len(palettes)} palettes; give exactly {PALETTE_COUNT}")
    return tuple(palettes)


def _palette(index: int, item: object) -> Palette:
    colors = item
    if isinstance(item, dict):
        colors = next(
            (item[k] for k in ("colors", "colours", "palette") if isinstance(item.get(k), list)),
            None,
        )
    if not isinstance(colors, list) or len(colors) < PALETTE_SIZE:
        got = len(colors) if isinstance(colors, list) else "no"
        raise AnswerError(f"palette {index + 1} has {got} colours; give exactly {PALETTE_SIZE}")
    return Palette(colors=tuple(_color(index, i, c) for i, c in enumerate(colors[:PALETTE_SIZE])))


def _color(palette: int, position: int, item: object) -> PaletteColor:
    where = f"palette {palette + 1} colour {position + 1}"
    hex_value: object = item
    weight: object = None
    if isinstance(item, dict):
        hex_value = next((item[k] for k in ("hex", "color", "colour", "value") if k in item), None)
        weight = item.get("weight", item.get("size"))
    match = _HEX_DIGITS.match(hex_value.strip()) if isinstance(hex_value, str) else None
    if match is None:
        raise AnswerError(f"{where}: {hex_value!r} is not a '#RRGGBB' colour")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return PaletteColor(hex=f"#{digits.lower()}", weight=_weight(where, weight, position))


def _weight(where: str, value: object, position: int) -> Any:
    if value is None:  # unweighted colours: the first dominates, the last is an accent
        return PALETTE_WEIGHTS[::-1][position % len(PALETTE_WEIGHTS)]
    if isinstance(value, str):
        key = "_".join(value.strip().lower().replace("-", " ").split())
        if key in ACCEPTED_WEIGHTS:
            return key
        if key in _WEIGHT_WORDS:
            return _WEIGHT_WORDS[key]
    allowed = ", ".join(ACCEPTED_WEIGHTS)
    raise AnswerError(f"{where}: weight {value!r} is not one of {allowed}")
