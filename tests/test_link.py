"""Ableton Link: two daemons and a Link peer share tempo and bar phase (``bridge --link``).

The test process is itself a Link peer (aalink, as Ableton Live or TouchDesigner would be)
at 120 BPM. Two ``latentscore bridge --link`` daemons run as separate processes (null audio
output clocked in real time, so the test needs no sound card); each reports its beats over
OSC as they are heard (``/latentscore/beat``). For every beat message the peer's own Link
beat at the moment it arrived must be the same beat of the 4-beat bar (within 0.1 beat), for
both daemons: they follow the session's tempo, lock to its phase and so to each other. Then
the peer changes the tempo (both follow and re-lock), a daemon's own tempo change (an OSC
label) leads the session, and start/stop sync runs both ways (the peer's transport stops
and starts both daemons; a daemon's ``/stop`` stops the session and the other daemon).

Runs wherever the optional ``aalink`` package is installed; with ``CI=true`` it must run.
"""

from __future__ import annotations

import itertools
import os
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.bridge_util import OscClient, wait_for
from tests.cli_daemon import start_bridge

try:
    import aalink  # noqa: F401

    HAVE_LINK = True
except ImportError:  # pragma: no cover - CI installs the [link] extra
    HAVE_LINK = False

if not HAVE_LINK and os.environ.get("CI") == "true":
    raise RuntimeError("CI=true but aalink is missing: install the [link] extra")
pytestmark = pytest.mark.skipif(not HAVE_LINK, reason="needs the optional aalink package")

ROOT = Path(__file__).resolve().parent.parent
P = "/latentscore"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _daemon(osc_port: int, seed: int) -> Iterator[subprocess.Popen[str]]:
    args = [
        "--no-audio", "--no-zeroconf", "--no-oscquery", "--link",
        "--osc-port", str(osc_port), "--seed", str(seed), "--preset", "deep_space",
        "--transition", "0.5",
    ]  # fmt: skip
    log = open(os.environ.get("LINK_TEST_LOG", os.devnull), "a")  # noqa: SIM115
    proc = start_bridge(args, stderr=log)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _phase_errors(client: OscClient, link: object, seconds: float) -> tuple[list[float], float]:
    """Collect ``seconds`` of beat messages; (bar-phase errors in beats, median interval)."""
    client.clear()
    time.sleep(seconds)
    link_beat, now, tempo = link.beat, time.monotonic(), link.tempo  # type: ignore[attr-defined]
    with client._lock:
        beats = [(t, m.args[0]) for t, m in client.received if m.address == f"{P}/beat"]
    errors = []
    for t, k in beats:
        at = link_beat - (now - t) * tempo / 60.0  # the peer's beat when the message came
        errors.append((at - float(k) + 2.0) % 4.0 - 2.0)
    times = [t for t, _ in beats]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return errors, statistics.median(gaps) if gaps else 0.0


def _check_locked(name: str, errors: list[float], gap: float, bpm: float) -> None:
    assert len(errors) >= 4, f"{name}: too few beats heard ({len(errors)})"
    assert gap == pytest.approx(60.0 / bpm, rel=0.03), f"{name}: beats every {gap:.3f} s"
    assert max(abs(e) for e in errors) < 0.1, f"{name}: bar phase errors {errors}"


def test_two_daemons_follow_lock_to_and_lead_a_link_session() -> None:
    from bridge.link_sync import LinkSession

    peer = LinkSession(120.0)
    peer.link.quantum = 4
    peer.link.start_stop_sync_enabled = True
    peer.link.enabled = True
    try:
        with ExitStack() as stack:
            ports = [_free_port(), _free_port()]
            for seed, port in enumerate(ports, 1):
                stack.enter_context(_daemon(port, seed))
            clients = [stack.enter_context(_client(port)) for port in ports]
            wait_for(lambda: peer.link.num_peers >= 2, 20.0, "both daemons in the session")
            time.sleep(6.0)  # follow the tempo (0.5 s glide), then realign the phase
            for name, client in zip("AB", clients, strict=True):
                errors, gap = _phase_errors(client, peer.link, 4.0)
                _check_locked(name, errors, gap, 120.0)

            peer.link.tempo = 100.0  # the session changes tempo: both follow and re-lock
            time.sleep(8.0)
            for name, client in zip("AB", clients, strict=True):
                errors, gap = _phase_errors(client, peer.link, 5.0)
                _check_locked(name, errors, gap, 100.0)

            clients[0].send(f"{P}/tempo", "fast")  # a daemon's own change leads the session
            wait_for(lambda: abs(peer.link.tempo - 100.0) > 1.0, 10.0, "the session to follow")
            led = float(peer.link.tempo)
            time.sleep(8.0)
            errors, gap = _phase_errors(clients[1], peer.link, 5.0)
            _check_locked("B after A led", errors, gap, led)

            # start/stop sync: the peer's transport plays and stops both daemons...
            peer.link.playing = True  # (we are playing already: nothing changes)
            time.sleep(0.5)
            for client in clients:
                assert client.state()[f"{P}/playing"] == (1,)
            for playing in (False, True):
                for client in clients:
                    client.clear()  # (a wait must see the new value, not the state's)
                peer.link.playing = playing
                for client in clients:
                    client.wait(f"{P}/playing", lambda m, v=int(playing): m.args == (v,))
            time.sleep(0.5)  # both have told the session they follow it
            # ...and a daemon's own stop stops the session (and so the other daemon)
            clients[1].clear()
            clients[0].send(f"{P}/stop")
            wait_for(lambda: not peer.link.playing, 5.0, "the session to stop")
            clients[1].wait(f"{P}/playing", lambda m: m.args == (0,), timeout=5.0)
    finally:
        peer.close()


@contextmanager
def _client(port: int) -> Iterator[OscClient]:
    client = OscClient(port)
    try:
        client.send(f"{P}/subscribe")
        yield client
    finally:
        client.close()
