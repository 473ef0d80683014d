"""Presets: every shipped file is a complete, valid MusicConfig, and lookup is friendly."""

from __future__ import annotations

import json

import pytest

from latentscore import MusicConfig, presets
from latentscore.config import FIELDS
from latentscore.errors import PresetNotFoundError

NAMES = presets.list_presets()


def test_at_least_fourteen_presets() -> None:
    assert len(NAMES) >= 14
    assert sorted(NAMES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_preset_is_complete_and_valid(name: str) -> None:
    raw = json.loads((presets.configs_dir() / f"{name}.json").read_text(encoding="utf-8"))
    assert set(raw) == set(FIELDS), "presets spell out every field"
    cfg = presets.load(name)
    assert isinstance(cfg, MusicConfig)
    assert cfg.model_dump() == MusicConfig(**raw).model_dump()
    assert len(cfg.active_layers) >= 2


def test_presets_are_distinct() -> None:
    dumps = {presets.load(n).to_json() for n in NAMES}
    assert len(dumps) == len(NAMES)


def test_load_tolerates_case_and_separators() -> None:
    assert presets.load("Midnight-Jazz") == presets.load("midnight_jazz")


def test_unknown_preset_lists_names_and_close_matches() -> None:
    with pytest.raises(PresetNotFoundError) as info:
        presets.load("midnite_jaz")
    message = str(info.value)
    assert "midnite_jaz" in message
    assert "Did you mean: midnight_jazz" in message
    for name in NAMES:
        assert name in message
    assert isinstance(info.value, KeyError)  # catchable as a lookup failure


def test_public_names() -> None:
    import latentscore as ls

    assert ls.presets is presets
    assert callable(ls.presets.load) and callable(ls.presets.list_presets)
