"""Bad input gets an error reply and changes nothing; limits hold; shutdown is clean."""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bridge.controller import Limits
from bridge.osc_codec import encode_message
from bridge.security import AllowList, RateLimiter, parse_host_port
from latentscore.player import NullOutput
from tests.bridge_util import OscClient, running_daemon, wait_for

P = "/latentscore"
ROOT = Path(__file__).resolve().parent.parent

BAD: list[tuple[bytes, str]] = [
    (b"\x00\x01\x02", "multiple of 4"),
    (b"garbage!", "neither a message"),
    (b"/latentscore/tempo\x00\x00,f\x00\x00", "truncated"),
    (encode_message(f"{P}/tempo", ("x",))[:-4] + b"\x01\x02\x03\x04", "NUL"),
    (b"/latentscore/tempo\x00\x00,x\x00\x00", "unsupported type tag"),
    (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 1000), "truncated"),
    (encode_message(f"{P}/nope", (1,)), "unknown address"),
    (encode_message(f"{P}/tempo", (b"blob",)), "wrong argument types"),
    (encode_message(f"{P}/tempo", (1.5,)), "outside 0..1"),
    (encode_message(f"{P}/tempo", (float("nan"),)), "outside 0..1"),
    (encode_message(f"{P}/tempo", (9,)), "outside 0..4"),
    (encode_message(f"{P}/tempo", ("ludicrous",)), "allowed"),
    (encode_message(f"{P}/tempo", ("z" * 20000,)), "label is invalid"),
    (encode_message(f"{P}/tempo", (0.5, 0.5)), "wrong argument types"),
    (encode_message(f"{P}/tempo/step", (1000,)), "outside -64..64"),
    (encode_message(f"{P}/mode/step", (1,)), "unknown address"),
    (encode_message(f"{P}/mode", (0.5,)), "whole number"),
    (encode_message(f"{P}/volume", (2.0,)), "outside 0..1"),
    (encode_message(f"{P}/seed", (-1,)), "outside 0..2147483647"),
    (encode_message(f"{P}/transition", (-3.0,)), "outside 0..120"),
    (encode_message(f"{P}/config", ("{not json",)), "invalid JSON"),
    (encode_message(f"{P}/config", ('{"tempo": "warp"}',)), "tempo"),
    (encode_message(f"{P}/config", ('{"colour": "red"}',)), "unknown field"),
    (encode_message(f"{P}/config", ("x" * 5000,)), "limit 4096"),
    (encode_message(f"{P}/vibe", ("v" * 5000,)), "limit 4096"),
    (encode_message(f"{P}/subscribe", (70000,)), "outside 1..65535"),
    (encode_message(f"{P}/title", ("hijack",)), "read-only"),
    (encode_message(f"{P}/level", (0.1, 0.2)), "read-only"),
]


def test_bad_input_gets_an_error_reply_and_changes_nothing() -> None:
    # (error replies are rate-limited per sender; this test sends more than the default)
    with running_daemon(limits=Limits(error_rate=1000.0)) as daemon:
        client = OscClient(daemon.osc_port)
        try:
            before = client.state()
            for packet, reason in BAD:
                client.clear()
                client.send_raw(packet)
                error = client.wait(f"{P}/error", timeout=3.0)
                assert reason in str(error.args[0]), (packet[:40], error.args)
                assert len(str(error.args[0])) <= 400  # huge input is not echoed back
            assert client.state() == before
            assert daemon.controller.rejected == len(BAD)
            client.send(f"{P}/tempo", "fast")  # and it still works
            assert client.state()[f"{P}/tempo/label"] == ("fast",)
        finally:
            client.close()


