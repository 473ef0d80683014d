"""What every LLM-backed vibe model is asked: the instructions, the field guide, the JSON schema.

The external (LiteLLM) and the local expressive model send the same prompt, so an answer
means the same thing whichever model wrote it. Everything about the config fields (names,
labels, their order, what they do) is generated from :data:`latentscore.config.FIELDS`: when
a label is added to the schema, the prompt and the structured-output schema follow.
"""

from __future__ import annotations

from typing import Any

from latentscore.config import FIELDS
from latentscore.models.result import (
    ACCEPTED_WEIGHTS,
    MAX_TITLE_WORDS,
    PALETTE_COUNT,
    PALETTE_SIZE,
    PALETTE_WEIGHTS,
)

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": ...}``."""

SCHEMA_NAME = "latentscore_vibe_answer"


def field_guide() -> str:
    """One line per config field: name, kind, allowed labels (in order) and what it does."""
    lines = []
    for spec in FIELDS.values():
        labels = " | ".join(str(label) for label in spec.labels)
        kind = "ordered low->high" if spec.ordered else "choose one"
        lines.append(f"- {spec.name} ({kind}): {labels}. {spec.description}")
    return "\n".join(lines)


def _answer_shape() -> str:
    fields = ", ".join(f'"{name}": <label>' for name in FIELDS)
    color = '{"hex": "#RRGGBB", "weight": <weight>}'
    palette = '{"colors": [' + ", ".join([color] * 2) + ", ... 5 colours]}"
    return (
        "{\n"
        '  "title": <a short evocative name, at most 6 words>,\n'
        '  "thinking": <one to three sentences: how the vibe maps to your choices>,\n'
        f'  "config": {{{fields}}},\n'
        f'  "palettes": [{palette}, ... exactly {PALETTE_COUNT} palettes]\n'
        "}"
    )


def system_prompt() -> str:
    """The instructions: the task, every field and label, the exact answer shape."""
    weights = ", ".join(PALETTE_WEIGHTS)
    return (
        "You are the composer behind LatentScore, which turns a short description of a mood "
        "or scene (a 'vibe') into ambient music played by a synthesizer. Choose the music's "
        "settings, give the piece a title and pick colours that go with it.\n\n"
        "Config fields (use exactly these names and one of the listed labels for each; "
        "density is a number):\n"
        f"{field_guide()}\n\n"
        f"Palettes: exactly {PALETTE_COUNT} palettes of exactly {PALETTE_SIZE} colours each. "
        "Each colour is a hex string '#RRGGBB' with a weight saying how much of the picture "
        f"it covers, one of: {weights} (xs = thin accent, xl = dominant field).\n\n"
        "Answer with a single JSON object and nothing else (no code fences, no comments), "
        "shaped like this:\n"
        f"{_answer_shape()}"
    )


def user_prompt(vibe: str) -> str:
    """The request for one vibe text."""
    return f"Vibe: {vibe}\n\nAnswer with the JSON object only."


def build_messages(vibe: str) -> list[Message]:
    """The opening conversation for one vibe: system instructions, then the vibe."""
    return [
        {"role": "system", "content": system_prompt()},
        {"role": "user", "content": user_prompt(vibe)},
    ]


def retry_message(problem: str) -> Message:
    """Feedback after an unusable answer, so the next attempt can fix exactly that."""
    return {
        "role": "user",
        "content": (
            f"That answer could not be used: {problem}\n"
            "Reply again with only the corrected JSON object, using the field names and "
            "labels listed in the instructions."
        ),
    }


def answer_json_schema() -> dict[str, Any]:
    """JSON Schema of the answer, for providers that support structured output.

    Kept to keywords every structured-output provider accepts (type, properties, required,
    enum, items, min/maxItems, additionalProperties); the hex format is stated in the
    description rather than as a ``pattern``, which some providers reject.
    """
    config_props: dict[str, Any] = {}
    for spec in FIELDS.values():
        kind = "integer" if all(isinstance(label, int) for label in spec.labels) else "string"
        config_props[spec.name] = {
            "type": kind,
            "enum": list(spec.labels),
            "description": spec.description,
        }
    color = {
        "type": "object",
        "properties": {
            "hex": {"type": "string", "description": "colour as '#RRGGBB'"},
            "weight": {"type": "string", "enum": list(ACCEPTED_WEIGHTS)},
        },
        "required": ["hex", "weight"],
        "additionalProperties": False,
    }
    palette = {
        "type": "object",
        "properties": {
            "colors": {
                "type": "array",
                "items": color,
                "minItems": PALETTE_SIZE,
                "maxItems": PALETTE_SIZE,
            }
        },
        "required": ["colors"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "title": {
                "type": "string",
                "description": f"a name for the piece, at most {MAX_TITLE_WORDS} words",
            },
            "thinking": {"type": "string", "description": "brief reasoning for the choices"},
            "config": {
                "type": "object",
                "properties": config_props,
                "required": list(FIELDS),
                "additionalProperties": False,
            },
            "palettes": {
                "type": "array",
                "items": palette,
                "minItems": PALETTE_COUNT,
                "maxItems": PALETTE_COUNT,
            },
        },
        "required": ["title", "thinking", "config", "palettes"],
        "additionalProperties": False,
    }


def response_format() -> dict[str, Any]:
    """The OpenAI-style ``response_format`` LiteLLM translates for each provider."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": answer_json_schema(), "strict": False},
    }
