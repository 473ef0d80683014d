"""OSC transports: a UDP socket and a TCP listener on the same port, each on its own threads.

The servers are thin (python-osc's lesson): they receive bytes, check the sender against
the allow list, and hand whole packets to a callback with a
:class:`~bridge.controller.Sender` describing how to reply. All sending to UDP addresses
goes through the daemon's one UDP socket, so controllers see replies and feedback coming
from the port they send to.

* UDP: one datagram is one packet.
* TCP: OSC 1.0 size-prefixed or OSC 1.1 SLIP framing, detected per connection
  (:mod:`bridge.framing`); replies go back down the connection in the same framing. A
  connection that sends an oversized or corrupt frame is closed (a stream cannot resync).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
from collections.abc import Callable

from bridge.controller import Sender
from bridge.feedback import ConnectionTarget, Target, UdpTarget
from bridge.framing import FramingError, StreamDeframer, frame
from bridge.osc_codec import encode_message
from bridge.security import AllowList

log = logging.getLogger("bridge.osc")

PacketHandler = Callable[[bytes, Sender], None]
POLL_SECONDS = 0.2  # how often blocked socket calls look up to see if we are shutting down
MAX_TCP_CONNECTIONS = 64


def bind_sockets(host: str, port: int, attempts: int = 20) -> tuple[socket.socket, socket.socket]:
    """A UDP socket and a listening TCP socket bound to the same port (0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last: OSError | None = None
    for _ in range(attempts if port == 0 else 1):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        try:
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            udp.bind((host, port))
            tcp.bind((host, udp.getsockname()[1]))
            tcp.listen(16)
            return udp, tcp
        except OSError as exc:
            last = exc
            udp.close()
            tcp.close()
    assert last is not None
    raise last


class _Refusals:
    """Log a refused sender once per host rather than once per packet."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def note(self, host: str, transport: str) -> None:
        if host not in self._seen and len(self._seen) < 1024:
            self._seen.add(host)
            log.warning("refused %s input from %s (not in --allow)", transport, host)


class OscUdpServer:
    """Receives OSC datagrams on a bound UDP socket (see the module docstring)."""

    def __init__(self, sock: socket.socket, handler: PacketHandler, allow: AllowList) -> None:
        self.sock = sock
        self.sock.settimeout(POLL_SECONDS)
        self._handler, self._allow = handler, allow
        self._refused = _Refusals()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bridge-osc-udp", daemon=True)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def target(self, addr: tuple[str, int]) -> Target:
        """A feedback target at ``addr``, sent from this socket."""
        return UdpTarget(self.sock, addr)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.sock.close()

    def _reply_fn(self, addr: tuple[str, int]) -> Callable[[bytes], bool]:
        def reply(packet: bytes) -> bool:
            with contextlib.suppress(OSError):
                self.sock.sendto(packet, addr)
            return True

        return reply

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                log.debug("udp receive error: %s", exc)  # e.g. ICMP port unreachable echoes
                continue
            host, port = str(addr[0]), int(addr[1])
            if not self._allow.allows(host):
                self._refused.note(host, "UDP")
                continue
            sender = Sender(("udp", host, port), host, port, "udp", self._reply_fn((host, port)))
            self._handler(data, sender)


class _TcpConnection:
    """One TCP client: reads frames, replies in the framing the client uses."""

    def __init__(self, sock: socket.socket, addr: tuple[str, int], cid: int, max_packet: int):
        self.sock, self.addr, self.cid = sock, addr, cid
        self.deframer = StreamDeframer(max_packet)
        self.key = ("tcp", addr[0], addr[1], cid)
        self._send_lock = threading.Lock()
        self.alive = True

    def send(self, packet: bytes) -> bool:
        if not self.alive:
            return False
        data = frame(packet, self.deframer.framing or "size")
        try:
            with self._send_lock:
                self.sock.sendall(data)
        except OSError:
            self.alive = False
        return self.alive

    def as_target(self) -> Target:
        return ConnectionTarget(self.key, self.send)


class OscTcpServer:
    """Accepts TCP connections on a listening socket; one reader thread per connection."""

    def __init__(
        self,
        sock: socket.socket,
        handler: PacketHandler,
        allow: AllowList,
        max_packet: int,
        on_disconnect: Callable[[tuple[object, ...]], None] | None = None,
    ) -> None:
        self.sock = sock
        self.sock.settimeout(POLL_SECONDS)
        self._handler, self._allow, self._max_packet = handler, allow, max_packet
        self._on_disconnect = on_disconnect
        self._refused = _Refusals()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        self._conns: dict[int, _TcpConnection] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="bridge-osc-tcp", daemon=True)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.sock.close()
        with self._lock:
            conns = list(self._conns.values())
            threads = list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(2.0)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, addr = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            host = str(addr[0])
            if not self._allow.allows(host):
                self._refused.note(host, "TCP")
                sock.close()
                continue
            with self._lock:
                if len(self._conns) >= MAX_TCP_CONNECTIONS:
                    log.warning("refused TCP connection from %s: too many connections", host)
                    sock.close()
                    continue
                conn = _TcpConnection(sock, (host, int(addr[1])), next(self._ids), self._max_packet)
                self._conns[conn.cid] = conn
                thread = threading.Thread(
                    target=self._serve, args=(conn,), name=f"bridge-tcp-{conn.cid}", daemon=True
                )
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, conn: _TcpConnection) -> None:
        conn.sock.settimeout(POLL_SECONDS)
        sender = Sender(conn.key, conn.addr[0], conn.addr[1], "tcp", conn.send, conn.as_target)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.sock.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                for packet in conn.deframer.feed(data):
                    self._handler(packet, sender)
        except FramingError as exc:
            log.warning("closing TCP connection from %s: %s", conn.addr[0], exc)
            error = f"TCP framing error: {exc}; closing the connection"
            conn.send(encode_message("/latentscore/error", (error,)))
        except OSError as exc:
            log.debug("TCP connection from %s ended: %s", conn.addr[0], exc)
        finally:
            conn.alive = False
            with contextlib.suppress(OSError):
                conn.sock.close()
            with self._lock:
                self._conns.pop(conn.cid, None)
            if self._on_disconnect is not None:
                self._on_disconnect(conn.key)
