"""render(): input forms, validation, seeds, block pulling and the notes it keeps.

The engine behind render() evolves; these tests check the contract, not the sound.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import latentscore as ls
from latentscore import InvalidConfigError, MusicConfig, MusicConfigUpdate, Step
from latentscore.render import RenderInfo, resolve_config


def test_render_returns_audio_contract() -> None:
    audio = ls.render(MusicConfig(), duration=1.5, seed=1)
    arr = np.asarray(audio)
    assert isinstance(audio, ls.Audio)
    assert arr.dtype == np.float32 and arr.shape == (round(1.5 * 44100),)
    assert audio.sample_rate == 44100 and audio.duration == pytest.approx(1.5)
    assert np.all(np.isfinite(arr)) and np.max(np.abs(arr)) <= 1.0
    assert audio.seed == 1


def test_render_with_step_update() -> None:
    base = MusicConfig(tempo="slow")
    audio = ls.render(base, duration=0.5, seed=0, update=MusicConfigUpdate(tempo=Step(1)))
    assert isinstance(audio.metadata, RenderInfo)
    assert audio.metadata.config.tempo == "medium"
    assert audio.metadata.config.mode == base.mode


def test_update_dict_on_top_of_dict_config() -> None:
    audio = ls.render({"mode": "dorian"}, duration=0.25, seed=0, update={"tempo": Step(-5)})
    assert audio.metadata.config.mode == "dorian"
    assert audio.metadata.config.tempo == "very_slow"


def test_music_config_update_alone_applies_to_default() -> None:
    cfg = resolve_config(MusicConfigUpdate(brightness=Step(2)))
    assert cfg == MusicConfig(brightness="very_bright")
    assert resolve_config(None) == MusicConfig()


def test_str_is_a_vibe_for_the_fast_model() -> None:
    audio = ls.render("rainy night in a jazz bar", duration=1, seed=3)
    assert audio.metadata.config == ls.vibe_to_config("rainy night in a jazz bar")
    assert audio.metadata.config.bass == "walking"  # "jazz bar" names a walking bass
    with pytest.raises(InvalidConfigError, match="empty"):
        ls.render("   ", duration=1)


@pytest.mark.parametrize("bad", [{"tempo": "warp"}, {"nonsense": 1}])
def test_bad_dict_raises_invalid_config(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidConfigError):
        ls.render(bad, duration=0.1)


def test_wrong_type_raises_invalid_config() -> None:
    with pytest.raises(InvalidConfigError, match="MusicConfig"):
        ls.render(42, duration=0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("duration", [0, -1.0, math.inf, math.nan, 86400.5, "10", True, None])
def test_duration_validation_names_duration(duration: object) -> None:
    with pytest.raises(InvalidConfigError) as info:
        ls.render(MusicConfig(), duration=duration)  # type: ignore[arg-type]
    assert info.value.field == "duration"
    assert "duration" in str(info.value)


@pytest.mark.parametrize("seed", [-1, 1.5, "7"])
def test_seed_validation(seed: object) -> None:
    with pytest.raises(InvalidConfigError) as info:
        ls.render(MusicConfig(), duration=0.1, seed=seed)  # type: ignore[arg-type]
    assert info.value.field == "seed"


def test_random_seed_is_reported_and_reproduces_the_render() -> None:
    seeds = {ls.render(duration=0.05).seed for _ in range(4)}
    assert all(isinstance(s, int) and s >= 0 for s in seeds)
    assert len(seeds) > 1  # actually random
    first = ls.render(MusicConfig(), duration=1.2)
    again = ls.render(MusicConfig(), duration=1.2, seed=first.seed)
    assert np.array_equal(np.asarray(first), np.asarray(again))


def test_same_seed_same_samples_and_notes() -> None:
    cfg = ls.presets.load("lofi_study")
    a = ls.render(cfg, duration=2.3, seed=11)
    b = ls.render(cfg, duration=2.3, seed=11)
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert a.notes == b.notes


def test_notes_start_inside_the_audio_and_are_sorted() -> None:
    audio = ls.render(MusicConfig(tempo="very_fast"), duration=3.3, seed=2)
    assert audio.notes, "the engine produced no notes in 3.3 s"
    starts = [n.start_sample for n in audio.notes]
    assert starts == sorted(starts)
    assert all(0 <= s < len(audio) for s in starts)
    assert audio.tempo_bpm is not None and audio.tempo_bpm > 0


def test_tempo_bpm_follows_config() -> None:
    slow = ls.render(MusicConfig(tempo="very_slow"), duration=0.1, seed=0)
    fast = ls.render(MusicConfig(tempo="very_fast"), duration=0.1, seed=0)
    assert slow.tempo_bpm is not None and fast.tempo_bpm is not None
    assert fast.tempo_bpm > slow.tempo_bpm


def test_progress_bar_does_not_change_output() -> None:
    quiet = ls.render(MusicConfig(), duration=1.1, seed=3)
    shown = ls.render(MusicConfig(), duration=1.1, seed=3, progress=True)
    assert np.array_equal(np.asarray(quiet), np.asarray(shown))


def test_tiny_duration_gives_at_least_one_sample() -> None:
    assert len(ls.render(duration=1e-9, seed=0)) == 1
