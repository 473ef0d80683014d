"""The daemon's MIDI side over an in-process mido backend (no hardware, no MIDI server):
CC in -> state and OSC feedback, learn over OSC, LED feedback, notes out, clock in, and a
machine without any MIDI system keeping OSC running.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mido
import pytest

from bridge.daemon import BridgeDaemon
from bridge.midi_options import MidiOptions
from bridge.midi_ports import MidiSystem, MidiUnavailable
from bridge.performance import Crossfade
from tests import midi_loopback
from tests.bridge_util import OscClient, make_options, running_daemon, wait_for

P = "/latentscore"


@pytest.fixture
def backend() -> Iterator[Any]:
    midi_loopback.reset()
    yield mido.Backend("tests.midi_loopback")
    midi_loopback.reset()


def midi(backend: Any, tmp_path: Path, **kw: Any) -> MidiOptions:
    return MidiOptions(backend=backend, learn_file=tmp_path / "user.toml", **kw)


def test_cc_changes_the_parameter_and_is_echoed_over_osc(backend: Any, tmp_path: Path) -> None:
    map_file = tmp_path / "m.toml"
    map_file.write_text('[[control]]\nparam = "space"\ncc = 30\ntakeover = "jump"\n')
    options = midi(backend, tmp_path, midi_in="virtual", map=str(map_file))
    with running_daemon(oscquery_port=None, midi=options) as daemon:
        client = OscClient(daemon.osc_port)
        client.send(f"{P}/subscribe")
        wait_for(lambda: client.messages(f"{P}/space"), what="state on subscribe")
        port = backend.open_output("LatentScore In")
        port.send(mido.Message("control_change", control=30, value=127))
        wait_for(lambda: daemon.state.positions["space"] == 1.0, what="space from MIDI")
        echoed = wait_for(
            lambda: [m for m in client.messages(f"{P}/space") if m.args[0] == 1.0],
            what="OSC feedback of the MIDI change",
        )
        assert echoed[-1].args == (1.0,)
        assert wait_for(lambda: client.messages(f"{P}/label/space"))[-1].args[-1] == "vast"
        port.send(mido.Message("sysex", data=[1, 2, 3]))  # junk is ignored, not fatal
        port.send(mido.Message("control_change", control=30, value=0))
        wait_for(lambda: daemon.state.positions["space"] == 0.0, what="the daemon still runs")
        client.close()


def test_learn_over_osc_binds_saves_and_then_steers(backend: Any, tmp_path: Path) -> None:
    with running_daemon(oscquery_port=None, midi=midi(backend, tmp_path, midi_in="virtual")) as d:
        client = OscClient(d.osc_port)
        client.send(f"{P}/learn", "nonsense")
        assert "unknown parameter" in wait_for(lambda: client.messages(f"{P}/error"))[0].args[0]
        client.send(f"{P}/learn", "echo")
        wait_for(lambda: d.midi is not None and d.midi.learn.armed == "echo", what="armed")
        port = backend.open_output("LatentScore In")
        port.send(mido.Message("control_change", channel=4, control=90, value=0))
        learned = wait_for(lambda: client.messages(f"{P}/learned"), what="/learned")
        assert learned[0].args == ("echo", "CC 90 on channel 5")
        assert 'param = "echo"' in (tmp_path / "user.toml").read_text()
        d.state.positions["echo"]
        port.send(mido.Message("control_change", channel=4, control=90, value=30))  # near 0.25
        port.send(mido.Message("control_change", channel=4, control=90, value=127))
        wait_for(lambda: d.state.positions["echo"] == 1.0, what="the learned knob steering")
        client.close()
    # the next start layers the learned file over the map
    with running_daemon(oscquery_port=None, midi=midi(backend, tmp_path, midi_in="virtual")) as d:
        assert d.midi is not None and any(b.param == "echo" for b in d.midi.cmap.bindings)


def test_learn_without_midi_input_is_an_error_reply() -> None:
    with running_daemon(oscquery_port=None) as daemon:
        client = OscClient(daemon.osc_port)
        client.send(f"{P}/learn", "space")
        assert "no MIDI input" in wait_for(lambda: client.messages(f"{P}/error"))[0].args[0]
        client.close()


def test_led_feedback_follows_changes_from_osc(backend: Any, tmp_path: Path) -> None:
    midi_loopback.add_device("Pad Ctl")
    midi_loopback.add_device("Pad Ctl LEDs")
    leds: list[mido.Message] = []
    backend.open_input("Pad Ctl LEDs", callback=leds.append)
    map_file = tmp_path / "leds.toml"
    map_file.write_text(
        "[controller]\nfeedback = true\nchannel = 1\n"
        '[[control]]\nparam = "mode"\nnote = 36\nvalue = "dorian"\n'
        '[[control]]\nparam = "brightness"\ncc = 1\n'
    )
    options = midi(
        backend, tmp_path, midi_in="Pad Ctl", map=str(map_file), feedback_port="Pad Ctl LEDs"
    )
    with running_daemon(oscquery_port=None, midi=options) as daemon:
        assert mido.Message("note_on", note=36, velocity=0) in leds  # initial state shown
        client = OscClient(daemon.osc_port)
        client.send(f"{P}/mode", "dorian")
        wait_for(lambda: mido.Message("note_on", note=36, velocity=127) in leds, what="LED on")
        client.send(f"{P}/brightness", 1.0)
        wait_for(lambda: mido.Message("control_change", control=1, value=127) in leds, what="fader")
        client.close()


def test_notes_out_with_matched_note_offs(backend: Any, tmp_path: Path) -> None:
    received: list[mido.Message] = []
    backend.open_input("LatentScore Out", callback=received.append)
    options = midi(backend, tmp_path, midi_out="virtual")
    from latentscore.config import MusicConfig

    config = MusicConfig(tempo="very_fast", rhythm="electronic", melody="arp_melody", density=6)
    daemon = BridgeDaemon(make_options(oscquery_port=None, midi=options, config=config)).start()
    try:
        wait_for(lambda: sum(m.type == "note_on" for m in received) >= 20, 10.0, "notes")
    finally:
        daemon.stop()
    ons = Counter((m.channel, m.note) for m in received if m.type == "note_on")
    offs = Counter((m.channel, m.note) for m in received if m.type == "note_off")
    assert ons == offs
    assert 9 in {ch for ch, _ in ons}  # drums on channel 10
    assert any(m.type == "control_change" and m.control == 123 for m in received)


def test_clock_in_sets_tempo_and_transport(backend: Any, tmp_path: Path) -> None:
    import time

    options = midi(backend, tmp_path, midi_in="virtual", clock="in")
    with running_daemon(oscquery_port=None, midi=options) as daemon:
        port = backend.open_output("LatentScore In")
        port.send(mido.Message("stop"))
        wait_for(lambda: not daemon.state.playing, what="stop from MIDI")
        port.send(mido.Message("start"))
        wait_for(lambda: daemon.state.playing, what="start from MIDI")
        interval = 60.0 / 120.0 / 24
        next_at = time.monotonic()
        for _ in range(24 * 3):
            port.send(mido.Message("clock"))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        # 120 BPM sits between fast (108) and very_fast (132): position 0.875
        wait_for(lambda: abs(daemon.state.positions["tempo"] - 0.875) < 0.03, what="tempo")

        # Start (from the top) restarts our bar grid on that sample; Continue does not
        performer = daemon.performance.performer
        wait_for(lambda: performer.beat_at(performer.position) > 6, timeout=10, what="beats")
        port.send(mido.Message("continue"))
        time.sleep(0.3)
        assert performer.beat_at(performer.position) > 6
        port.send(mido.Message("start"))
        wait_for(
            lambda: any(
                isinstance(op, Crossfade) and op.at_beat is not None and op.at_beat < 1.0
                for _, op in daemon.performance.executed
            ),
            what="bar 1 restart",
        )
        wait_for(lambda: performer.beat_at(performer.position) < 3, what="beat grid restart")


def test_no_midi_system_keeps_running_osc_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    def unavailable(api: str = "auto") -> MidiSystem:
        raise MidiUnavailable("no MIDI system available (alsa: no sequencer)")

    monkeypatch.setattr(MidiSystem, "detect", staticmethod(unavailable))
    options = MidiOptions(midi_in="virtual", midi_out="virtual", learn_file=tmp_path / "u.toml")
    with (
        caplog.at_level(logging.WARNING, logger="bridge.midi"),
        running_daemon(oscquery_port=None, midi=options) as daemon,
    ):
        assert "MIDI        unavailable" in daemon.summary()
        client = OscClient(daemon.osc_port)
        client.send(f"{P}/brightness", 0.9)
        wait_for(lambda: daemon.state.positions["brightness"] == pytest.approx(0.9))
        client.close()
    warnings = [r for r in caplog.records if "OSC-only" in r.getMessage()]
    assert len(warnings) == 1


def test_bad_map_fails_before_anything_plays(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[control]]\nparam = "brightness"\ncc = 300\n')
    with pytest.raises(ValueError, match=r"bad.toml:3: \[\[control\]\] #1 cc: 300"):
        BridgeDaemon(make_options(midi=MidiOptions(midi_in="virtual", map=str(bad))))
