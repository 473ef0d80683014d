"""Opening a named JACK MIDI port as a LatentScore port wired to it.

rtmidi opens a port chosen by name (``--midi-out "Ardour"``) from a client it calls
"RtMidiOut Client-01": that is what a patchbay shows, and the connection it makes is live
only from the server's next process cycle, so the first messages (the GM programs, the
clock's Start, bar 1's notes) could go out on a port not yet joined to anything.

On JACK the daemon therefore opens its own named port ("LatentScore Out", "LatentScore In")
and connects it to the chosen one itself, through a JACK client, waiting until the server
has run a cycle with the connection in place before anything is sent.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from latentscore.native_stderr import silenced_native_stderr

log = logging.getLogger("bridge.midi")

LINK_CLIENT = "LatentScore link"


def open_jack_client(name: str) -> Any | None:
    """A port-less client of the running JACK server (the one JACK_DEFAULT_SERVER names),
    or None without a JACK library or server (libjack's own complaints silenced)."""
    try:
        import jack

        with silenced_native_stderr():
            return jack.Client(name, no_start_server=True)
    except Exception as exc:
        log.debug("no JACK client: %s", exc)
        return None


@contextmanager
def jack_client(name: str) -> Iterator[Any | None]:
    """A short-lived :func:`open_jack_client`, closed on leaving."""
    client = open_jack_client(name)
    try:
        yield client
    finally:
        if client is not None:
            client.close()


def wait_cycles(client: Any, cycles: int, timeout: float) -> bool:
    """Block until the server has run ``cycles`` periods from now (False: timed out)."""
    start, span = client.last_frame_time, cycles * client.blocksize
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (client.last_frame_time - start) % 2**32 >= span:  # (frame times wrap at 2**32)
            return True
        time.sleep(0.001)
    return False


def _midi_ports(client: Any, port_name: str, *, output: bool) -> set[str]:
    pattern = f".*:{re.escape(port_name)}$"
    found = client.get_ports(pattern, is_midi=True, is_output=output, is_input=not output)
    return {p.name for p in found}


def open_linked(
    open_own: Callable[[], Any], own_name: str, target: str, *, output: bool, timeout: float
) -> Any | None:
    """Open our port with ``open_own()`` (a virtual port named ``own_name``) and connect it
    to the JACK port ``target`` (ours → target for an output, target → ours for an input).

    Returns the open port once a process cycle has run with the connection in place, or
    None (nothing left open) when there is no JACK client to make the connection with.
    """
    with jack_client(LINK_CLIENT) as client:
        if client is None:
            return None
        before = _midi_ports(client, own_name, output=output)
        port = open_own()
        try:
            mine = sorted(_midi_ports(client, own_name, output=output) - before)
            if len(mine) != 1:
                raise RuntimeError(f"could not find our new JACK port {own_name!r} ({mine})")
            source, destination = (mine[0], target) if output else (target, mine[0])
            client.connect(source, destination)
        except Exception:
            port.close()
            raise
        if not wait_cycles(client, 2, timeout):
            log.warning("JACK did not run a cycle within %.1f s of connecting %s", timeout, target)
        return port
