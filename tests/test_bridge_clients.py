"""The bridge driven by the third-party clients artists use, as separate processes or libraries.

* python-oscquery loads the whole OSCQuery tree (it refuses a node that is both a value and
  a container) and reads a fader; python-osc sets it at the port HOST_INFO names.
* liblo's ``oscsend`` / ``oscdump`` (Debian liblo-tools) set fields over UDP and TCP and
  receive ``/state <port>`` replies and subscription feedback.
* node-osc (npm, installed by ``.ci/run`` into tests/node) sends whole numbers as OSC ints,
  at fader tops and in bundles.
* Pure Data (puredata-core, headless) sends with vanilla ``[oscformat]`` and
  ``[netsend -u -b]``, and over TCP with ``[netsend -b]`` (bare, unframed OSC).

Each tool is installed by ``.ci/run``; on a developer machine without it the test skips
(under ``CI=true`` it fails instead, so CI can never skip silently).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.daemon import BridgeDaemon
from bridge.osc_codec import encode_message
from tests.bridge_util import OscClient, running_daemon, wait_for

P = "/latentscore"
NODE_DIR = Path(__file__).resolve().parent / "node"


def need(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing: .ci/run must install it")
    pytest.skip(f"{what} is not installed")


def free_port() -> int:
    """A UDP port free right now, from the fixed range the tests may use (47100-47199)."""
    for port in range(47100, 47200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 47100-47199")


@pytest.fixture
def daemon() -> Iterator[BridgeDaemon]:
    with running_daemon() as d:
        yield d


def test_python_oscquery_loads_the_tree_reads_and_sets_a_fader(daemon: BridgeDaemon) -> None:
    need(importlib.util.find_spec("pythonoscquery") is not None, "python-oscquery (pip [dev])")
    from pythonosc.udp_client import SimpleUDPClient
    from pythonoscquery.osc_query_client import OSCQueryClient
    from zeroconf import ServiceInfo

    info = ServiceInfo(  # what zeroconf discovery would have handed the client
        "_oscjson._tcp.local.",
        "LatentScore._oscjson._tcp.local.",
        addresses=[socket.inet_aton("127.0.0.1")],
        port=daemon.oscquery_port,
    )
    client = OSCQueryClient(info)
    root = client.query_node("/")  # raises if any node is both a value and a container
    assert root is not None
    nodes = {node.full_path: node for node in root}
    for spec in daemon.registry:
        assert spec.path in nodes, spec.path
    fader = client.query_node(f"{P}/brightness")
    assert fader is not None and fader.contents is None
    host = client.get_host_info()
    assert host is not None and host.osc_port == daemon.osc_port
    SimpleUDPClient(host.osc_ip, host.osc_port).send_message(f"{P}/brightness", 0.875)

    def value() -> float | None:
        node = client.query_node(f"{P}/brightness")
        return node.value[0] if node is not None and node.value else None

    wait_for(lambda: value() == pytest.approx(0.875), what="the fader's new VALUE")
    label = client.query_node(f"{P}/label/brightness")
    assert label is not None and label.value == ["very_bright"]


def _oscdump(port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        ["oscdump", "-L", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(0.3)  # (oscdump prints nothing when ready; its socket binds at once)
    return proc


def _lines_until(proc: subprocess.Popen[str], needle: str, timeout: float = 5.0) -> list[str]:
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            time.sleep(0.01)
            continue
        lines.append(line.strip().split(" ", 1)[-1])  # (drop oscdump's timetag column)
        if needle in line:
            return lines
    raise AssertionError(f"oscdump never printed {needle!r}; got {lines[-5:]}")


def test_liblo_oscsend_and_oscdump(daemon: BridgeDaemon) -> None:
    need(shutil.which("oscsend") is not None, "liblo-tools (oscsend, oscdump)")
    port = str(daemon.osc_port)
    dump_port = free_port()
    dump = _oscdump(dump_port)
    try:

        def oscsend(*args: str, url: str | None = None) -> None:
            target = [url] if url else ["127.0.0.1", port]
            subprocess.run(["oscsend", *target, *args], check=True, timeout=10)

        oscsend(f"{P}/tempo", "f", "0.75")
        oscsend(f"{P}/label/space", "s", "vast")
        oscsend(f"{P}/density", "i", "1")  # a whole number on a fader: its top
        oscsend(f"{P}/mode", "s", "dorian", url=f"osc.tcp://127.0.0.1:{port}")  # TCP (size)
        # (TCP and UDP are separate streams: nothing orders the TCP change before the UDP
        # state request, so the request waits until the change has landed)
        wait_for(lambda: daemon.state.labels.get("mode") == "dorian", what="the TCP /mode")
        oscsend(f"{P}/state", "i", str(dump_port))  # a send-only tool names where to answer
        lines = _lines_until(dump, f"{P}/title")
        assert f"{P}/tempo f 0.750000" in lines
        assert f'{P}/label/space s "vast"' in lines or f"{P}/label/space s vast" in lines
        assert f"{P}/density f 1.000000" in lines
        assert any(line.startswith(f"{P}/mode s") and "dorian" in line for line in lines)

        oscsend(f"{P}/subscribe", "i", str(dump_port))
        _lines_until(dump, f"{P}/title")  # a subscriber gets the state at once
        oscsend(f"{P}/step/brightness", "i", "1")  # then feedback of every change
        lines = _lines_until(dump, f"{P}/label/brightness")
        assert any(line.startswith(f"{P}/brightness f") for line in lines)
        oscsend(f"{P}/unsubscribe", "i", str(dump_port))
        wait_for(lambda: daemon.hub.subscriptions() == 0, what="the unsubscribe")
    finally:
        dump.terminate()
        dump.wait(5)


def test_node_osc_sends_ints_at_fader_tops_and_bundles(daemon: BridgeDaemon) -> None:
    need(
        shutil.which("node") is not None and (NODE_DIR / "node_modules" / "node-osc").is_dir(),
        "node and node-osc (npm install --prefix tests/node)",
    )
    result = subprocess.run(
        ["node", str(NODE_DIR / "client.mjs"), str(daemon.osc_port)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    state = {m[0]: m[1:] for m in map(json.loads, result.stdout.splitlines())}
    assert state[f"{P}/brightness"] == [1] and state[f"{P}/label/brightness"] == ["very_bright"]
    assert state[f"{P}/space"] == [0] and state[f"{P}/label/space"] == ["dry"]
    assert state[f"{P}/density"] == [1]  # the top, not "density 1" (rejected before)
    assert state[f"{P}/tempo"] == [1] and state[f"{P}/echo"] == [0]  # from the bundle
    assert state[f"{P}/mode"] == ["dorian"]
    assert state[f"{P}/index/pad"] == [2]
    assert daemon.controller.rejected == 0


PD_PATCH = """#N canvas 0 0 600 400 12;
#X obj 10 10 loadbang;
#X obj 10 40 t b b;
#X msg 200 70 connect 127.0.0.1 {port};
#X obj 10 300 netsend {flags};
#X obj 10 70 delay 300;
#X msg 10 100 0.625;
#X obj 10 130 oscformat latentscore brightness;
#X obj 10 160 list prepend send;
#X obj 10 190 list trim;
#X msg 300 100 symbol vast;
#X obj 300 130 oscformat latentscore label space;
#X obj 200 330 print netsend;
#X connect 0 0 1 0;
#X connect 1 0 4 0;
#X connect 1 1 2 0;
#X connect 2 0 3 0;
#X connect 4 0 5 0;
#X connect 4 0 9 0;
#X connect 5 0 6 0;
#X connect 6 0 7 0;
#X connect 7 0 8 0;
#X connect 8 0 3 0;
#X connect 9 0 10 0;
#X connect 10 0 7 0;
#X connect 3 0 11 0;
"""


@pytest.mark.parametrize(("flags", "transport"), [("-u -b", "UDP"), ("-b", "TCP, unframed")])
def test_pure_data_oscformat_and_netsend(tmp_path: Path, flags: str, transport: str) -> None:
    need(shutil.which("pd") is not None, "Pure Data (puredata-core)")
    with running_daemon() as daemon:
        patch = tmp_path / "send.pd"
        patch.write_text(PD_PATCH.format(port=daemon.osc_port, flags=flags), encoding="utf-8")
        pd = subprocess.Popen(
            ["pd", "-nogui", "-nosound", "-nomidi", "-noprefs", "-open", str(patch)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(
                lambda: (
                    daemon.state.positions["brightness"] == pytest.approx(0.625)
                    and daemon.state.labels["space"] == "vast"
                ),
                timeout=10.0,
                what=f"Pd's messages over {transport}",
            )
            assert daemon.controller.rejected == 0
        finally:
            pd.terminate()
            pd.wait(5)


def test_send_only_tool_gets_errors_and_state_without_subscribing(daemon: BridgeDaemon) -> None:
    """What oscsend-style tools rely on, checked with a plain socket per message."""
    listener = OscClient(9)
    try:
        for _ in range(3):  # a new source port each time, as oscsend does
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(
                    encode_message(f"{P}/state", (listener.port,)), ("127.0.0.1", daemon.osc_port)
                )
        listener.wait(f"{P}/title")
        assert daemon.hub.subscriptions() == 0  # /state did not subscribe anyone
    finally:
        listener.close()
