"""Reading LLM replies: JSON extraction, label and field-name repair, palettes, redaction.

Pure functions, no model: the cases here are the near-misses real models produce.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from latentscore.config import FIELDS
from latentscore.models.label_repair import LabelError, repair_field_name, repair_label
from latentscore.models.llm_prompt import answer_json_schema, field_guide, system_prompt
from latentscore.models.llm_repair import AnswerError, extract_json_object, parse_answer
from latentscore.models.redact import REDACTED, Redactor, mask_mapping
from tests.llm_fakes import answer_config, good_answer

VIBE = "rain on a tin roof"


def parse(data: dict[str, Any] | str) -> Any:
    text = data if isinstance(data, str) else json.dumps(data)
    return parse_answer(text, model="test", vibe=VIBE)


def test_prompt_and_schema_cover_every_field_and_label() -> None:
    guide = field_guide()
    schema = answer_json_schema()["properties"]["config"]["properties"]
    for name, spec in FIELDS.items():
        assert f"- {name} (" in guide
        assert schema[name]["enum"] == list(spec.labels)
        for label in spec.labels:
            assert str(label) in guide
    assert guide in system_prompt()


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        '```json\n{"a": 1}\n```',
        'Here you go: {"a": 1} -- let me know if you want changes {"b": 2}',
        '```\n{"a": 1,}\n```',  # trailing comma
        'Thinking {out loud} first.\n{"a": 1}',
    ],
)
def test_extract_json_object(text: str) -> None:
    assert extract_json_object(text) == {"a": 1}


@pytest.mark.parametrize("text", ["", "no json here", '{"a": 1', "[1, 2]"])
def test_extract_json_object_rejects(text: str) -> None:
    with pytest.raises(AnswerError):
        extract_json_object(text)


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("tempo", "Very Slow", "very_slow"),
        ("tempo", "very-fast", "very_fast"),
        ("tempo", "quick", "fast"),
        ("tempo", "moderate", "medium"),
        ("brightness", 0.0, "very_dark"),
        ("brightness", 1.0, "very_bright"),
        ("space", "HUGE", "vast"),
        ("echo", "off", "none"),
        ("stereo", "ultrawide", "ultra_wide"),
        ("root", "Bb", "a#"),
        ("root", "C sharp", "c#"),
        ("root", "E♭", "d#"),
        ("root", "A minor", "a"),
        ("root", "F#m", "f#"),
        ("root", "Cb", "b"),
        ("mode", "Aeolian", "minor"),
        ("mode", "Ionian", "major"),
        ("density", "five", 5),
        ("density", "4 layers", 4),
        ("density", 9, 6),
        ("density", 4.0, 4),
        ("pad", "warm", "warm_slow"),
        ("bass", "arp", "arp_bass"),
        ("accent", "bell", "bells"),
        ("melody", "contemplitive", "contemplative"),
        ("rhythm", "Kit Light", "kit_light"),
    ],
)
def test_repair_label(field: str, value: object, label: object) -> None:
    assert repair_label(field, value) == label


@pytest.mark.parametrize(
    ("field", "value"),
    [("rhythm", "kit"), ("tempo", "ludicrous"), ("mode", "lydian"), ("root", "h"), ("pad", None)],
)
def test_repair_label_refuses_to_guess(field: str, value: object) -> None:
    with pytest.raises(LabelError, match="allowed"):
        repair_label(field, value)


def test_repaired_labels_are_always_real_labels() -> None:
    probes = ["none", "medium", "slow", "fast", "very", "warm", "dark", "wide", "soft", "a"]
    for name, spec in FIELDS.items():
        for probe in [*probes, *map(str, spec.labels)]:
            try:
                label = repair_label(name, probe)
            except LabelError:
                continue
            assert label in spec.labels, (name, probe, label)


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("Tempo", "tempo"),
        ("KEY", "root"),
        ("bass style", "bass"),
        ("Scale", "mode"),
        ("bpm", "tempo"),
    ],
)
def test_repair_field_name(key: str, field: str) -> None:
    assert repair_field_name(key) == field


def test_parse_answer_good() -> None:
    result = parse(good_answer())
    assert result.config.model_dump() == answer_config()
    assert result.model == "test"


def test_parse_answer_repairs_shape_near_misses() -> None:
    data = {
        "Title": "",
        "Thinking": ["a", "b"],
        **answer_config(),  # fields at the top level instead of under "config"
        "palettes": [
            ["AABBCC", "#abc", "#123456", "#654321", "#000000", "#ffffff"],  # 6 colours, bare
            {"colours": [{"colour": "#111111", "size": "Extra Large"}] * 5},
            {"colors": [{"hex": "#222222", "weight": "SM"}] * 5},
            {"colors": [{"hex": "#333333", "weight": "md"}] * 5},  # a fourth palette
        ],
    }
    result = parse(data)
    assert result.title == "Rain On A Tin Roof"  # untitled: named after the vibe
    assert result.thinking == '["a", "b"]'
    assert result.config.model_dump() == answer_config()
    assert len(result.palettes) == 3
    first = result.palettes[0].colors
    assert [c.hex for c in first] == ["#aabbcc", "#aabbcc", "#123456", "#654321", "#000000"]
    assert [c.weight for c in first] == ["xl", "lg", "md", "sm", "xs"]
    assert result.palettes[1].colors[0].weight == "xl"
    assert result.palettes[2].colors[0].weight == "sm"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"config": {}}, '"config" is missing'),
        ({"palettes": good_answer()["palettes"][:2]}, "got 2 palettes"),
        ({"palettes": [{"colors": [{"hex": "#000000", "weight": "md"}] * 4}] * 3}, "4 colours"),
        ({"palettes": [{"colors": [{"hex": "red", "weight": "md"}] * 5}] * 3}, "'#RRGGBB'"),
        ({"palettes": [{"colors": [{"hex": "#000000", "weight": "huge!"}] * 5}] * 3}, "weight"),
        ({"config": {**answer_config(), "tempo": "warp"}}, "tempo: 'warp'"),
    ],
)
def test_parse_answer_explains_what_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(AnswerError, match=message.replace("(", r"\(")):
        parse(good_answer(**change))


def test_redactor_removes_given_env_and_key_shaped_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-env-secret-123")
    redact = Redactor(["my-own-secret-value"])
    text = (
        "given my-own-secret-value, env anthropic-env-secret-123, "
        "shaped sk-proj-abcdef123456 and Bearer abc.def-ghi_jkl and AIzaSyA1234567890abc"
    )
    out = redact(text)
    for secret in ("my-own-secret", "anthropic-env", "sk-proj", "abc.def", "AIzaSy"):
        assert secret not in out
    assert out.count(REDACTED) == 5
    ordinary = "the task-manager-process and risk-assessment-team in the desk_organiser_app"
    assert redact(ordinary) == ordinary


def test_mask_mapping_masks_nested_secret_names() -> None:
    masked = mask_mapping({"api_key": "x", "extra_headers": {"X-Api-Key": "y"}, "timeout": 3})
    assert masked == {
        "api_key": "**********",
        "extra_headers": {"X-Api-Key": "**********"},
        "timeout": 3,
    }
