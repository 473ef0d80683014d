"""The bridge daemon over real UDP/TCP sockets on 127.0.0.1: every address, patterns, bundles.

One daemon (``--no-audio``: a real-time null output) serves the module; tests that need a
fresh one (feedback targets, limits) start their own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bridge.daemon import BridgeDaemon
from bridge.osc_codec import encode_bundle, encode_message, unix_to_timetag
from bridge.registry import build_registry
from latentscore.config import FIELDS, MusicConfig
from tests.bridge_util import (
    FakeVibeModel,
    OscClient,
    TcpOscClient,
    running_daemon,
    size_prefixed,
    wait_for,
)

P = "/latentscore"


@pytest.fixture(scope="module")
def daemon() -> Iterator[BridgeDaemon]:
    with running_daemon() as d:
        yield d


def engine_params(daemon: BridgeDaemon):  # the target the render thread handed to the engine
    return daemon.performance.performer.params


def test_every_field_takes_a_label_an_index_and_ordered_a_float(
    daemon: BridgeDaemon, client: OscClient
) -> None:
    for name, spec in FIELDS.items():
        client.send(f"{P}/{name}", str(spec.labels[-1]))
    state = client.state()
    for name, spec in FIELDS.items():
        expected = spec.labels[-1]
        got = state[f"{P}/label/{name}" if spec.ordered else f"{P}/{name}"][0]
        assert got == expected, name
    for name in FIELDS:  # an index at /index/<field>
        client.send(f"{P}/index/{name}", 1)
    state = client.state()
    for name, spec in FIELDS.items():
        got = state[f"{P}/label/{name}" if spec.ordered else f"{P}/{name}"][0]
        assert got == spec.labels[1], name
        assert state[f"{P}/index/{name}"] == (1,), name
    for name, spec in FIELDS.items():  # a label at /label/<field> (density's are ints)
        if spec.ordered:
            client.send(f"{P}/label/{name}", spec.labels[2])
    state = client.state()
    for name, spec in FIELDS.items():
        if spec.ordered:
            assert state[f"{P}/label/{name}"] == (spec.labels[2],), name
    for name, spec in FIELDS.items():  # on a fader any number is a position: 1 is the top
        client.send(f"{P}/{name}", 1 if spec.ordered else 0)
    state = client.state()
    for name, spec in FIELDS.items():
        if spec.ordered:
            assert state[f"{P}/{name}"] == (1.0,) and state[f"{P}/label/{name}"] == (
                spec.labels[-1],
            ), name
        else:
            assert state[f"{P}/{name}"] == (spec.labels[0],), name
    ordered = [n for n, s in FIELDS.items() if s.ordered]
    for name in ordered:
        client.send(f"{P}/{name}", 0.63)
    state = client.state()
    for name in ordered:
        assert state[f"{P}/{name}"][0] == pytest.approx(0.63, abs=1e-6), name
        assert state[f"{P}/label/{name}"][0] == FIELDS[name].nearest_label(0.63)

    # the engine got the in-between positions, not the labels' (density 2 + 4 * 0.63)
    def arrived() -> bool:
        params = engine_params(daemon)
        return abs(params.brightness - 0.63) < 1e-6 and abs(params.density - 4.52) < 1e-5

    wait_for(arrived, what="brightness 0.63 and density 4.52 in the engine")


def test_step_moves_labels_and_saturates(daemon: BridgeDaemon, client: OscClient) -> None:
    client.send(f"{P}/brightness", "medium")
    client.send(f"{P}/step/brightness", 1)
    assert client.state()[f"{P}/label/brightness"] == ("bright",)
    client.send(f"{P}/step/brightness", 5)
    assert client.state()[f"{P}/label/brightness"] == ("very_bright",)
    client.send(f"{P}/step/brightness", -1.0)  # integral floats are fine (TouchOSC sends f)
    assert client.state()[f"{P}/label/brightness"] == ("bright",)
    wait_for(lambda: engine_params(daemon).brightness == 0.75, what="engine brightness 0.75")


def test_config_json_full_and_partial(daemon: BridgeDaemon, client: OscClient) -> None:
    full = MusicConfig(tempo="fast", mode="dorian", bass="walking", density=5)
    client.send(f"{P}/config", full.to_json())
    state = client.state()
    assert state[f"{P}/label/tempo"] == ("fast",)
    assert state[f"{P}/bass"] == ("walking",)
    client.send(f"{P}/config", json.dumps({"tempo": {"step": -1}, "root": "f#"}))
    state = client.state()
    assert state[f"{P}/label/tempo"] == ("medium",)
    assert state[f"{P}/root"] == ("f#",)
    assert state[f"{P}/mode"] == ("dorian",)  # untouched by the partial update
    wait_for(lambda: engine_params(daemon).root == 6, what="engine root f#")


def test_transition_seed_volume_and_play_stop(daemon: BridgeDaemon, client: OscClient) -> None:
    client.send(f"{P}/transition", 1.5)
    client.send(f"{P}/seed", 1234)
    client.send(f"{P}/volume", 0.5)
    state = client.state()
    assert state[f"{P}/transition"] == (1.5,)
    assert state[f"{P}/seed"] == (1234,)
    assert state[f"{P}/volume"] == (0.5,)
    performance = daemon.performance
    wait_for(lambda: performance.performer.seed == 1234, what="reseeded performer")
    wait_for(lambda: performance._volume.target == 0.5, what="volume in the render thread")

    client.send(f"{P}/stop")
    assert client.state()[f"{P}/playing"] == (0,)
    wait_for(lambda: not performance._advancing, what="music paused after its fade")
    client.send(f"{P}/play", 0.0)  # a button's release is not a press
    assert client.state()[f"{P}/playing"] == (0,)
    client.send(f"{P}/play", 1.0)
    assert client.state()[f"{P}/playing"] == (1,)
    wait_for(lambda: performance._advancing, what="music running again")
    client.send(f"{P}/volume", 0.8)
    client.send(f"{P}/transition", 0.5)


def test_state_replies_with_every_readable_value(client: OscClient) -> None:
    state = client.state()
    expected = {s.path for s in build_registry().readable()}
    assert set(state) == expected
    assert all(len(args) == 1 for args in state.values())


def test_vibe_crossfades_and_is_acknowledged_with_the_title(
    daemon: BridgeDaemon, client: OscClient
) -> None:
    model = daemon.options.model
    assert isinstance(model, FakeVibeModel)
    voices_before = daemon.performance.performer._changes
    client.send(f"{P}/vibe", "a dark cellar at night")
    assert client.wait(f"{P}/title").args == ("Night Cellar",)
    state = client.state()
    assert state[f"{P}/label/brightness"] == ("very_dark",)
    assert state[f"{P}/pad"] == ("dark_sustained",)
    assert state[f"{P}/title"] == ("Night Cellar",)
    # a crossfade (a new engine), not a glide
    wait_for(lambda: daemon.performance.performer._changes > voices_before, what="crossfade")
    assert model.calls[-1] == "a dark cellar at night"

    client.clear()
    client.send(f"{P}/vibe", "this will fail")
    assert "model failed" in str(client.wait(f"{P}/error").args[0])
    client.send(f"{P}/vibe", "   ")
    assert "empty" in str(client.wait(f"{P}/error", lambda m: "empty" in str(m.args[0])).args[0])
    assert client.state()[f"{P}/title"] == ("Night Cellar",)  # unchanged


def test_address_patterns(daemon: BridgeDaemon, client: OscClient) -> None:
    client.send(f"{P}/{{brightness,space}}", 0.9)
    state = client.state()
    assert state[f"{P}/brightness"] == (pytest.approx(0.9),)
    assert state[f"{P}/space"] == (pytest.approx(0.9),)
    client.send(f"{P}/[bs]pace", "dry")
    client.send(f"{P}/te?po", "very_slow")
    client.send(f"{P}/step/*", 1)  # every ordered field up one label
    state = client.state()
    assert state[f"{P}/label/space"] == ("small",)
    assert state[f"{P}/label/tempo"] == ("slow",)
    assert state[f"{P}/label/brightness"] == ("very_bright",)  # saturated
    # validated in full first: "dry" is not a brightness, so neither field changes
    client.clear()
    client.send(f"{P}/{{space,brightness}}", "dry")
    assert "brightness" in str(client.wait(f"{P}/error").args[0])
    state = client.state()
    assert state[f"{P}/label/space"] == ("small",)
    assert state[f"{P}/label/brightness"] == ("very_bright",)
    client.send(f"{P}/[abc", 1)
    assert "unclosed" in str(client.wait(f"{P}/error", lambda m: "unclosed" in m.args[0]).args[0])


def test_bundle_with_future_timetag_lands_on_its_sample(
    daemon: BridgeDaemon, client: OscClient
) -> None:
    client.send(f"{P}/brightness", "dark")
    client.send(f"{P}/space", "small")
    assert client.state()[f"{P}/label/space"] == ("small",)
    when = time.time() + 0.9
    bundle = encode_bundle(
        unix_to_timetag(when),
        [encode_message(f"{P}/brightness", ("bright",)), encode_message(f"{P}/space", ("vast",))],
    )
    applied_before = len(daemon.performance.applied)
    client.send_raw(bundle)
    expected_sample = daemon.performance.clock.sample_at_unix(when)
    # not before its time (the render thread is only ~0.4 s ahead of the device)
    state = client.state()
    assert state[f"{P}/label/brightness"] == ("dark",)
    assert state[f"{P}/label/space"] == ("small",)
    wait_for(lambda: len(daemon.performance.applied) > applied_before, 5.0, "scheduled change")
    target, applied = daemon.performance.applied[-1]
    assert applied == target  # rendered exactly up to the timetag's sample
    assert abs(target - expected_sample) < 0.05 * 44100
    heard_at = wait_for(
        lambda: time.time() if daemon.performance.clock.now_sample() >= target else None,
        what="the change to be heard",
    )
    assert heard_at == pytest.approx(when, abs=0.15)
    state = client.state()
    assert state[f"{P}/label/brightness"] == ("bright",)
    assert state[f"{P}/label/space"] == ("vast",)  # both in one bundle, applied together


def test_immediate_past_and_nested_bundles_apply_now(client: OscClient) -> None:
    inner = encode_bundle(1, [encode_message(f"{P}/mode", ("major",))])
    past = encode_bundle(unix_to_timetag(time.time() - 5), [encode_message(f"{P}/root", ("d",))])
    client.send_raw(encode_bundle(1, [inner, encode_message(f"{P}/echo", ("heavy",))]))
    client.send_raw(past)
    state = client.state()
    assert state[f"{P}/mode"] == ("major",)
    assert state[f"{P}/label/echo"] == ("heavy",)
    assert state[f"{P}/root"] == ("d",)


@pytest.mark.parametrize("framing", ["size", "slip"])
def test_tcp_in_both_framings(daemon: BridgeDaemon, framing: str) -> None:
    tcp = TcpOscClient(daemon.osc_port, framing)
    try:
        tcp.send(f"{P}/grain", "gritty")
        tcp.send(f"{P}/state")
        assert tcp.recv(f"{P}/label/grain").args == ("gritty",)
        tcp.send(f"{P}/grain", "nonsense")
        assert "grain" in str(tcp.recv(f"{P}/error").args[0])
        tcp.send(f"{P}/grain", "warm")
        tcp.send(f"{P}/state")
        assert tcp.recv(f"{P}/label/grain").args == ("warm",)
    finally:
        tcp.close()


def test_tcp_frames_split_across_reads_and_oversized_frames(daemon: BridgeDaemon) -> None:
    tcp = TcpOscClient(daemon.osc_port, "size")
    try:
        data = size_prefixed(
            [encode_message(f"{P}/attack", ("soft",)), encode_message(f"{P}/state")]
        )
        for i in range(0, len(data), 7):  # dribbled in small pieces
            tcp.send_bytes(data[i : i + 7])
        assert tcp.recv(f"{P}/label/attack").args == ("soft",)
        tcp.send_bytes(b"\x7f\xff\xff\xff")  # claims a 2 GB packet
        assert "size prefix" in str(tcp.recv(f"{P}/error").args[0])
        with pytest.raises(AssertionError, match="closed"):
            tcp.recv(f"{P}/anything", timeout=2.0)
    finally:
        tcp.close()


def test_subscribe_with_a_port_and_unsubscribe(daemon: BridgeDaemon, client: OscClient) -> None:
    listener = OscClient(daemon.osc_port)
    try:
        client.send(f"{P}/subscribe", listener.port)
        listener.wait(f"{P}/title")  # a new subscriber gets the full state at once
        listener.clear()
        other = OscClient(daemon.osc_port, bind="127.0.0.2")  # another machine, as it were
        try:
            other.send(f"{P}/motion", 0.2)
            assert listener.wait(f"{P}/motion").args == (pytest.approx(0.2),)
            # the subscription is owned by `client`: its own writes are not echoed there
            listener.clear()
            client.send(f"{P}/motion", 0.4)
            other.send(f"{P}/human", 0.1)
            listener.wait(f"{P}/human")
            assert not listener.messages(f"{P}/motion")
            client.send(f"{P}/unsubscribe")
            wait_for(lambda: not daemon.hub.targets(), what="subscription removed")
        finally:
            other.close()
    finally:
        listener.close()


def test_edits_made_while_a_vibe_is_thinking_survive_it() -> None:
    with running_daemon(model=FakeVibeModel(delay=0.4)) as daemon:
        client = OscClient(daemon.osc_port)
        try:
            client.send(f"{P}/tempo", "very_fast")  # before the vibe: replaced by it
            client.send(f"{P}/vibe", "a dark cellar at night")
            client.send(f"{P}/space", "vast")  # after the vibe was asked for: kept
            client.send(f"{P}/step/motion", 1)
            assert client.wait(f"{P}/title").args == ("Night Cellar",)
            state = client.state()
            assert state[f"{P}/label/brightness"] == ("very_dark",)  # from the vibe
            assert state[f"{P}/label/tempo"] == ("slow",)  # the vibe's (default) tempo
            assert state[f"{P}/label/space"] == ("vast",)
            assert state[f"{P}/label/motion"] == ("medium",)  # slow (default) + 1
        finally:
            client.close()


def test_vibes_with_the_real_fast_model() -> None:
    with running_daemon(model="fast") as daemon:
        client = OscClient(daemon.osc_port)
        try:
            client.send(f"{P}/vibe", "frantic chase, 132 bpm, no drums")
            assert client.wait(f"{P}/title", timeout=30).args == ("Frantic Chase 132 Bpm No Drums",)
            state = client.state()
            assert state[f"{P}/label/tempo"] == ("very_fast",)
            assert state[f"{P}/rhythm"] == ("none",)
        finally:
            client.close()
