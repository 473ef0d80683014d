"""MusicConfig schema: validation messages, Steps, updates, JSON and schema export."""

from __future__ import annotations

import json

import pytest

from latentscore import InvalidConfigError, MusicConfig, MusicConfigUpdate, Step, config_json_schema
from latentscore.config import FIELDS, ORDERED_FIELDS, parse_assignments


def test_defaults_come_from_the_field_table() -> None:
    cfg = MusicConfig()
    for name, spec in FIELDS.items():
        assert getattr(cfg, name) == spec.default


def test_bad_label_error_names_field_value_and_allowed_labels() -> None:
    with pytest.raises(InvalidConfigError) as info:
        MusicConfig(tempo="warp_speed")
    exc = info.value
    assert exc.field == "tempo"
    assert exc.value == "warp_speed"
    assert tuple(exc.allowed) == FIELDS["tempo"].labels
    message = str(exc)
    assert "tempo" in message and "warp_speed" in message
    for label in FIELDS["tempo"].labels:
        assert str(label) in message


def test_unknown_field_is_rejected_with_the_field_list() -> None:
    with pytest.raises(InvalidConfigError) as info:
        MusicConfig(tempo="slow", loudness="high")
    assert info.value.field == "loudness"
    assert "loudness" in str(info.value) and "brightness" in str(info.value)


@pytest.mark.parametrize("value", [1, 7, "seven", True, 4.5])
def test_density_outside_2_to_6_is_rejected(value: object) -> None:
    with pytest.raises(InvalidConfigError) as info:
        MusicConfig(density=value)
    assert info.value.field == "density"


def test_labels_are_normalised() -> None:
    cfg = MusicConfig(tempo="Very Fast", bass="fifth-drone", density="5")
    assert (cfg.tempo, cfg.bass, cfg.density) == ("very_fast", "fifth_drone", 5)


def test_config_is_frozen() -> None:
    cfg = MusicConfig()
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own frozen error
        cfg.tempo = "fast"  # type: ignore[misc]


@pytest.mark.parametrize("field", ORDERED_FIELDS)
def test_step_saturates_at_both_ends(field: str) -> None:
    spec = FIELDS[field]
    top, bottom = spec.labels[-1], spec.labels[0]
    assert Step(1).apply(spec, top) == top
    assert Step(100).apply(spec, bottom) == top
    assert Step(-1).apply(spec, bottom) == bottom
    assert Step(-100).apply(spec, top) == bottom
    if len(spec.labels) > 2:
        assert Step(1).apply(spec, bottom) == spec.labels[1]


def test_step_rejects_non_int() -> None:
    with pytest.raises(InvalidConfigError):
        Step(1.5)  # type: ignore[arg-type]


def test_update_applies_labels_and_steps() -> None:
    base = MusicConfig(tempo="fast", brightness="dark", mode="minor")
    update = MusicConfigUpdate(tempo=Step(3), brightness=Step(-1), mode="dorian")
    new = update.apply_to(base)
    assert new.tempo == "very_fast"
    assert new.brightness == "very_dark"
    assert new.mode == "dorian"
    assert new.space == base.space  # untouched fields carry over
    assert base.tempo == "fast"  # the original is not mutated


def test_update_rejects_step_on_categorical_field() -> None:
    with pytest.raises(InvalidConfigError) as info:
        MusicConfigUpdate(mode=Step(1))
    assert info.value.field == "mode"


def test_update_from_json_like_dict_with_step() -> None:
    update = MusicConfigUpdate.model_validate({"tempo": {"step": 1}, "root": "d"})
    assert update.changes() == {"tempo": Step(1), "root": "d"}
    assert update.model_dump_jsonable() == {"tempo": {"step": 1}, "root": "d"}


def test_json_round_trip() -> None:
    cfg = MusicConfig(tempo="fast", density=6, root="f#", rhythm="tabla_essence")
    text = cfg.to_json()
    assert json.loads(text)["root"] == "f#"
    assert MusicConfig.from_json(text) == cfg


def test_invalid_json_raises_invalid_config_error() -> None:
    with pytest.raises(InvalidConfigError):
        MusicConfig.from_json("{not json")


def test_schema_lists_every_field_with_its_labels() -> None:
    schema = config_json_schema()
    assert set(schema["properties"]) == {*FIELDS, "bpm"}
    bpm = schema["properties"]["bpm"]["anyOf"][0]
    assert (bpm["minimum"], bpm["maximum"]) == (40, 200)
    json.dumps(schema)  # serialisable
    tempo = json.dumps(schema["properties"]["tempo"])
    for label in FIELDS["tempo"].labels:
        assert label in tempo


def test_parse_assignments() -> None:
    assert parse_assignments(["tempo=FAST", "density=3"]) == {"tempo": "fast", "density": 3}
    with pytest.raises(InvalidConfigError, match="field=label"):
        parse_assignments(["tempo"])
    with pytest.raises(InvalidConfigError, match="mode"):
        parse_assignments(["mode=lydian"])