def test_rate_limit_per_sender_and_packet_size_limit() -> None:
    limits = Limits(max_packet=1024, rate=50.0, error_rate=100.0)
    with running_daemon(limits=limits) as daemon:
        flood, calm = OscClient(daemon.osc_port), OscClient(daemon.osc_port)
        try:
            for i in range(200):
                flood.send(f"{P}/motion", (i % 100) / 100)
            flood.wait(f"{P}/error", lambda m: "rate limit" in m.args[0])
            assert daemon.controller.throttled > 0
            # another sender is not affected by the flood
            calm.send(f"{P}/grain", "warm")
            assert calm.state()[f"{P}/grain/label"] == ("warm",)
            calm.clear()
            calm.send(f"{P}/config", '{"tempo": "fast"}' + " " * 1100)
            assert "exceeds 1024" in calm.wait(f"{P}/error").args[0]
        finally:
            flood.close()
            calm.close()


def test_allow_list_rate_limiter_and_host_port_parsing() -> None:
    allow = AllowList(["10.0.0.0/24", "192.168.1.20"])
    assert allow.allows("10.0.0.7") and allow.allows("192.168.1.20")
    assert not allow.allows("10.0.1.7") and not allow.allows("8.8.8.8")
    assert allow.allows("127.0.0.1") and allow.allows("::1")  # loopback always
    assert AllowList().allows("8.8.8.8")
    with pytest.raises(ValueError, match="not an IP"):
        AllowList(["nonsense"])
    limiter = RateLimiter(rate=10)
    assert sum(limiter.allow("a") for _ in range(20)) == 10
    assert limiter.allow("b")
    assert parse_host_port("127.0.0.1:9001") == ("127.0.0.1", 9001)
    assert parse_host_port("[::1]:9001") == ("::1", 9001)
    for bad in ("nohost", "host:0", "host:99999", ":9000"):
        with pytest.raises(ValueError):
            parse_host_port(bad)


def test_stop_fades_out_and_closes_everything() -> None:
    backend = NullOutput(realtime=True)
    backend.blocks = []
    with running_daemon(backend=backend) as daemon:
        osc_port, query_port = daemon.osc_port, daemon.oscquery_port
        assert query_port is not None
        client = OscClient(osc_port)
        client.send(f"{P}/subscribe")
        client.wait(f"{P}/title")
        wait_for(lambda: len(backend.blocks) > 100, what="some audio")  # type: ignore[arg-type]
        perf = daemon.performance
        threads = [perf.loop._worker, perf.loop._watchdog, perf._emitter, perf._composer]
    # (context exit stopped the daemon)
    assert client.wait(f"{P}/playing", lambda m: m.args == (0,)).args == (0,)
    client.close()
    audio = np.concatenate(backend.blocks)  # type: ignore[arg-type]
    tail = audio[-round(0.08 * 44100) :]
    assert np.max(np.abs(tail)) > 0.0  # ... reached by a fade, not a cut
    # ends in silence: the fade's last 256 samples are a small fraction of what it faded
    assert audio[-1] == 0.0 and np.max(np.abs(audio[-256:])) < 0.2 * np.max(np.abs(tail))
    jumps = np.abs(np.diff(audio[-round(0.2 * 44100) :]))
    assert np.max(jumps) < 0.2
    assert not any(t.is_alive() for t in threads)
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):  # the ports are free again
        sock = socket.socket(socket.AF_INET, kind)
        sock.bind(("127.0.0.1", osc_port))
        sock.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", query_port), timeout=1.0)


def test_cli_daemon_shuts_down_cleanly_on_sigterm(tmp_path: Path) -> None:
    cmd = [
        sys.executable, "-m", "latentscore.cli", "bridge", "--no-audio", "--osc-port", "0",
        "--oscquery-port", "0", "--no-zeroconf", "--preset", "deep_space", "--seed", "3",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while not any("Ctrl-C" in line for line in lines):
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            lines.append(line)
            assert time.monotonic() < deadline, lines
        found = re.search(r"127\.0\.0\.1:(\d+)", next(ln for ln in lines if "OSC in" in ln))
        assert found is not None, lines
        port = int(found.group(1))
        client = OscClient(port)
        try:
            client.send(f"{P}/tempo", "fast")
            assert client.state()[f"{P}/tempo/label"] == ("fast",)
        finally:
            client.close()
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Stopped:" in out and "0 underruns" in out, out
