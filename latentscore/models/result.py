"""What a vibe model answers: a title, its reasoning, a MusicConfig and three colour palettes.

Every model (the fast embedding model, an external LLM, the local expressive model) returns
a :class:`GenerateResult`, so callers such as ``render`` (which stores it as
``Audio.metadata``), the CLI and the bridge never care which model ran.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from latentscore.config import MusicConfig

PaletteWeight = Literal["xs", "sm", "md", "lg", "xl", "xxl"]
"""How much of the picture a colour covers, from a thin accent (xs) to the dominant field.

Our models write ``xl`` down to ``xs`` (five colours, five weights); ``xxl`` is accepted as
well because 0.1.8's payload schema allows it, and an LLM answer using it is valid."""

PALETTE_WEIGHTS: tuple[PaletteWeight, ...] = ("xs", "sm", "md", "lg", "xl")
"""The five weights our own models give, accent to dominant, one per colour of a palette."""
ACCEPTED_WEIGHTS: tuple[PaletteWeight, ...] = (*PALETTE_WEIGHTS, "xxl")
"""Every weight a palette colour may carry (what an LLM answer may use)."""
PALETTE_SIZE = 5
PALETTE_COUNT = 3
MAX_TITLE_WORDS = 6

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "by",
        "to",
        "with",
        "for",
        "from",
        "over",
        "under",
    ]
)


def title_case(words: Sequence[str]) -> str:
    """Words as a title: capitalised, small words lower case after the first, and words
    that already carry capitals (IDM, D#) left alone. Used for every title a model makes."""
    return " ".join(
        w if (i and w.lower() in _SMALL_WORDS) or not w.islower() else w.capitalize()
        for i, w in enumerate(words)
    )


class PaletteColor(BaseModel):
    """One colour of a palette: ``#RRGGBB`` and a weight label (xs, sm, md, lg, xl, xxl)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hex: str
    weight: PaletteWeight

    @field_validator("hex")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _HEX.match(value):
            raise ValueError(f"colour must be '#RRGGBB', got {value!r}")
        return value.lower()


class Palette(BaseModel):
    """Five colours that go with the music (for visuals, UI themes, cover art)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    colors: tuple[PaletteColor, ...] = Field(min_length=PALETTE_SIZE, max_length=PALETTE_SIZE)


class GenerateResult(BaseModel):
    """A model's full answer for one vibe text.

    Attributes:
        title: a short name for the piece (at most six words).
        thinking: the model's reasoning; empty for models that do not reason (``fast``).
        config: the MusicConfig to play.
        palettes: exactly three five-colour palettes.
        model: which model answered (``"fast"``, ``"external:openai/gpt-4o"``, ...).
        source: for the fast model, the library row the answer is closest to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    thinking: str = ""
    config: MusicConfig
    palettes: tuple[Palette, ...] = Field(min_length=PALETTE_COUNT, max_length=PALETTE_COUNT)
    model: str = ""
    source: str = ""

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        words = value.split()
        if not words:
            raise ValueError("title is empty")
        if len(words) > MAX_TITLE_WORDS:
            raise ValueError(f"title has {len(words)} words; at most {MAX_TITLE_WORDS}")
        return " ".join(words)
