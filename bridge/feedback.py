"""FeedbackHub: everything the bridge sends out, to whom, and how often.

Targets are ``--send-to`` addresses, ``/latentscore/subscribe`` senders (UDP, or the TCP /
WebSocket connection itself) and OSCQuery WebSocket LISTENers. Two kinds of traffic:

* **Value feedback** (:meth:`FeedbackHub.value_changed`): an accepted change of an address
  goes to every target except the one that just wrote that address (its fader is already
  there, and echoing it back would fight the user's hand). Per target it is coalesced and
  rate-limited: at most one flush per ``1 / rate_hz`` seconds, and within a flush only the
  latest value of each address is sent. A flusher thread does the sending, so a fader
  moving at 1 kHz costs receivers only ``rate_hz`` messages per address.
* **Streams** (:meth:`FeedbackHub.broadcast`): notes, beats, bars, levels, titles and
  errors are sent at once, uncoalesced (every note matters).

Sending never raises: a dead target is logged (once) and, for connections, dropped.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bridge.osc_codec import OscValue, encode_message

log = logging.getLogger("bridge.feedback")

SenderKey = tuple[object, ...]


class Target(Protocol):
    """Somewhere OSC packets go. ``key`` identifies it (for de-duplication and exclusion)."""

    @property
    def key(self) -> SenderKey: ...

    owners: set[SenderKey]  # senders whose own writes this target should not hear back

    def wants(self, path: str) -> bool: ...

    def send(self, packet: bytes) -> bool:
        """Send one packet; False if the target is gone and should be dropped."""
        ...


@dataclass(eq=False)
class UdpTarget:
    """A UDP address; sent from the daemon's OSC socket, so replies come from its port."""

    sock: socket.socket
    addr: tuple[str, int]
    owners: set[SenderKey] = field(default_factory=set)

    @property
    def key(self) -> SenderKey:
        return ("udp", self.addr[0], self.addr[1])

    def wants(self, path: str) -> bool:
        return True

    def send(self, packet: bytes) -> bool:
        try:
            self.sock.sendto(packet, self.addr)
        except OSError as exc:  # e.g. ECONNREFUSED from an earlier ICMP: keep the target
            log.debug("send to %s:%d failed: %s", *self.addr, exc)
        return True


class FeedbackHub:
    """Fan-out of feedback and streams to targets (see the module docstring)."""

    def __init__(self, rate_hz: float = 30.0) -> None:
        self.interval = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self._targets: dict[SenderKey, Target] = {}
        self._pending: dict[SenderKey, dict[str, bytes]] = {}
        self._next_flush: dict[SenderKey, float] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(
            target=self._flush_loop, name="bridge-feedback", daemon=True
        )
        self.sent = 0  # packets sent (all kinds), for stats and tests

    # --- targets -------------------------------------------------------------------------
    def add(self, target: Target) -> Target:
        """Add a target (or merge owners into the one with the same key); returns it."""
        with self._cond:
            existing = self._targets.get(target.key)
            if existing is not None:
                existing.owners |= target.owners
                return existing
            self._targets[target.key] = target
            return target

    def remove(self, key: SenderKey) -> None:
        with self._cond:
            self._targets.pop(key, None)
            self._pending.pop(key, None)
            self._next_flush.pop(key, None)

    def remove_owned_by(self, sender: SenderKey) -> int:
        """Drop every subscription made by ``sender``; returns how many."""
        with self._cond:
            keys = [k for k, t in self._targets.items() if k == sender or sender in t.owners]
        for key in keys:
            self.remove(key)
        return len(keys)

    def targets(self) -> list[Target]:
        with self._cond:
            return list(self._targets.values())

    # --- traffic -------------------------------------------------------------------------
    def value_changed(
        self, path: str, args: Sequence[OscValue], exclude: SenderKey | None = None
    ) -> None:
        """Queue a value for every interested target but the writer (latest value wins)."""
        packet = encode_message(path, tuple(args))
        with self._cond:
            for key, target in self._targets.items():
                if exclude is not None and (key == exclude or exclude in target.owners):
                    continue
                if target.wants(path):
                    self._pending.setdefault(key, {})[path] = packet
            self._cond.notify_all()

    def broadcast(
        self, path: str, args: Sequence[OscValue], exclude: SenderKey | None = None
    ) -> None:
        """Send a stream message to every interested target now (no coalescing)."""
        packet = encode_message(path, tuple(args))
        for target in self.targets():
            if exclude is not None and (target.key == exclude or exclude in target.owners):
                continue
            if target.wants(path):
                self._send(target, packet)

    def send(self, target: Target, path: str, args: Sequence[OscValue]) -> None:
        self._send(target, encode_message(path, tuple(args)))

    def _send(self, target: Target, packet: bytes) -> None:
        try:
            alive = target.send(packet)
        except Exception:  # a target's bug must not stop the others
            log.exception("sending to %s failed", target.key)
            alive = False
        self.sent += 1
        if not alive:
            self.remove(target.key)

    # --- flusher thread ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(2.0)

    def _due(self, now: float) -> tuple[list[tuple[Target, list[bytes]]], float | None]:
        """Batches ready to send now, and how long until the next one (under the lock)."""
        ready: list[tuple[Target, list[bytes]]] = []
        wait: float | None = None
        for key in list(self._pending):
            batch = self._pending[key]
            target = self._targets.get(key)
            if target is None or not batch:
                self._pending.pop(key, None)
                continue
            at = self._next_flush.get(key, 0.0)
            if at <= now:  # (wants() again: a LISTENer may have IGNOREd since)
                ready.append((target, [p for path, p in batch.items() if target.wants(path)]))
                del self._pending[key]
                self._next_flush[key] = now + self.interval
            else:
                wait = at - now if wait is None else min(wait, at - now)
        return ready, wait

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    ready, wait = self._due(time.monotonic())
                    if ready:
                        break
                    self._cond.wait(wait)
            for target, packets in ready:
                for packet in packets:
                    self._send(target, packet)


SendFn = Callable[[bytes], bool]


@dataclass(eq=False)
class ConnectionTarget:
    """A TCP or WebSocket connection used as a target (it subscribed, or LISTENs).

    ``listens`` limits it to some addresses (OSCQuery LISTEN); None means every address.
    """

    key: SenderKey
    send_fn: SendFn
    listens: set[str] | None = None
    owners: set[SenderKey] = field(default_factory=set)

    def wants(self, path: str) -> bool:
        return self.listens is None or path in self.listens

    def send(self, packet: bytes) -> bool:
        return self.send_fn(packet)
