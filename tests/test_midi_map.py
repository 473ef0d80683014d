"""Controller map files: the shipped presets load, and bad files fail with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.midi_bridge import preset_maps, read_map
from bridge.midi_map import ControllerMap, MapError, parse_binding, parse_map, save_map
from bridge.registry import build_registry
from latentscore.config import FIELDS

REGISTRY = build_registry()


def test_every_shipped_map_loads_and_binds_real_parameters() -> None:
    names = preset_maps()
    assert {"generic", "nanokontrol2", "midimix", "launchcontrol_xl"} <= set(names)
    for name in names:
        cmap = read_map(name, REGISTRY)
        assert cmap.name and len(cmap.bindings) >= 16, name
        for binding in cmap.bindings:
            assert REGISTRY[binding.param].writable
            for label in binding.labels:
                assert label in REGISTRY[binding.param].field.labels  # type: ignore[union-attr]


def test_nanokontrol2_factory_numbers() -> None:
    cmap = read_map("nanokontrol2", REGISTRY)
    by_cc = {b.source.number: b for b in cmap.bindings}
    assert by_cc[0].param == "volume" and by_cc[0].source.channel == 0
    assert by_cc[16].param == "bass" and by_cc[16].kind == "select"
    assert by_cc[41].param == "play" and by_cc[42].param == "stop"
    assert by_cc[3].kind == "continuous" and by_cc[3].takeover == "pickup"


def test_kinds_follow_the_registry() -> None:
    cmap = parse_map(
        """
        [controller]
        channel = 2
        [[control]]
        param = "brightness"
        cc = 1
        [[control]]
        param = "bass"
        cc = 2
        [[control]]
        param = "mode"
        note = 60
        value = "dorian"
        [[control]]
        param = "pad"
        note = 61
        [[control]]
        param = "tempo/step"
        cc = 3
        value = -1
        [[control]]
        param = "accent"
        program = "index"
        labels = ["none", "bells"]
        [[control]]
        param = "volume"
        cc = 7
        resolution = 14
        [[control]]
        param = "echo"
        cc = 10
        mode = "relative"
        """,
        REGISTRY,
    )
    kinds = [(b.param, b.kind, b.mode) for b in cmap.bindings]
    assert kinds == [
        ("brightness", "continuous", "absolute"),
        ("bass", "select", "absolute"),
        ("mode", "select", "absolute"),
        ("pad", "cycle", "absolute"),
        ("tempo/step", "step", "button"),
        ("accent", "select", "absolute"),
        ("volume", "continuous", "absolute"),
        ("echo", "continuous", "relative-twos"),
    ]
    assert cmap.bindings[0].source.channel == 1  # channel 2, 0-based
    assert cmap.bindings[1].labels == FIELDS["bass"].labels
    assert cmap.bindings[6].resolution == 14


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ('param = "brightnes"\ncc = 1', 4, "unknown parameter 'brightnes'"),
        ('param = "brightness"\ncc = 128', 5, "cc: 128 is not a MIDI number"),
        ('param = "brightness"\ncc = 1\nchannel = 17', 6, "channel: 17 is not a MIDI channel"),
        ('param = "mode"\nnote = 5\nvalue = "lydian"', 6, "'lydian' is not a mode label"),
        ('param = "brightness"\ncc = 40\nresolution = 14', 6, "14-bit needs a cc of 0..31"),
        ('param = "brightness"\ncc = 1\nmode = "spin"', 6, "mode: 'spin' is not one of"),
        ('param = "brightness"\ncc = 1\nnote = 2', 3, "exactly one of cc, note or program"),
        ('param = "vibe"\ncc = 1', 4, "cannot be driven by a MIDI control"),
        ('param = "volume"\nnote = 1', 5, "volume needs a knob or fader"),
        ('param = "brightness"\ncc = 1\nmin = 2.0', 6, "min: 2 is outside 0..1"),
        ('param = "brightness"\ncc = 1\nknob = 3', 6, "knob: unknown key"),
        ('param = "tempo/step"\nnote = 1\nvalue = 0', 6, "value: 0 is not a step"),
    ],
)
def test_validation_errors_name_file_line_key_and_value(body: str, line: int, needle: str) -> None:
    text = f"[controller]\n\n[[control]]\n{body}\n"
    with pytest.raises(MapError) as err:
        parse_map(text, REGISTRY, "my.toml")
    message = str(err.value)
    assert message.startswith(f"my.toml:{line}: [[control]] #1"), message
    assert needle in message, message


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(MapError, match="not valid TOML"):
        parse_map("[controller\n", REGISTRY, "x.toml")
    with pytest.raises(MapError, match=r"x.toml:2: \[controller\] channel: 0 is not a MIDI"):
        parse_map("[controller]\nchannel = 0\n", REGISTRY, "x.toml")
    with pytest.raises(MapError, match="already bound by control #1"):
        parse_map(
            '[[control]]\nparam = "space"\ncc = 1\n[[control]]\nparam = "echo"\ncc = 1\n',
            REGISTRY,
            "x.toml",
        )
    with pytest.raises(MapError, match="cannot read the map file"):
        read_map(str(tmp_path / "missing.toml"), REGISTRY)
    with pytest.raises(MapError, match="no map file or preset named 'nope'"):
        read_map("nope", REGISTRY)


def test_saved_maps_read_back_identically(tmp_path: Path) -> None:
    original = read_map("nanokontrol2", REGISTRY).merged(read_map("launchcontrol_xl", REGISTRY))
    path = tmp_path / "sub" / "saved.toml"
    save_map(path, original, "# header")
    again = read_map(str(path), REGISTRY)
    assert [(b.param, b.source, b.kind, b.value, b.led) for b in again.bindings] == [
        (b.param, b.source, b.kind, b.value, b.led) for b in original.bindings
    ]


def test_with_binding_replaces_the_same_control() -> None:
    a = parse_binding({"param": "space", "cc": 5}, REGISTRY)
    b = parse_binding({"param": "echo", "cc": 5}, REGISTRY)
    cmap = ControllerMap("x", [a]).with_binding(b)
    assert [x.param for x in cmap.bindings] == ["echo"]
