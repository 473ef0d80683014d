"""Who may talk to the bridge, and how much: an allow list and per-sender rate limits.

* :class:`AllowList`: sender IP addresses or networks (``192.168.1.20``, ``10.0.0.0/24``).
  Loopback is always allowed. Empty means "anyone who can reach the port", which is the
  right default only for the default local bind (127.0.0.1); the daemon warns when bound
  beyond localhost without one.
* :class:`RateLimiter`: a token bucket per sender (messages per second with a one-second
  burst), so a runaway patch cannot starve the audio thread or other controllers.
  Buckets of silent senders are forgotten, so the table cannot grow without bound.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable, Sequence

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AllowList:
    """Sender addresses allowed in (see the module docstring)."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks: list[IpNetwork] = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"--allow: {entry!r} is not an IP address or network") from None

    @property
    def open(self) -> bool:
        return not self.networks

    def allows(self, host: str) -> bool:
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if ip.is_loopback:
            return True
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)


def is_local_bind(host: str) -> bool:
    """Is ``host`` a loopback address (or name) that only this machine can reach?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """Token buckets keyed by sender: ``rate`` messages per second, ``rate`` burst."""

    def __init__(self, rate: float, forget_after: float = 60.0) -> None:
        self.rate = float(rate)
        self.forget_after = forget_after
        self._buckets: dict[object, tuple[float, float]] = {}  # key -> (tokens, last time)
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def allow(self, key: object, cost: int = 1) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket; False if it has run dry."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.rate, now))
            tokens = min(self.rate, tokens + (now - last) * self.rate)
            ok = tokens >= cost
            self._buckets[key] = (tokens - cost if ok else tokens, now)
            if now - self._last_sweep > self.forget_after:
                self._sweep(now)
        return ok

    def _sweep(self, now: float) -> None:
        stale = [k for k, (_, t) in self._buckets.items() if now - t > self.forget_after]
        for key in stale:
            del self._buckets[key]
        self._last_sweep = now


def parse_host_port(text: str, what: str = "--send-to") -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) -> (host, port); raises ValueError."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{what}: expected host:port (e.g. 127.0.0.1:9001), got {text!r}")
    return host, int(port)


def describe(networks: Sequence[IpNetwork]) -> str:
    return ", ".join(str(n) for n in networks) or "anyone"
