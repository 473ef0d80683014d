"""Test helpers for the LLM-backed models: answers, a local OpenAI-compatible server, no network.

``fake_openai`` serves ``/v1/chat/completions`` on 127.0.0.1, so LiteLLM's real HTTP code
path (request building, auth header, response parsing, error mapping) runs without leaving
the machine. ``no_network`` makes any connection to a non-loopback address fail, so a test
that would silently reach a provider or the hub fails loudly instead.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from latentscore.config import FIELDS

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def answer_config() -> dict[str, Any]:
    """A complete config far from the defaults: the last label of every field."""
    return {name: spec.labels[-1] for name, spec in FIELDS.items()}


def answer_palettes() -> list[dict[str, Any]]:
    weights = ["xl", "lg", "md", "sm", "xs"]
    return [
        {"colors": [{"hex": f"#{p}{i}{p}{i}{p}{i}", "weight": w} for i, w in enumerate(weights)]}
        for p in (1, 2, 3)
    ]


def good_answer(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Harbour Lights At Dusk",
        "thinking": "Warm light on slow water: wide, bright, busy at the edges.",
        "config": answer_config(),
        "palettes": answer_palettes(),
    }
    data.update(overrides)
    return data


def completion_body(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


@dataclass
class FakeOpenAI:
    """Replies in order (the last repeats); records every request it receives."""

    base_url: str
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reply_with(self, *contents: str) -> None:
        self.replies = [(200, completion_body(c)) for c in contents]

    def fail_with(self, status: int, message: str) -> None:
        self.replies = [(status, {"error": {"message": message, "type": "invalid_request_error"}})]


@pytest.fixture(name="fake_openai")
def fake_openai_fixture() -> Iterator[FakeOpenAI]:
    state = FakeOpenAI(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
            index = min(len(state.requests), len(state.replies)) - 1
            status, payload = state.replies[index]
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(name="no_network")
def no_network_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection or DNS lookup that would leave this machine."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def _local(address: Any) -> bool:
        return not isinstance(address, tuple) or str(address[0]) in LOOPBACK

    def connect(self: socket.socket, address: Any) -> None:
        if not _local(address):
            raise OSError(f"network blocked in tests: {address!r}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _local(address):
            raise OSError(f"network blocked in tests: {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and str(host) not in LOOPBACK:
            raise socket.gaierror(f"network blocked in tests: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
