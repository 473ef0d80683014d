"""OSCQuery: the HTTP JSON namespace and WebSocket LISTEN/IGNORE streaming of changes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

from bridge.daemon import BridgeDaemon
from bridge.osc_codec import OscMessage, decode_packet, encode_message
from bridge.registry import build_registry
from latentscore.config import FIELDS
from tests.bridge_util import OscClient, running_daemon

P = "/latentscore"


@pytest.fixture(scope="module")
def daemon() -> Iterator[BridgeDaemon]:
    with running_daemon() as d:
        yield d


def get(daemon: BridgeDaemon, target: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{daemon.oscquery_port}{target}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read()
            assert response.headers["Content-Type"] == "application/json" or not body
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_namespace_lists_every_address_with_its_attributes(daemon: BridgeDaemon) -> None:
    status, root = get(daemon, "/")
    assert status == 200 and root["FULL_PATH"] == "/"
    found: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any]) -> None:
        found[node["FULL_PATH"]] = node
        for child in node.get("CONTENTS", {}).values():
            walk(child)

    walk(root)
    registry = build_registry()
    assert {s.path for s in registry} <= set(found)
    for spec in registry:
        node = found[spec.path]
        assert node["DESCRIPTION"] == spec.description
        assert node["ACCESS"] == int(spec.access)
    tempo = found[f"{P}/tempo"]
    assert tempo["TYPE"] == "f" and tempo["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}]
    assert tempo["OVERLOADS"][0] == {"TYPE": "s", "RANGE": [{"VALS": list(FIELDS["tempo"].labels)}]}
    assert set(tempo["CONTENTS"]) == {"step", "label"}
    mode = found[f"{P}/mode"]
    assert mode["TYPE"] == "s" and mode["RANGE"] == [{"VALS": list(FIELDS["mode"].labels)}]
    assert found[f"{P}/level"]["TYPE"] == "ff" and "VALUE" not in found[f"{P}/level"]
    assert found[f"{P}/transition"]["UNIT"] == ["seconds"]


def test_values_attributes_host_info_and_errors(daemon: BridgeDaemon) -> None:
    client = OscClient(daemon.osc_port)
    try:
        client.send(f"{P}/space", 0.875)
        client.send(f"{P}/mode", "dorian")
        client.state()  # both applied
    finally:
        client.close()
    assert get(daemon, f"{P}/space?VALUE") == (200, {"VALUE": [0.875]})
    assert get(daemon, f"{P}/space/label?VALUE") == (200, {"VALUE": ["vast"]})
    assert get(daemon, f"{P}/mode?VALUE") == (200, {"VALUE": ["dorian"]})
    status, node = get(daemon, f"{P}/space/")
    assert status == 200 and node["VALUE"] == [0.875]
    assert get(daemon, f"{P}/mode?TYPE") == (200, {"TYPE": "s"})
    status, info = get(daemon, f"{P}/tempo?HOST_INFO")  # the path does not matter
    assert status == 200
    assert info["OSC_PORT"] == daemon.osc_port and info["OSC_TRANSPORT"] == "UDP"
    assert info["EXTENSIONS"]["LISTEN"] is True and info["EXTENSIONS"]["VALUE"] is True
    assert get(daemon, f"{P}/nowhere")[0] == 404
    assert get(daemon, f"{P}/tempo?BOGUS")[0] == 400
    assert get(daemon, f"{P}/play?VALUE")[0] == 204  # write-only
    assert get(daemon, f"{P}?TYPE")[0] == 204  # a container has no type
    assert get(daemon, f"{P}/level?VALUE") == (200, {})  # a stream: no value to report


def _next_osc(ws: Any, timeout: float = 5.0) -> OscMessage:
    data = ws.recv(timeout=timeout)
    assert isinstance(data, bytes)
    message = decode_packet(data)
    assert isinstance(message, OscMessage)
    return message


def _sync(ws: Any) -> None:
    """Commands on one socket are handled in order: once a /state reply (ending with the
    title) is back, every LISTEN/IGNORE sent before it is in force."""
    ws.send(encode_message(f"{P}/state"))
    while _next_osc(ws).address != f"{P}/title":
        pass


def test_websocket_listen_receives_changes_until_ignore(daemon: BridgeDaemon) -> None:
    client = OscClient(daemon.osc_port)
    try:
        with connect(f"ws://127.0.0.1:{daemon.oscquery_port}/") as ws:
            ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": f"{P}/brightness"}))
            ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": f"{P}/title"}))
            _sync(ws)
            client.send(f"{P}/brightness", 0.125)
            message = _next_osc(ws)
            assert message.address == f"{P}/brightness"
            assert message.args == (pytest.approx(0.125),)
            client.send(f"{P}/vibe", "dark rain")  # streams are LISTENable too
            title = _next_osc(ws)
            while title.address != f"{P}/title":  # (the vibe also moved brightness)
                title = _next_osc(ws)
            assert title.args == ("Night Cellar",)

            ws.send(json.dumps({"COMMAND": "IGNORE", "DATA": f"{P}/brightness"}))
            ws.send(json.dumps({"COMMAND": "IGNORE", "DATA": f"{P}/title"}))
            ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": f"{P}/space"}))
            _sync(ws)
            client.send(f"{P}/brightness", 0.9)
            client.send(f"{P}/space", 0.3)
            message = _next_osc(ws)
            assert message.address == f"{P}/space" and message.args == (pytest.approx(0.3),)
    finally:
        client.close()


def test_websocket_binary_osc_input_is_handled_like_udp(daemon: BridgeDaemon) -> None:
    with connect(f"ws://127.0.0.1:{daemon.oscquery_port}/") as ws:
        ws.send(encode_message(f"{P}/accent", ("bells",)))
        ws.send(encode_message(f"{P}/accent", ("kazoo",)))
        error = _next_osc(ws)
        assert error.address == f"{P}/error" and "kazoo" in error.args[0]
    assert get(daemon, f"{P}/accent?VALUE") == (200, {"VALUE": ["bells"]})
