"""Bridge output: feedback rules (not to the writer, rate-limited, latest wins) and streams."""

from __future__ import annotations

import time

import pytest

from latentscore.config import LAYERS
from tests.bridge_util import OscClient, running_daemon, wait_for

P = "/latentscore"


def test_feedback_reaches_others_but_not_the_writer() -> None:
    with running_daemon() as daemon:
        a, b = OscClient(daemon.osc_port), OscClient(daemon.osc_port, bind="127.0.0.2")
        try:
            for c in (a, b):
                c.send(f"{P}/subscribe")
                c.wait(f"{P}/title")  # the full state on subscribing
                c.clear()
            a.send(f"{P}/brightness", 0.3)
            assert b.wait(f"{P}/brightness").args == (pytest.approx(0.3),)
            assert b.wait(f"{P}/label/brightness").args == ("dark",)
            # the writer gets the label it did not write, in the same flush, but no echo
            assert a.wait(f"{P}/label/brightness").args == ("dark",)
            assert not a.messages(f"{P}/brightness")
            # a Step's outcome is news to its sender too
            a.send(f"{P}/step/brightness", 1)
            assert a.wait(f"{P}/brightness", lambda m: m.args[0] == 0.5).args == (0.5,)
            assert b.wait(f"{P}/brightness", lambda m: m.args[0] == 0.5).args == (0.5,)
        finally:
            a.close()
            b.close()


def test_touchdesigner_setup_gets_no_echo_of_its_own_moves() -> None:
    """Send from an ephemeral port, receive on --send-to: the writer's host hears nothing
    of its own fader, but does hear another host's moves and the label of its own."""
    td_in = OscClient(9)  # TouchDesigner's OSC In on :9001 (here: any free port)
    td_out = OscClient(9)  # its OSC Out, sending from an ephemeral port
    try:
        with running_daemon(send_to=[("127.0.0.1", td_in.port)]) as daemon:
            other = OscClient(daemon.osc_port, bind="127.0.0.2")
            try:
                td_out.target = other.target
                for i in range(1, 11):
                    td_out.send(f"{P}/brightness", i / 10)
                assert td_in.wait(f"{P}/label/brightness", lambda m: m.args == ("very_bright",))
                other.send(f"{P}/space", 0.9)
                assert td_in.wait(f"{P}/space").args == (pytest.approx(0.9),)
                assert not td_in.messages(f"{P}/brightness")  # never its own fader back
            finally:
                other.close()
        with running_daemon(send_to=[("127.0.0.1", td_in.port)], echo_own_host=True) as daemon:
            td_in.clear()
            td_out.target = ("127.0.0.1", daemon.osc_port)
            td_out.send(f"{P}/brightness", 0.25)  # configurable: --echo-own-host
            assert td_in.wait(f"{P}/brightness").args == (pytest.approx(0.25),)
    finally:
        td_in.close()
        td_out.close()


def test_errors_go_to_the_sender_only() -> None:
    listener = OscClient(9, bind="127.0.0.2")  # a --send-to target on another host
    try:
        with running_daemon(send_to=[("127.0.0.2", listener.port)]) as daemon:
            sender = OscClient(daemon.osc_port)
            try:
                sender.send(f"{P}/tempo", "warp")
                assert "tempo" in sender.wait(f"{P}/error").args[0]
                sender.send(f"{P}/tempo", "fast")
                listener.wait(f"{P}/label/tempo")
                assert not listener.messages(f"{P}/error")
            finally:
                sender.close()
    finally:
        listener.close()


def test_feedback_is_rate_limited_and_the_latest_value_wins() -> None:
    with running_daemon(feedback_hz=20.0) as daemon:
        fader, watcher = OscClient(daemon.osc_port), OscClient(daemon.osc_port, bind="127.0.0.2")
        try:
            watcher.send(f"{P}/subscribe")
            watcher.wait(f"{P}/title")
            watcher.clear()
            values = [round(0.002 * i, 3) for i in range(1, 301)]
            start = time.monotonic()
            for v in values:  # a fader swept at about 1 kHz (pacing, not synchronisation)
                fader.send(f"{P}/echo", v)
                time.sleep(0.001)
            sweep = time.monotonic() - start
            last = watcher.wait(f"{P}/echo", lambda m: m.args[0] == pytest.approx(values[-1]))
            assert last.args[0] == pytest.approx(values[-1])
            received = watcher.messages(f"{P}/echo")
            # 20 Hz per target: a handful of coalesced updates, not 300
            assert len(received) <= 3 + (sweep + 0.2) * 20, (len(received), sweep)
            assert fader.state()[f"{P}/echo"] == (pytest.approx(values[-1]),)
        finally:
            fader.close()
            watcher.close()


def test_send_to_targets_receive_notes_beats_bars_levels() -> None:
    listener = OscClient(9)  # only listens; its target port is irrelevant
    try:
        with running_daemon(send_to=[("127.0.0.1", listener.port)], seed=11) as daemon:
            daemon_tempo = daemon.state.synth_params().bpm
            listener.wait(f"{P}/beat", lambda m: m.args[0] >= 2, timeout=8.0)
            listener.wait(f"{P}/note", timeout=8.0)
        beats = listener.messages(f"{P}/beat")
        numbers = [m.args[0] for m in beats]
        assert numbers[:3] == [0, 1, 2]
        times = [t for t, m in listener.received if m.address == f"{P}/beat"]
        period = (times[2] - times[0]) / 2
        assert period == pytest.approx(60.0 / daemon_tempo, rel=0.15)
        assert [m.args for m in listener.messages(f"{P}/bar")][:1] == [(0,)]
        note = listener.messages(f"{P}/note")[0]
        assert note.type_tags == "sfff"
        layer, pitch, velocity, duration = note.args
        assert layer in LAYERS and 0 < pitch < 128 and 0 < velocity <= 1 and duration > 0
        levels = [m for m in listener.messages(f"{P}/level")]
        level_times = [t for t, m in listener.received if m.address == f"{P}/level"]
        rate = (len(level_times) - 1) / (level_times[-1] - level_times[0])
        assert 24 <= rate <= 36, rate  # about 30 Hz
        assert all(m.type_tags == "ff" and 0 <= m.args[0] <= m.args[1] <= 1 for m in levels)
        assert max(m.args[0] for m in levels) > 0.01  # the music is audible
        assert listener.messages(f"{P}/playing")[-1].args == (0,)  # told at shutdown
    finally:
        listener.close()


def test_levels_follow_stop_and_play() -> None:
    listener = OscClient(9)
    try:
        with running_daemon(send_to=[("127.0.0.1", listener.port)]) as daemon:
            control = OscClient(daemon.osc_port)
            try:
                listener.wait(f"{P}/level", lambda m: m.args[0] > 0.005)
                control.send(f"{P}/stop")
                wait_for(lambda: not daemon.performance._advancing, what="paused")
                # once the paused audio is heard, no more levels or notes arrive
                paused_at = daemon.performance.written
                wait_for(lambda: daemon.performance.clock.now_sample() > paused_at + 2000)
                listener.clear()
                wait_for(lambda: daemon.performance.clock.now_sample() > paused_at + 12000)
                assert not listener.messages(f"{P}/level")
                assert not listener.messages(f"{P}/note")
                control.send(f"{P}/play")
                listener.wait(f"{P}/level", lambda m: m.args[0] > 0.005)
            finally:
                control.close()
    finally:
        listener.close()
