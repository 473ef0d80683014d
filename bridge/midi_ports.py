"""MidiSystem: finding and opening MIDI ports through one mido backend.

mido puts every MIDI system behind one interface (a backend), which is what makes this
module small and testable: the daemon uses python-rtmidi (ALSA sequencer, JACK, CoreMIDI or
Windows MM), and tests pass any other mido backend, such as an in-process loopback.

``--midi-api auto`` tries the platform's native API first and then JACK; a machine with
neither (a server without ``/dev/snd/seq`` and no JACK server) raises
:class:`MidiUnavailable`, which the daemon reports once before carrying on OSC-only.

Port names are matched by case-insensitive substring (``--midi-in nano`` finds
"nanoKONTROL2 MIDI 1"), or ``virtual`` creates a port other programs connect to. On JACK
a named port is reached through our own "LatentScore In"/"LatentScore Out" port wired to
it (see :mod:`bridge.jack_link`), so a patchbay shows LatentScore, not "RtMidiOut Client".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mido

from bridge.jack_link import jack_client, open_linked, wait_cycles
from bridge.midi_options import API_CHOICES
from latentscore.native_stderr import silenced_native_stderr

log = logging.getLogger("bridge.midi")

FLUSH_SECONDS = 0.1  # ALSA, CoreMIDI, ...: time for the last messages to leave
JACK_FLUSH_CYCLES = 2  # JACK: process cycles that must pass (rtmidi writes in its callback)
JACK_FLUSH_TIMEOUT = 2.0  # seconds: a stalled server must not hang the exit
JACK_LINK_TIMEOUT = 2.0  # seconds: waiting for a new connection to be live

VIRTUAL = "virtual"
IN_NAME = "LatentScore In"
OUT_NAME = "LatentScore Out"
FEEDBACK_NAME = "LatentScore Feedback"
CLIENT_NAME = "LatentScore"
_RTMIDI_APIS = {
    "alsa": "LINUX_ALSA",
    "jack": "UNIX_JACK",
    "coremidi": "MACOSX_CORE",
    "windows": "WINDOWS_MM",
}


class MidiUnavailable(RuntimeError):
    """No usable MIDI system (no backend library, no ALSA sequencer, no JACK server...)."""


class PortNotFound(LookupError):
    """No port matches a requested name; the message lists the ports there are."""


@dataclass
class MidiSystem:
    """One mido backend and a description of it (``"rtmidi/UNIX_JACK"``)."""

    backend: Any  # mido.Backend (untyped upstream)
    description: str
    own_ports: tuple[str, ...] = ()

    @classmethod
    def detect(cls, api: str = "auto") -> MidiSystem:
        """The first working rtmidi API (see the module docstring); raises MidiUnavailable."""
        if api not in API_CHOICES:
            raise MidiUnavailable(f"unknown MIDI API {api!r}; choose {', '.join(API_CHOICES)}")
        try:
            import rtmidi  # noqa: F401  (mido's rtmidi backend needs it)
        except ImportError as exc:
            raise MidiUnavailable(f"python-rtmidi is not installed ({exc})") from None
        candidates = [a for a in _RTMIDI_APIS if a != "jack"] + ["jack"] if api == "auto" else [api]
        # The C libraries print their own failures to fd 2; MidiUnavailable says it better.
        with silenced_native_stderr():
            return cls._first_working(candidates)

    @classmethod
    def _first_working(cls, candidates: list[str]) -> MidiSystem:
        problems: list[str] = []
        for name in candidates:
            backend = mido.Backend(f"mido.backends.rtmidi/{_RTMIDI_APIS[name]}", load=True)
            try:
                if _RTMIDI_APIS[name] not in backend.module.get_api_names():
                    continue  # not compiled into this python-rtmidi
                backend.get_input_names()  # opens a client: fails without the system
            except Exception as exc:  # rtmidi raises its own SystemError types
                problems.append(f"{name}: {str(exc).strip() or type(exc).__name__}")
                continue
            return cls(backend, f"rtmidi/{_RTMIDI_APIS[name]}")
        detail = "; ".join(problems) or "no MIDI API compiled into python-rtmidi"
        raise MidiUnavailable(f"no MIDI system available ({detail})")

    @classmethod
    def from_backend(cls, backend: Any, description: str = "") -> MidiSystem:
        """Wrap any mido backend (tests: an in-process loopback)."""
        return cls(backend, description or str(getattr(backend, "name", "backend")))

    @property
    def is_jack(self) -> bool:
        return self.description.endswith("UNIX_JACK")

    def flush(self) -> None:
        """Wait until messages already sent have left (before closing the ports).

        rtmidi hands messages over asynchronously; on JACK they leave in the port's next
        process cycle. A fixed sleep was not enough on a loaded machine (a non-real-time
        server's cycles can lag by more), so on JACK wait until the server's frame clock has
        moved :data:`JACK_FLUSH_CYCLES` periods past now: every client's callback ran since.
        """
        if not self.is_jack or not _wait_jack_cycles(JACK_FLUSH_CYCLES, JACK_FLUSH_TIMEOUT):
            time.sleep(FLUSH_SECONDS)

    # --- listing ---------------------------------------------------------------------------
    def input_names(self) -> list[str]:
        return [n for n in self.backend.get_input_names() if not self._own(n)]

    def output_names(self) -> list[str]:
        return [n for n in self.backend.get_output_names() if not self._own(n)]

    def _client(self, name: str) -> dict[str, str]:
        """rtmidi: name our virtual port's client too (JACK and ALSA show "LatentScore Out",
        not "RtMidiOut Client"); other mido backends take no client name."""
        return {"client_name": name} if self.description.startswith("rtmidi") else {}

    def _own(self, name: str) -> bool:
        return any(name == own or name.endswith(f":{own}") for own in self.own_ports)

    @staticmethod
    def find(names: Sequence[str], wanted: str, direction: str) -> str:
        """The port whose name contains ``wanted`` (case-insensitive; exact match first)."""
        for name in names:
            if name == wanted:
                return name
        hits = [n for n in names if wanted.lower() in n.lower()]
        if not hits:
            available = ", ".join(repr(n) for n in names) or "none"
            raise PortNotFound(
                f"no MIDI {direction} port matches {wanted!r} (available: {available})"
            )
        if len(hits) > 1:
            log.info("MIDI %s %r matches %d ports; using %r", direction, wanted, len(hits), hits[0])
        return hits[0]

    # --- opening ---------------------------------------------------------------------------
    def open_input(
        self, wanted: str, callback: Callable[[mido.Message], None], virtual_name: str = IN_NAME
    ) -> Any:
        """Open an input by name substring, or ``virtual``; messages go to ``callback``.

        With rtmidi each message's ``time`` is the delta, in seconds, since the previous one
        as the MIDI system stamped it (on JACK, in its process thread, before Python gets
        the message): a clock follower can time ticks without the delays of Python threads.
        """
        if wanted == VIRTUAL:
            port = self._open_virtual_input(virtual_name, callback)
            self.own_ports += (virtual_name,)
        else:
            name = self.find(self.input_names(), wanted, "input")
            port = self._open_linked(
                lambda: self._open_virtual_input(virtual_name, callback),
                virtual_name,
                name,
                output=False,
            ) or self.backend.open_input(name, callback=callback)
        _keep_delta_times(port, callback)
        return port

    def _open_virtual_input(self, name: str, callback: Callable[[mido.Message], None]) -> Any:
        return self.backend.open_input(name, virtual=True, callback=callback, **self._client(name))

    def _open_linked(
        self, open_own: Callable[[], Any], own_name: str, target: str, *, output: bool
    ) -> Any | None:
        """JACK: our own port ``own_name`` wired to ``target`` (see :mod:`bridge.jack_link`);
        None elsewhere, or when that fails (the caller opens ``target`` directly)."""
        if not self.is_jack:
            return None
        try:
            port = open_linked(open_own, own_name, target, output=output, timeout=JACK_LINK_TIMEOUT)
        except Exception as exc:
            log.warning(
                "could not wire %r to %r over JACK (%s); opening it directly", own_name, target, exc
            )
            return None
        if port is not None:
            self.own_ports += (own_name,)
        return port

    @property
    def stamps_deltas(self) -> bool:
        """Do input messages carry the MIDI system's delta times (see :meth:`open_input`)?"""
        return self.description.startswith("rtmidi")

    def open_output(self, wanted: str, virtual_name: str = OUT_NAME) -> Any:
        """Open an output by name substring, or ``virtual``."""
        if wanted == VIRTUAL:
            port = self._open_virtual_output(virtual_name)
            self.own_ports += (virtual_name,)
            return port
        name = self.find(self.output_names(), wanted, "output")
        own = self._open_linked(
            lambda: self._open_virtual_output(virtual_name), virtual_name, name, output=True
        )
        return own or self.backend.open_output(name)

    def _open_virtual_output(self, name: str) -> Any:
        return self.backend.open_output(name, virtual=True, **self._client(name))

    def listing(self) -> str:
        """Human-readable port list (``--midi-list``)."""
        lines = [f"MIDI system: {self.description}", "inputs (--midi-in):"]
        lines += [f"  {n}" for n in self.input_names()] or ["  (none)"]
        lines.append("outputs (--midi-out):")
        lines += [f"  {n}" for n in self.output_names()] or ["  (none)"]
        lines.append(f'\'virtual\' creates "{IN_NAME}" / "{OUT_NAME}" for other programs to use.')
        return "\n".join(lines)


