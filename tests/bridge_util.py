"""Helpers for the bridge tests: a daemon on ephemeral ports, OSC clients over real sockets.

Synchronisation is by waiting for an expected packet or state with a timeout (never a bare
sleep), so the tests are as fast as the daemon and fail with a clear message when it is not.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bridge.daemon import BridgeDaemon, BridgeOptions
from bridge.framing import StreamDeframer, frame
from bridge.osc_codec import OscMessage, OscValue, decode_packet, encode_message
from latentscore.config import MusicConfig
from latentscore.models.result import GenerateResult, Palette, PaletteColor

HOST = "127.0.0.1"


class FakeVibeModel:
    """A deterministic stand-in for a vibe model: the text picks the config."""

    name = "fake"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[str] = []

    def generate(self, text: str) -> GenerateResult:
        self.calls.append(text)
        if self.delay:
            time.sleep(self.delay)  # a model thinking (runs on the daemon's vibe thread)
        if "fail" in text:
            raise RuntimeError("model exploded")
        dark = "dark" in text
        config = MusicConfig(
            brightness="very_dark" if dark else "very_bright",
            mode="minor" if dark else "major",
            pad="dark_sustained" if dark else "bright_open",
        )
        colors = tuple(
            PaletteColor(hex="#102030", weight=w) for w in ("xs", "sm", "md", "lg", "xl")
        )
        title = "Night Cellar" if dark else "Morning Glass"
        return GenerateResult(
            title=title, config=config, palettes=(Palette(colors=colors),) * 3, model="fake"
        )


def make_options(**overrides: Any) -> BridgeOptions:
    values: dict[str, Any] = dict(
        host=HOST,
        osc_port=0,
        oscquery_port=0,
        no_audio=True,
        zeroconf=False,
        seed=7,
        transition=0.5,
        model=FakeVibeModel(),
    )
    values.update(overrides)
    return BridgeOptions(**values)


@contextmanager
def running_daemon(**overrides: Any) -> Iterator[BridgeDaemon]:
    daemon = BridgeDaemon(make_options(**overrides)).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def wait_for(condition: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll ``condition`` until truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


class OscClient:
    """A UDP OSC client that also collects everything sent back to it (on a thread)."""

    def __init__(self, port: int, bind: str = HOST) -> None:
        """A client of the daemon at HOST:``port``, sending from ``bind`` (e.g. 127.0.0.2:
        the daemon then sees another host, whose changes it does echo to this one)."""
        self.target = (HOST, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[float, OscMessage]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._recv, daemon=True)
        self._thread.start()

    def _recv(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            message = decode_packet(data)
            assert isinstance(message, OscMessage)
            with self._lock:
                self.received.append((time.monotonic(), message))

    def send(self, address: str, *args: OscValue, tags: str = "") -> None:
        self.sock.sendto(encode_message(address, args, tags), self.target)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    def messages(self, address: str | None = None) -> list[OscMessage]:
        with self._lock:
            return [m for _, m in self.received if address is None or m.address == address]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def wait(
        self,
        address: str,
        predicate: Callable[[OscMessage], bool] = lambda m: True,
        timeout: float = 5.0,
    ) -> OscMessage:
        def found() -> OscMessage | None:
            matching = [m for m in self.messages(address) if predicate(m)]
            return matching[-1] if matching else None

        return wait_for(found, timeout, f"{address} at client :{self.port}")

    def state(self, timeout: float = 5.0) -> dict[str, tuple[OscValue, ...]]:
        """Ask for /latentscore/state and return {address: args} once the reply is in."""
        self.clear()
        self.send("/latentscore/state")
        self.wait("/latentscore/title", timeout=timeout)  # the last value of the reply
        return {m.address: m.args for m in self.messages()}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.sock.close()


class TcpOscClient:
    """An OSC-over-TCP client using one framing ("size": OSC 1.0, "slip": OSC 1.1)."""

    def __init__(self, port: int, framing: str) -> None:
        self.framing = framing
        self.sock = socket.create_connection((HOST, port), timeout=5.0)
        self.deframer = StreamDeframer(1 << 20)
        self.pending: list[OscMessage] = []

    def send(self, address: str, *args: OscValue) -> None:
        self.sock.sendall(frame(encode_message(address, args), self.framing))  # type: ignore[arg-type]

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, address: str, timeout: float = 5.0) -> OscMessage:
        deadline = time.monotonic() + timeout
        while True:
            for i, message in enumerate(self.pending):
                if message.address == address:
                    del self.pending[: i + 1]
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {address} over TCP within {timeout} s")
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("connection closed by the daemon")
            for packet in self.deframer.feed(data):
                decoded = decode_packet(packet)
                assert isinstance(decoded, OscMessage)
                self.pending.append(decoded)

    def close(self) -> None:
        self.sock.close()


def size_prefixed(messages: Sequence[bytes]) -> bytes:
    return b"".join(struct.pack(">i", len(m)) + m for m in messages)
