"""``--timetags``: stream messages go out ahead, in bundles stamped with when they are heard.

A real daemon (``--no-audio``: the clocked null output) plays a kit at an exact 120 BPM; a
UDP subscriber decodes what arrives with python-osc (a third-party OSC library), records its
arrival time, and checks that every note/beat/bar/level came as a bundle whose timetag lies
ahead of its arrival and that consecutive beats are stamped exactly one beat apart.
"""

from __future__ import annotations

import itertools
import socket
import statistics
import time

from pythonosc.osc_packet import OscPacket

from bridge.osc_codec import encode_message
from latentscore.config import MusicConfig
from tests.bridge_util import running_daemon

P = "/latentscore"
BUNDLE = b"#bundle\x00"
STREAMS = {f"{P}/note", f"{P}/beat", f"{P}/bar", f"{P}/level"}


def _listen(port: int, seconds: float) -> list[tuple[float, bool, float, str, list[object]]]:
    """Subscribe from a fresh UDP socket; (arrival, was bundle, stamped time, address, args)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    got: list[tuple[float, bool, float, str, list[object]]] = []
    try:
        sock.sendto(encode_message(f"{P}/subscribe", ()), ("127.0.0.1", port))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            arrival = time.time()
            for timed in OscPacket(data).messages:
                message = timed.message
                got.append(
                    (
                        arrival,
                        data.startswith(BUNDLE),
                        timed.time,
                        message.address,
                        list(message.params),
                    )
                )
    finally:
        sock.close()
    return got


def test_streams_arrive_ahead_in_bundles_stamped_when_heard() -> None:
    config = MusicConfig(rhythm="soft_four", density=4, human="robotic", bpm=120.0)
    with running_daemon(config=config, timetags=True) as daemon:
        assert daemon.performance.timetags
        got = _listen(daemon.osc_port, 4.0)
    streams = [g for g in got if g[3] in STREAMS]
    kinds = {g[3] for g in streams}
    assert {f"{P}/beat", f"{P}/bar", f"{P}/note", f"{P}/level"} <= kinds, kinds
    plain = [g for g in streams if not g[1]]
    assert not plain, f"{len(plain)} stream messages came without a timetag: {plain[:3]}"

    leads = [stamped - arrival for arrival, _, stamped, _, _ in streams]
    median_lead = statistics.median(leads)
    # sent when rendered: the render-ahead (17 ms) plus up to a block, minus the send time
    assert 0.0 < median_lead < 0.25, f"median lead {median_lead * 1000:.1f} ms"
    assert min(leads) > -0.02, f"a message arrived {-min(leads) * 1000:.1f} ms after its time"

    beats = sorted((g[4][0], g[2]) for g in streams if g[3] == f"{P}/beat")
    assert len(beats) >= 6
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(beats) if b[0] == a[0] + 1]
    worst = max(abs(g - 0.5) for g in gaps) if gaps else float("nan")
    print(
        f"timetags: {len(streams)} stream messages, lead median {median_lead * 1000:.1f} ms "
        f"(min {min(leads) * 1000:.1f}), beat stamps off 0.5 s by at most {worst * 1000:.2f} ms"
    )
    assert gaps and worst < 0.003, gaps  # one beat at 120 BPM
    bars = [g for g in streams if g[3] == f"{P}/bar"]
    beat_time = dict(beats)
    for _, _, stamped, _, (bar,) in bars:  # a bar is stamped with its downbeat's time
        assert abs(stamped - beat_time.get(bar * 4, stamped)) < 0.001  # type: ignore[operator]

    values = [g for g in got if g[3] not in STREAMS]  # the state on subscribing: plain values
    assert values and not any(g[1] for g in values)


def test_without_the_option_streams_are_plain_messages_sent_when_heard() -> None:
    config = MusicConfig(rhythm="soft_four", density=4, bpm=120.0)
    with running_daemon(config=config) as daemon:
        got = _listen(daemon.osc_port, 1.5)
    streams = [g for g in got if g[3] in STREAMS]
    assert len(streams) > 10 and not any(g[1] for g in streams)
