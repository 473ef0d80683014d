"""OSC transports: a UDP socket and a TCP listener on the same port, each on its own threads.

The servers are thin (python-osc's lesson): they receive bytes, check the sender against
the allow list, and hand whole packets to a callback with a
:class:`~bridge.controller.Sender` describing how to reply. All sending to UDP addresses
goes through the daemon's one UDP socket, so controllers see replies and feedback coming
from the port they send to.

* UDP: one datagram is one packet. Two threads, so that one flooding host cannot starve
  the others: the *receiver* only drains the socket (a large kernel buffer), checks the
  allow list and a per-host packet budget (``Limits.rate`` per second: over-budget packets
  are dropped before any decoding, whatever source port they come from) and appends to
  that host's bounded queue; the *dispatcher* takes one packet per host in turn
  (round robin) and hands it to the controller. A flood therefore costs its own queue, not
  the other hosts' changes.
* TCP: OSC 1.0 size-prefixed or OSC 1.1 SLIP framing, detected per connection
  (:mod:`bridge.framing`); replies go back down the connection in the same framing. A
  connection that sends an oversized or corrupt frame is closed (a stream cannot resync),
  with an error and a log line. At most ``Limits.tcp_per_host`` connections per host and
  64 overall; a connection silent for ``Limits.tcp_idle`` seconds is closed, and when all
  64 are taken the longest-idle one (idle over 10 s) makes room for a new one, so idle
  connections can never lock everyone out.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

from bridge.controller import Limits, Sender
from bridge.feedback import ConnectionTarget, Target, UdpTarget
from bridge.framing import FramingError, StreamDeframer, frame
from bridge.osc_codec import encode_message
from bridge.security import AllowList, RateLimiter

log = logging.getLogger("bridge.osc")

PacketHandler = Callable[[bytes, Sender], None]
POLL_SECONDS = 0.2  # how often blocked socket calls look up to see if we are shutting down
MAX_TCP_CONNECTIONS = 64
EVICT_IDLE_SECONDS = 10.0  # a full server closes a connection idle this long for a new one
MAX_DATAGRAM = 65536
UDP_QUEUE = 256  # packets waiting per host (the receiver drops beyond; memory stays bounded)
UDP_RCVBUF = 16 << 20  # bytes of kernel buffer asked for (capped by rmem_max unless forced)
# Linux: queue ICMP errors (port unreachable) with the address they are about, so a dead
# subscriber can be named and dropped (socket.IP_RECVERR is missing from some Pythons).
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
DROP_NOTICE_HZ = 20.0  # dropped-packet notices (error reply + log line) per host per second


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


def _deep_receive_buffer(sock: socket.socket) -> None:
    """Ask for UDP_RCVBUF of kernel buffer: a flood then overflows it only if the receiver
    thread stalls for a long time (0.2 s at 20,000 packets/s), rather than for a few ms.

    SO_RCVBUFFORCE goes past ``net.core.rmem_max`` where the daemon may (Linux,
    CAP_NET_ADMIN); otherwise SO_RCVBUF gets what the system allows.
    """
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    if force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, UDP_RCVBUF)
            return
        except OSError:
            pass
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RCVBUF)


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

    def __init__(
        self, sock: socket.socket, handler: PacketHandler, allow: AllowList, limits: Limits
    ) -> None:
        self.sock = sock
        self.sock.settimeout(POLL_SECONDS)
        _deep_receive_buffer(self.sock)
        self._errqueue = False
        if sys.platform.startswith("linux") and self.sock.family == socket.AF_INET:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
                self._errqueue = True
        self._handler, self._allow = handler, allow
        self._budget = RateLimiter(limits.rate)
        self._rate = limits.rate
        # told about each packet dropped for a host's budget (the controller answers, with
        # its own per-host limit on error replies and log lines)
        self.on_drop: Callable[[Sender, str], None] | None = None
        # told about each address the kernel reported unreachable (ICMP port unreachable)
        self.on_unreachable: Callable[[tuple[str, int]], None] | None = None
        self._refused = _Refusals()
        self._stop = threading.Event()
        self._queues: dict[str, deque[tuple[bytes, int]]] = {}
        self._cond = threading.Condition()
        self._next_notice: dict[str, float] = {}  # host -> when a drop may be reported again
        self.received = 0  # datagrams read from the socket
        self.dropped = 0  # packets over a host's budget or queue
        self._receiver = threading.Thread(target=self._receive, name="bridge-osc-udp", daemon=True)
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="bridge-osc-udp-dispatch", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def target(self, addr: tuple[str, int]) -> Target:
        """A feedback target at ``addr``, sent from this socket."""
        return UdpTarget(self.sock, addr)

    def start(self) -> None:
        self._receiver.start()
        self._dispatcher.start()

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._receiver.join(2.0)
        self._dispatcher.join(2.0)
        self.sock.close()

    def _sender(self, host: str, port: int) -> Sender:
        def reply(packet: bytes) -> bool:
            with contextlib.suppress(OSError):
                self.sock.sendto(packet, (host, port))
            return True

        return Sender(("udp", host, port), host, port, "udp", reply)

    def _receive(self) -> None:
        """Drain the socket: allow list, per-host budget, per-host queue. Nothing slower.

        Datagrams are read into one reused buffer and copied out at their own size: a fresh
        64 KiB buffer per ``recvfrom`` is a mmap and munmap each time under the daemon's
        malloc tuning (16 KB mmap threshold), which cut the rate this thread keeps up with
        from over 20,000 to under 5,000 packets a second.
        """
        buffer = bytearray(MAX_DATAGRAM)
        view = memoryview(buffer)
        while not self._stop.is_set():
            try:
                size, addr = self.sock.recvfrom_into(buffer)
                data = bytes(view[:size])
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                log.debug("udp receive error: %s", exc)  # e.g. ICMP port unreachable echoes
                self._read_errors()
                continue
            self.received += 1
            host = str(addr[0])
            if not self._allow.allows(host):
                self._refused.note(host, "UDP")
                continue
            if not self._budget.allow(host):
                self._drop(host, int(addr[1]), f"more than {self._rate:g} packets/s")
                continue
            with self._cond:
                queue = self._queues.get(host)
                if queue is None:
                    queue = self._queues[host] = deque()
                full = len(queue) >= UDP_QUEUE
                if not full:
                    queue.append((data, int(addr[1])))
                    self._cond.notify()
            if full:
                self._drop(host, int(addr[1]), f"{UDP_QUEUE} packets already waiting")

    def _read_errors(self) -> None:
        """Drain the socket's error queue: which destinations were unreachable (Linux)."""
        if not self._errqueue:
            return
        for _ in range(64):
            try:
                _, _, _, addr = self.sock.recvmsg(1, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
            except OSError:
                return
            if addr and self.on_unreachable is not None:
                self.on_unreachable((str(addr[0]), int(addr[1])))

    def _drop(self, host: str, port: int, why: str) -> None:
        """Count a dropped packet; tell the controller at most DROP_NOTICE_HZ times per host.

        Kept cheap on purpose (no lock, no objects per packet): under a flood this runs
        tens of thousands of times a second on the receiver thread.
        """
        self.dropped += 1
        now = time.monotonic()
        if self.on_drop is None or now < self._next_notice.get(host, 0.0):
            return
        if len(self._next_notice) > 4096:  # bounded, whatever the number of hosts
            self._next_notice.clear()
        self._next_notice[host] = now + 1.0 / DROP_NOTICE_HZ
        self.on_drop(self._sender(host, port), f"rate limit: {why} from {host}; dropped")

    def _dispatch(self) -> None:
        """One packet per host in turn, until every queue is empty; then wait."""
        while True:
            with self._cond:
                while not self._queues and not self._stop.is_set():
                    self._cond.wait(POLL_SECONDS)
                if self._stop.is_set():
                    return
                batch: list[tuple[str, bytes, int]] = []
                for host in list(self._queues):
                    queue = self._queues[host]
                    data, port = queue.popleft()
                    batch.append((host, data, port))
                    if not queue:
                        del self._queues[host]
            for host, data, port in batch:
                self._handler(data, self._sender(host, port))


class _TcpConnection:
    """One TCP client: reads frames, replies in the framing the client uses."""

    def __init__(self, sock: socket.socket, addr: tuple[str, int], cid: int, max_packet: int):
        self.sock, self.addr, self.cid = sock, addr, cid
        self.deframer = StreamDeframer(max_packet)
        self.key = ("tcp", addr[0], addr[1], cid)
        self._send_lock = threading.Lock()
        self.alive = True
        self.last_input = time.monotonic()

    def idle(self, now: float) -> float:
        return now - self.last_input

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
        return ConnectionTarget(self.key, self.send, bundles=True)


class OscTcpServer:
    """Accepts TCP connections on a listening socket; one reader thread per connection."""

    def __init__(
        self,
        sock: socket.socket,
        handler: PacketHandler,
        allow: AllowList,
        limits: Limits,
        on_disconnect: Callable[[tuple[object, ...]], None] | None = None,
    ) -> None:
        self.sock = sock
        self.sock.settimeout(POLL_SECONDS)
        self._handler, self._allow, self._limits = handler, allow, limits
        self._max_packet = limits.max_packet
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
                refusal = self._make_room(host)
                if refusal is not None:
                    self._refuse(sock, host, refusal)
                    continue
                conn = _TcpConnection(sock, (host, int(addr[1])), next(self._ids), self._max_packet)
                self._conns[conn.cid] = conn
                thread = threading.Thread(
                    target=self._serve, args=(conn,), name=f"bridge-tcp-{conn.cid}", daemon=True
                )
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _make_room(self, host: str) -> str | None:
        """Lock held: None if a connection from ``host`` may open now, else why not."""
        mine = sum(1 for c in self._conns.values() if c.addr[0] == host)
        if mine >= self._limits.tcp_per_host:
            return f"{mine} connections from {host} already (limit {self._limits.tcp_per_host})"
        if len(self._conns) < MAX_TCP_CONNECTIONS:
            return None
        now = time.monotonic()
        idlest = max(self._conns.values(), key=lambda c: c.idle(now))
        if idlest.idle(now) < EVICT_IDLE_SECONDS:
            return f"{MAX_TCP_CONNECTIONS} connections open and all active"
        log.info("closing the idlest TCP connection (%s) to make room", idlest.addr[0])
        self._close_conn(idlest)
        return None

    @staticmethod
    def _close_conn(conn: _TcpConnection) -> None:
        conn.alive = False
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)

    def _refuse(self, sock: socket.socket, host: str, why: str) -> None:
        """Tell the client why (in size framing: most stream clients use it), then close."""
        log.warning("refused TCP connection from %s: %s", host, why)
        with contextlib.suppress(OSError):
            sock.settimeout(0.05)
            sock.sendall(frame(encode_message("/latentscore/error", (f"refused: {why}",)), "size"))
        sock.close()

    def _serve(self, conn: _TcpConnection) -> None:
        conn.sock.settimeout(POLL_SECONDS)
        sender = Sender(conn.key, conn.addr[0], conn.addr[1], "tcp", conn.send, conn.as_target)
        idle_limit = self._limits.tcp_idle
        buffer = bytearray(MAX_DATAGRAM)  # reused (see OscUdpServer._receive)
        view = memoryview(buffer)
        try:
            while not self._stop.is_set() and conn.alive:
                try:
                    size = conn.sock.recv_into(buffer)
                    data = bytes(view[:size])
                except TimeoutError:
                    if conn.idle(time.monotonic()) > idle_limit:
                        log.info("closing TCP connection from %s: idle", conn.addr[0])
                        message = f"closing the connection: no input for {idle_limit:g} s"
                        conn.send(encode_message("/latentscore/error", (message,)))
                        break
                    continue
                if not data:
                    break
                conn.last_input = time.monotonic()
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
