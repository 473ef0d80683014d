"""Zeroconf (mDNS/Bonjour) advertising: ``_oscjson._tcp`` (OSCQuery) and ``_osc._udp`` (OSC).

Optional: used only when the ``zeroconf`` package is importable (``pip install
latentscore[zeroconf]``). Registration probes the network for a couple of seconds, so it
runs on a background thread and never delays the daemon's start; failures are logged.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import threading
from typing import Any

log = logging.getLogger("bridge.discovery")


def zeroconf_available() -> bool:
    return importlib.util.find_spec("zeroconf") is not None


def _addresses(host: str) -> list[str]:
    if host not in ("0.0.0.0", "::", ""):
        return [host]
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)})
    except OSError:
        return ["127.0.0.1"]


class Advertiser:
    """Announces the bridge's services while it runs (see the module docstring)."""

    def __init__(self, name: str, host: str, osc_port: int, oscquery_port: int | None) -> None:
        self.name, self.host = name, host
        self.osc_port, self.oscquery_port = osc_port, oscquery_port
        self._zc: Any = None
        self._infos: list[Any] = []
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Begin advertising in the background; False if zeroconf is not installed."""
        if not zeroconf_available():
            return False
        self._thread = threading.Thread(target=self._register, name="bridge-zeroconf", daemon=True)
        self._thread.start()
        return True

    def _register(self) -> None:
        try:
            from zeroconf import ServiceInfo, Zeroconf

            addresses = _addresses(self.host)
            services = [("_osc._udp.local.", self.osc_port)]
            if self.oscquery_port:
                services.append(("_oscjson._tcp.local.", self.oscquery_port))
            self._zc = Zeroconf()
            server = f"{socket.gethostname().split('.')[0]}.local."
            for kind, port in services:
                info = ServiceInfo(
                    kind,
                    f"{self.name}.{kind}",
                    port=port,
                    parsed_addresses=addresses,
                    server=server,
                    properties={"txtvers": "1"},
                )
                self._zc.register_service(info, allow_name_change=True)
                self._infos.append(info)
            log.info("advertised %s via zeroconf", ", ".join(k for k, _ in services))
        except Exception as exc:  # advertising is a convenience; the daemon runs without it
            log.warning("zeroconf advertising failed: %s", exc)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join(5.0)
        if self._zc is not None:
            try:
                for info in self._infos:
                    self._zc.unregister_service(info)
                self._zc.close()
            except Exception as exc:
                log.debug("zeroconf shutdown: %s", exc)
