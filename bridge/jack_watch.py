"""JackConnectWatch: tell the MIDI output when another program connects to our JACK port.

A DAW usually connects to "LatentScore Out" after the daemon has started, so it missed the
program changes and the clock's Start sent when the port opened. JACK announces every new
connection to every client that asks; this module keeps one port-less JACK client that
asks, and calls back when a connection to one of our ports appears, so the note stream can
send the programs again and place the newcomer on our running grid.

The callback runs on JACK's notification thread: it must return at once (the note stream
only raises a flag that its render-thread side acts on).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.jack_link import open_jack_client

log = logging.getLogger("bridge.midi")

WATCH_CLIENT = "LatentScore watch"


class JackConnectWatch:
    """Calls ``on_connect(other_port_name)`` for each new connection to a ``client:`` port."""

    def __init__(self, client_name: str, on_connect: Callable[[str], None]) -> None:
        self.prefix = f"{client_name}:"
        self.on_connect = on_connect
        self.connections = 0
        self._client: Any = None

    def start(self) -> bool:
        """Join the JACK server (the one JACK_DEFAULT_SERVER names); False when there is none."""
        client = open_jack_client(WATCH_CLIENT)
        if client is None:  # no JACK library or server: nothing to watch
            return False
        client.set_port_connect_callback(self._changed)
        client.activate()
        self._client = client
        return True

    def _changed(self, a: Any, b: Any, connected: bool) -> None:
        if not connected:
            return
        ours = [p.name for p in (a, b) if p.name.startswith(self.prefix)]
        if len(ours) != 1:
            return  # not ours, or our own ports joined to each other
        other = b.name if ours[0] == a.name else a.name
        self.connections += 1
        try:
            self.on_connect(other)
        except Exception:  # a callback bug must not reach JACK's thread
            log.exception("JACK connect callback failed")

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.deactivate()
                client.close()
            except Exception:
                log.debug("closing the JACK connection watch failed", exc_info=True)
