"""FeedbackHub: everything the bridge sends out, to whom, and how often.

Targets are ``--send-to`` addresses, ``/latentscore/subscribe`` senders (UDP, or the TCP /
WebSocket connection itself) and OSCQuery WebSocket LISTENers. Two kinds of traffic:

* **Value feedback** (:meth:`FeedbackHub.value_changed`): an accepted change of an address
  goes to every target except the writer's own (its fader is already there, and echoing it
  back would fight the user's hand). Which targets are the writer's own: the connection it
  wrote on, subscriptions it made, and (``same_host``, on by default) every UDP target on
  the writer's host. The last rule is what the usual set-up needs: TouchDesigner or TouchOSC
  send from an ephemeral port and receive on ``--send-to`` host:9001, so the sender's
  address never equals its feedback address. Per target it is coalesced and
  rate-limited: at most one flush per ``1 / rate_hz`` seconds, and within a flush only the
  latest value of each address is sent. A flusher thread does the sending, so a fader
  moving at 1 kHz costs receivers only ``rate_hz`` messages per address.
* **Streams** (:meth:`FeedbackHub.broadcast`): notes, beats, bars, levels, titles and
  errors are sent at once, uncoalesced (every note matters).

Sending never raises: a dead target is logged (once) and, for connections, dropped.

UDP subscriptions (:meth:`FeedbackHub.subscribe`) expire ``ttl`` seconds after the last
``/subscribe`` from them (re-subscribing renews), and a host holds at most
``per_host`` of them (a new one replaces that host's oldest: ``oscsend`` subscribes from a
new port every call), at most ``max_subscriptions`` overall. ``--send-to`` targets and
connections never expire (connections go when they close). A UDP subscriber whose port
the network reports unreachable (ICMP, on Linux) is dropped at once; elsewhere it lapses.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bridge.osc_codec import OscValue, encode_bundle, encode_message, unix_to_timetag

log = logging.getLogger("bridge.feedback")

SenderKey = tuple[object, ...]


@dataclass(frozen=True)
class Origin:
    """Who wrote a value: its sender key, and its host when it came over UDP."""

    key: SenderKey
    host: str | None = None


class Target(Protocol):
    """Somewhere OSC packets go. ``key`` identifies it (for de-duplication and exclusion)."""

    @property
    def key(self) -> SenderKey: ...

    owners: set[SenderKey]  # senders whose own writes this target should not hear back
    bundles: bool  # takes time-tagged stream bundles (OSC over UDP/TCP; not WebSocket, MIDI)

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
    bundles: bool = True

    @property
    def key(self) -> SenderKey:
        return ("udp", self.addr[0], self.addr[1])

    @property
    def host(self) -> str:
        return self.addr[0]

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

    def __init__(
        self,
        rate_hz: float = 30.0,
        *,
        same_host: bool = True,
        per_host: int = 16,
        max_subscriptions: int = 256,
    ) -> None:
        self.interval = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self.same_host = same_host
        self.per_host, self.max_subscriptions = per_host, max_subscriptions
        self._targets: dict[SenderKey, Target] = {}
        self._expires: dict[SenderKey, float] = {}  # UDP subscriptions: monotonic deadline
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

    def subscribe(self, target: Target, ttl: float) -> Target | None:
        """Add or renew a subscription; None if the hub is full (see the module docstring).

        A UDP target lasts ``ttl`` seconds from now; a connection lasts until it closes.
        """
        with self._cond:
            existing = self._targets.get(target.key)
            if isinstance(target, UdpTarget) and target.key not in self._expires:
                if existing is not None:  # a --send-to target: permanent, just merge
                    existing.owners |= target.owners
                    return existing
                mine = sorted(
                    (deadline, key)
                    for key, deadline in self._expires.items()
                    if key[1] == target.host
                )
                if len(mine) >= self.per_host:
                    self._drop(mine[0][1])  # the host's oldest subscription makes room
                elif len(self._expires) >= self.max_subscriptions:
                    return None
            if isinstance(target, UdpTarget):
                self._expires[target.key] = time.monotonic() + ttl
            if existing is not None:
                existing.owners |= target.owners
                if isinstance(existing, ConnectionTarget):
                    existing.subscribed = True
                return existing
            if isinstance(target, ConnectionTarget):
                target.subscribed = True
            self._targets[target.key] = target
            self._cond.notify_all()  # the flusher now has a deadline to watch
            return target

    def remove(self, key: SenderKey) -> None:
        with self._cond:
            self._drop(key)

    def _drop(self, key: SenderKey) -> None:
        self._targets.pop(key, None)
        self._pending.pop(key, None)
        self._next_flush.pop(key, None)
        self._expires.pop(key, None)

    def remove_owned_by(self, sender: SenderKey) -> int:
        """End every subscription made by ``sender``; returns how many.

        A connection that also LISTENs (an OSCQuery WebSocket) stays a target for what it
        LISTENs to: only its "everything" subscription ends.
        """
        count = 0
        with self._cond:
            for key, target in list(self._targets.items()):
                if key != sender and sender not in target.owners:
                    continue
                if key in self._expires:  # a UDP subscription
                    self._drop(key)
                elif isinstance(target, ConnectionTarget) and target.keep_listening:
                    target.subscribed = False
                    target.owners.discard(sender)
                elif isinstance(target, ConnectionTarget):
                    self._drop(key)
                else:  # a --send-to or MIDI target is the daemon's, not the sender's
                    target.owners.discard(sender)
                    continue
                count += 1
        return count

    def remove_udp(self, host: str, port: int) -> int:
        """End the UDP subscription at host:port (``/unsubscribe <port>``); returns 0 or 1."""
        with self._cond:
            key: SenderKey = ("udp", host, port)
            if key not in self._expires:
                return 0
            self._drop(key)
            return 1

    def unreachable(self, addr: tuple[str, int]) -> None:
        """The network reported ``addr`` unreachable: drop a UDP subscription there.

        (``--send-to`` targets stay: a tool started after the daemon is normal.)
        """
        key: SenderKey = ("udp", addr[0], addr[1])
        with self._cond:
            if key in self._expires:
                log.info("dropping subscriber %s:%d: unreachable", *addr)
                self._drop(key)

    def subscriptions(self) -> int:
        """How many UDP subscriptions are alive."""
        with self._cond:
            return len(self._expires)

    def _expire(self, now: float) -> float | None:
        """Drop lapsed subscriptions (lock held); seconds until the next one lapses."""
        for key in [k for k, deadline in self._expires.items() if deadline <= now]:
            log.info("subscription %s expired (not renewed)", key)
            self._drop(key)
        return min(self._expires.values()) - now if self._expires else None

    def targets(self) -> list[Target]:
        with self._cond:
            return list(self._targets.values())

    # --- traffic -------------------------------------------------------------------------
    def is_own(self, target: Target, origin: Origin) -> bool:
        """Is ``target`` where the writer ``origin`` itself listens? (the no-echo rule)"""
        if target.key == origin.key or origin.key in target.owners:
            return True
        return self.same_host and isinstance(target, UdpTarget) and target.host == origin.host

    def value_changed(
        self, path: str, args: Sequence[OscValue], origin: Origin | None = None
    ) -> None:
        """Queue a value for every interested target but the writer's (latest value wins)."""
        packet = encode_message(path, tuple(args))
        with self._cond:
            for key, target in self._targets.items():
                if origin is not None and self.is_own(target, origin):
                    continue
                if target.wants(path):
                    self._pending.setdefault(key, {})[path] = packet
            self._cond.notify_all()

    def broadcast(
        self,
        path: str,
        args: Sequence[OscValue],
        exclude: SenderKey | None = None,
        *,
        heard_at: float | None = None,
        bundled: bool = False,
    ) -> None:
        """Send a stream message to every interested target now (no coalescing).

        ``bundled`` (streams with ``--timetags``): targets that take bundles get it only as a
        bundle time-tagged ``heard_at`` (a Unix time), sent ahead; pass ``heard_at=None``
        for the copy sent when heard, which then goes only to the other targets.
        """
        packet = encode_message(path, tuple(args))
        if heard_at is not None:
            packet = encode_bundle(unix_to_timetag(heard_at), [packet])
        for target in self.targets():
            if exclude is not None and (target.key == exclude or exclude in target.owners):
                continue
            if bundled and target.bundles != (heard_at is not None):
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
                    now = time.monotonic()
                    lapse = self._expire(now)
                    ready, wait = self._due(now)
                    if ready:
                        break
                    if lapse is not None:
                        wait = lapse if wait is None else min(wait, lapse)
                    self._cond.wait(wait)
            for target, packets in ready:
                for packet in packets:
                    self._send(target, packet)


SendFn = Callable[[bytes], bool]


@dataclass(eq=False)
class ConnectionTarget:
    """A TCP or WebSocket connection used as a target (it subscribed, or LISTENs).

    ``subscribed``: it asked for everything (``/subscribe`` over the connection); otherwise
    it gets only the addresses in ``listens`` (OSCQuery LISTEN). ``keep_listening``: an
    ``/unsubscribe`` ends the "everything" subscription but keeps the LISTENs (WebSocket).
    """

    key: SenderKey
    send_fn: SendFn
    listens: set[str] = field(default_factory=set)
    owners: set[SenderKey] = field(default_factory=set)
    subscribed: bool = False
    keep_listening: bool = False
    bundles: bool = False

    def wants(self, path: str) -> bool:
        return self.subscribed or path in self.listens

    def send(self, packet: bytes) -> bool:
        return self.send_fn(packet)
