"""MIDI learn: the next moved control is bound with the parameter's defaults and saved."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from bridge.midi_learn import Learned, LearnSession, load_user_map
from bridge.registry import build_registry

REGISTRY = build_registry()


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def session(tmp_path: Path) -> tuple[LearnSession, list[Learned], Clock]:
    learned: list[Learned] = []
    clock = Clock()
    return LearnSession(REGISTRY, tmp_path / "user.toml", learned.append, clock), learned, clock


def test_learn_binds_the_next_control_and_saves_it(tmp_path: Path) -> None:
    learn, learned, clock = session(tmp_path)
    assert not learn.offer(mido.Message("control_change", control=40, value=3))  # not armed
    learn.arm("/latentscore/space")
    assert learn.offer(mido.Message("clock")) is False  # realtime never binds
    assert learn.offer(mido.Message("control_change", channel=2, control=40, value=70))
    assert learned and learned[0].binding.param == "space"
    assert learned[0].binding.kind == "continuous"
    saved = load_user_map(tmp_path / "user.toml", REGISTRY)
    assert [(b.param, b.source.number, b.source.channel) for b in saved.bindings] == [
        ("space", 40, 2)
    ]
    # learning the same control again replaces its binding; other controls are kept
    learn.arm("echo")
    learn.offer(mido.Message("control_change", channel=2, control=40, value=1))
    learn.arm("pad")
    learn.offer(mido.Message("note_on", note=36, velocity=90))
    learn.arm("tempo/step")
    learn.offer(mido.Message("control_change", control=64, value=127))
    saved = load_user_map(tmp_path / "user.toml", REGISTRY)
    assert [(b.param, b.kind) for b in saved.bindings] == [
        ("echo", "continuous"),
        ("pad", "cycle"),
        ("tempo/step", "step"),
    ]
    assert "MIDI learn" in (tmp_path / "user.toml").read_text()
    del clock


def test_learn_detects_14bit_pairs_and_times_out_to_7bit(tmp_path: Path) -> None:
    learn, learned, clock = session(tmp_path)
    learn.arm("volume")
    assert learn.offer(mido.Message("control_change", control=7, value=64))
    assert not learned  # waiting for a possible LSB on CC 39
    assert learn.offer(mido.Message("control_change", control=39, value=5))
    assert learned[-1].binding.resolution == 14
    learn.arm("brightness")
    learn.offer(mido.Message("control_change", control=3, value=64))
    clock.t += 1.0
    learn.poll()
    assert learned[-1].binding.param == "brightness"
    assert learned[-1].binding.resolution == 7


def test_learn_rejects_what_a_control_cannot_drive(tmp_path: Path) -> None:
    learn, learned, _ = session(tmp_path)
    with pytest.raises(ValueError, match="unknown parameter"):
        learn.arm("nonsense")
    with pytest.raises(ValueError, match="cannot be driven"):
        learn.arm("vibe")
    learn.arm("volume")  # volume needs a knob: a note is swallowed, nothing bound
    assert learn.offer(mido.Message("note_on", note=1, velocity=5))
    assert not learned and learn.armed == "volume"
    learn.cancel()
    assert learn.armed is None
