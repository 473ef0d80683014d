"""OSCQuery: the HTTP JSON namespace and WebSocket LISTEN/IGNORE streaming of changes."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedOK
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
    # a node is a value or a container, never both (python-oscquery and Chataigne need it)
    for path, node in found.items():
        assert not ("CONTENTS" in node and ("TYPE" in node or "VALUE" in node)), path
    tempo = found[f"{P}/tempo"]
    assert tempo["TYPE"] == "f" and tempo["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}]
    assert tempo["OVERLOADS"][0] == {"TYPE": "s", "RANGE": [{"VALS": list(FIELDS["tempo"].labels)}]}
    assert "CONTENTS" not in tempo
    for group in ("step", "label", "index"):
        assert f"{P}/{group}/tempo" in found
        assert found[f"{P}/{group}"]["ACCESS"] == 0
    assert f"{P}/tempo/step" not in found  # deprecated aliases are input only
    mode = found[f"{P}/mode"]
    assert mode["TYPE"] == "s" and mode["RANGE"] == [{"VALS": list(FIELDS["mode"].labels)}]
    level = found[f"{P}/level"]  # a stream: a placeholder VALUE, as strict clients need one
    assert level["TYPE"] == "ff" and level["VALUE"] == [0.0, 0.0] and level["ACCESS"] == 1
    assert found[f"{P}/play"]["VALUE"] == [None] and found[f"{P}/play"]["ACCESS"] == 2
    assert found[f"{P}/transition"]["UNIT"] == ["time.second"]  # the proposal's unit name


def test_values_attributes_host_info_and_errors(daemon: BridgeDaemon) -> None:
    client = OscClient(daemon.osc_port)
    try:
        client.send(f"{P}/space", 0.875)
        client.send(f"{P}/mode", "dorian")
        client.state()  # both applied
    finally:
        client.close()
    assert get(daemon, f"{P}/space?VALUE") == (200, {"VALUE": [0.875]})
    assert get(daemon, f"{P}/label/space?VALUE") == (200, {"VALUE": ["vast"]})
    assert get(daemon, f"{P}/mode?VALUE") == (200, {"VALUE": ["dorian"]})
    status, node = get(daemon, f"{P}/space/")
    assert status == 200 and node["VALUE"] == [0.875]
    assert get(daemon, f"{P}/mode?TYPE") == (200, {"TYPE": "s"})
    status, info = get(daemon, f"{P}/tempo?HOST_INFO")  # the path does not matter
    assert status == 200
    assert info["OSC_PORT"] == daemon.osc_port and info["OSC_TRANSPORT"] == "UDP"
    assert info["EXTENSIONS"]["LISTEN"] is True and info["EXTENSIONS"]["VALUE"] is True
    assert info["EXTENSIONS"]["TYPE"] is True and info["WS_PORT"] == daemon.oscquery_port
    assert info["OSC_IP"] == "127.0.0.1"
    assert get(daemon, f"{P}/nowhere")[0] == 404
    assert get(daemon, f"{P}/tempo?BOGUS")[0] == 400
    assert get(daemon, f"{P}/play?VALUE")[0] == 204  # write-only
    assert get(daemon, f"{P}?TYPE")[0] == 204  # a container has no type
    assert get(daemon, f"{P}/level?VALUE") == (200, {})  # a stream: no value to report


def _raw_http(daemon: BridgeDaemon, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", daemon.oscquery_port or 0), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b" 204 " in chunks[0]:
                break
        return b"".join(chunks)


def test_status_codes_follow_http(daemon: BridgeDaemon) -> None:
    reply = _raw_http(daemon, f"GET {P}/play?VALUE HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = reply.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 204") and b"content-length" not in head
    for method in ("POST", "PUT", "DELETE"):
        request = f"{method} {P}/tempo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        reply = _raw_http(daemon, request.encode())
        assert reply.startswith(b"HTTP/1.1 405"), (method, reply[:60])
        assert b"allow: get, head" in reply.lower()


def test_listen_works_after_subscribe_and_unsubscribe(daemon: BridgeDaemon) -> None:
    client = OscClient(daemon.osc_port)
    try:
        with connect(f"ws://127.0.0.1:{daemon.oscquery_port}/") as ws:
            ws.send(encode_message(f"{P}/subscribe"))
            while _next_osc(ws).address != f"{P}/title":  # the state a subscriber gets
                pass
            ws.send(encode_message(f"{P}/unsubscribe"))
            ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": f"{P}/echo"}))
            _sync(ws)
            client.send(f"{P}/grain", "warm")  # not LISTENed: not sent any more
            client.send(f"{P}/echo", 0.375)
            message = _next_osc(ws)
            assert message.address == f"{P}/echo" and message.args == (pytest.approx(0.375),)
    finally:
        client.close()


def test_websocket_clients_get_a_close_frame_at_shutdown() -> None:
    with running_daemon() as daemon, connect(f"ws://127.0.0.1:{daemon.oscquery_port}/") as ws:
        daemon.stop()
        with pytest.raises(ConnectionClosedOK) as closed:
            while True:
                ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


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