def _keep_delta_times(port: Any, callback: Callable[[mido.Message], None]) -> None:
    """mido's rtmidi input drops rtmidi's delta time; register a callback that keeps it."""
    rt = getattr(port, "_rt", None)
    if rt is None or not hasattr(rt, "set_callback"):
        return

    def deliver(event: tuple[list[int], float], data: object) -> None:
        try:
            message = mido.Message.from_bytes(event[0], time=float(event[1]))
        except ValueError:
            return  # not a MIDI message we can parse: dropped, as mido does
        callback(message)

    rt.set_callback(deliver)


def _wait_jack_cycles(cycles: int, timeout: float) -> bool:
    """Block until ``cycles`` JACK periods have run (False: no server to ask, or timed out)."""
    with jack_client("LatentScore flush") as client:
        if client is None:  # no JACK library or server: the caller sleeps instead
            return False
        if wait_cycles(client, cycles, timeout):
            return True
        log.warning("JACK did not run a process cycle within %.1f s at MIDI close", timeout)
        return False


def safe_send(port: Any, msg: mido.Message) -> bool:
    """Send without raising (a vanished device must not stop the daemon); False on failure."""
    try:
        port.send(msg)
    except Exception:
        log.debug("MIDI send failed", exc_info=True)
        return False
    return True


def close_port(port: Any) -> None:
    try:
        port.close()
    except Exception:
        log.debug("closing a MIDI port failed", exc_info=True)
