"""MidiBridge: the daemon's MIDI side (knobs in, feedback out, notes and clock out, clock in).

Wiring::

    MIDI in port --(rtmidi thread)--> clock? ----> ClockFollower --+
                                  \\-> learn? ---> LearnSession     +--> Controller.handle_message
                                   \\-> MidiMapper ----------------+     (same path as OSC)
    FeedbackHub --> MidiFeedbackTarget --> MidiMapper.feedback --> controller's port (LEDs)
    LivePerformance --(render thread)--> NoteStream --> TimedSender --> MIDI out port

MIDI-driven changes enter the :class:`~bridge.controller.Controller` as OSC messages from a
``("midi", <port>)`` sender, so validation, state, glide/crossfade and OSC feedback are the
ones every OSC client gets, and the feedback hub (which never echoes a change to its writer)
keeps a motor fader from being fought while the hand moves it.

Without a MIDI system the bridge logs one warning and the daemon carries on OSC-only.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import mido

from bridge.controller import Controller, Sender
from bridge.feedback import FeedbackHub, SenderKey
from bridge.jack_watch import JackConnectWatch
from bridge.midi_clock import ClockEvent, ClockFollower, fold_bpm
from bridge.midi_learn import Learned, LearnSession, default_user_map, load_user_map
from bridge.midi_map import ControllerMap, MapError, parse_map
from bridge.midi_mapper import Change, MidiMapper
from bridge.midi_notes import NoteStream
from bridge.midi_options import MidiOptions
from bridge.midi_ports import (
    FEEDBACK_NAME,
    OUT_NAME,
    VIRTUAL,
    MidiSystem,
    MidiUnavailable,
    PortNotFound,
    close_port,
    safe_send,
)
from bridge.midi_scheduler import TimedSender
from bridge.osc_codec import OscMessage, OscValue, decode_packet
from bridge.performance import Crossfade, LivePerformance
from bridge.registry import PREFIX, ParamRegistry

log = logging.getLogger("bridge.midi")

DEFAULT_MAP = "generic"
_REPO_CONTROLLERS = Path(__file__).resolve().parent.parent / "presets" / "controllers"
STAMP_CREEP = 5e-6  # seconds per message (50 ppm at 10 messages a second)
REALTIME = frozenset({"clock", "start", "continue", "stop", "songpos"})
ANCHOR_AHEAD_SECONDS = 0.02  # a clock-in alignment lands this far beyond the rendered audio


# --- map files -------------------------------------------------------------------------------
def controllers_dir() -> Traversable | Path:
    """Shipped controller maps: the checkout's presets/controllers, else the package data."""
    if _REPO_CONTROLLERS.is_dir():
        return _REPO_CONTROLLERS
    return resources.files("latentscore._presetdata") / "controllers"


def preset_maps() -> list[str]:
    """Names of the shipped maps (``--midi-map nanokontrol2``)."""
    return sorted(p.name[:-5] for p in controllers_dir().iterdir() if p.name.endswith(".toml"))


def read_map(name_or_path: str, registry: ParamRegistry) -> ControllerMap:
    """Load a map by file path or shipped preset name; raises :class:`MapError`."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MapError(f"{path}: cannot read the map file: {exc.strerror or exc}") from None
        return parse_map(text, registry, path)
    shipped = controllers_dir() / f"{name_or_path}.toml"
    if not shipped.is_file():
        names = ", ".join(preset_maps())
        raise MapError(f"no map file or preset named {name_or_path!r} (presets: {names})")
    return parse_map(shipped.read_text(encoding="utf-8"), registry, f"{name_or_path}.toml")


# --- feedback ----------------------------------------------------------------------------------
@dataclass(eq=False)
class MidiFeedbackTarget:
    """A :class:`~bridge.feedback.Target` turning value feedback into MIDI for a controller."""

    key: SenderKey
    mapper: MidiMapper
    port: Any
    registry: ParamRegistry
    owners: set[SenderKey] = field(default_factory=set)
    bundles: bool = False  # (it shows values; streams never reach it)

    def _name(self, path: str) -> str | None:
        spec = self.registry.by_path(path)
        return spec.name if spec is not None else None

    def wants(self, path: str) -> bool:
        return self._name(path) in self.mapper.feedback_names()

    def send(self, packet: bytes) -> bool:
        message = decode_packet(packet)
        if isinstance(message, OscMessage):
            name = self._name(message.address)
            if name is not None:
                self.show(name, message.args)
        return True

    def show(self, name: str, args: tuple[OscValue, ...]) -> None:
        for msg in self.mapper.feedback(name, args):
            safe_send(self.port, msg)


# --- the bridge --------------------------------------------------------------------------------
class MidiBridge:
    """Opens the MIDI ports the options ask for and wires them (see the module docstring)."""

    def __init__(
        self,
        options: MidiOptions,
        registry: ParamRegistry,
        controller: Controller,
        hub: FeedbackHub,
        performance: LivePerformance,
    ) -> None:
        self.options = options
        self.registry, self.controller, self.hub = registry, controller, hub
        self.performance = performance
        self.system: MidiSystem | None = None
        self.in_port: Any = None
        self.out_port: Any = None
        self.feedback_port: Any = None
        self.feedback: MidiFeedbackTarget | None = None
        self.notes: NoteStream | None = None
        self.sender_thread: TimedSender | None = None
        self.follower: ClockFollower | None = None
        self.watch: JackConnectWatch | None = None  # JACK: who connects to our output
        self.status = "off"
        self.user_map_path = options.learn_file or default_user_map()
        base = read_map(options.map or DEFAULT_MAP, registry)  # bad maps fail before any port
        self.base_map = base
        self.cmap = base.merged(load_user_map(self.user_map_path, registry))
        self.mapper = MidiMapper(registry, self.cmap, self._read)
        self.learn = LearnSession(registry, self.user_map_path, self._learned)
        self.midi_sender = Sender(
            key=("midi", options.midi_in or "none"),
            host="midi",
            port=0,
            transport="midi",
            reply=lambda packet: True,
        )
        self._clock_sender = Sender(("midi-clock",), "midi", 0, "midi", lambda packet: True)
        self._learn_requester: Sender | None = None
        self._closed = False
        self._poller = threading.Event()
        self.received = 0
        self.ignored = 0
        self._last_stamp: float | None = None  # see _stamp
        controller.commands["learn"] = self._learn_command

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> MidiBridge:
        """Open ports (before the performance starts, so its first notes are caught)."""
        opts = self.options
        try:
            if opts.backend is not None:
                self.system = MidiSystem.from_backend(opts.backend)
            else:
                self.system = MidiSystem.detect(opts.api)
        except MidiUnavailable as exc:
            self.status = f"unavailable: {exc}"
            log.warning("MIDI is off, running OSC-only: %s", exc)
            return self
        try:
            if opts.midi_out:
                self._open_output(self.system)
            if opts.midi_in:
                self._open_input(self.system)
        except PortNotFound as exc:
            self.close()
            raise ValueError(str(exc)) from None
        except Exception as exc:  # a backend refusing a port: say which, keep OSC running
            log.warning("MIDI port could not be opened, running without it: %s", exc)
            self.status = f"failed: {exc}"
        else:
            self.status = "on"
        if self.in_port is not None:
            threading.Thread(target=self._poll_learn, name="bridge-midi-learn", daemon=True).start()
            if opts.learn:
                threading.Thread(
                    target=self._guided_learn,
                    args=(opts.learn,),
                    name="bridge-midi-guided",
                    daemon=True,
                ).start()
        return self

    def _open_input(self, system: MidiSystem) -> None:
        opts = self.options
        assert opts.midi_in is not None
        self.in_port = system.open_input(opts.midi_in, self._on_message)
        name = getattr(self.in_port, "name", opts.midi_in)
        key: SenderKey = ("midi", str(name))
        self.midi_sender = Sender(key, "midi", 0, "midi", lambda packet: True)
        if opts.clock == "in":
            self.follower = ClockFollower(self._clock_event)
        if any(b.feedback for b in self.cmap.bindings):
            self._open_feedback(system, key, str(name))
        log.info("MIDI in: %s (map %s, %d controls)", name, self.cmap.name, len(self.cmap.bindings))

    def _open_feedback(self, system: MidiSystem, key: SenderKey, in_name: str) -> None:
        opts = self.options
        wanted = opts.feedback_port or (VIRTUAL if opts.midi_in == VIRTUAL else opts.midi_in)
        assert wanted is not None
        try:
            if wanted == VIRTUAL:
                self.feedback_port = system.open_output(VIRTUAL, virtual_name=FEEDBACK_NAME)
            else:
                self.feedback_port = system.open_output(wanted, virtual_name=FEEDBACK_NAME)
        except Exception as exc:
            log.warning("MIDI feedback is off (no output port for %r): %s", wanted, exc)
            return
        self.feedback = MidiFeedbackTarget(key, self.mapper, self.feedback_port, self.registry)
        self.hub.add(self.feedback)
        for name in sorted(self.mapper.feedback_names()):  # show the current state at once
            value = self._read(name)
            if value is not None:
                self.feedback.show(name, value)

    def _open_output(self, system: MidiSystem) -> None:
        opts = self.options
        assert opts.midi_out is not None
        self.out_port = system.open_output(opts.midi_out)
        perf = self.performance
        self.sender_thread = TimedSender(perf.clock, opts.lookahead)
        self.notes = NoteStream(
            self.out_port, self.sender_thread, perf.sample_rate, clock=opts.clock == "out"
        )
        perf.listeners.append(self.notes)
        self.sender_thread.start()
        if system.is_jack and OUT_NAME in system.own_ports:  # (virtual, or wired by us)
            self.watch = JackConnectWatch(OUT_NAME, self._connected)
            if not self.watch.start():
                self.watch = None
        log.info(
            "MIDI out: %s%s",
            getattr(self.out_port, "name", opts.midi_out),
            " with clock" if opts.clock == "out" else "",
        )

    def _connected(self, other: str) -> None:
        """JACK thread: a program connected to our output; bring it onto our grid."""
        log.info("MIDI out: %s connected; programs and song position sent again", other)
        if self.notes is not None:
            self.notes.resync()

    def close(self) -> None:
        """Close inputs first (no new changes), then release notes and close outputs."""
        if self._closed:
            return
        self._closed = True
        self._poller.set()
        if self.in_port is not None:
            close_port(self.in_port)
        if self.feedback is not None:
            self.hub.remove(self.feedback.key)
        if self.watch is not None:
            self.watch.close()
        if self.notes is not None:
            self.notes.close()  # all notes off, clock stop
        outputs = self.out_port is not None or self.feedback_port is not None
        if self.system is not None and outputs:
            # rtmidi hands messages to the MIDI system asynchronously (on JACK, in the next
            # process cycle): closing at once could drop the last note-offs and the Stop
            self.system.flush()
        for port in (self.out_port, self.feedback_port):
            if port is not None:
                close_port(port)

    # --- input (rtmidi callback thread) -----------------------------------------------------
    def _stamp(self, msg: mido.Message) -> float:
        """When ``msg`` was received, on the monotonic clock.

        With the MIDI system's delta times (rtmidi), the previous stamp plus this delta,
        unless that is later than now: arrival can only be late (a busy Python thread),
        never early, so the earlier of the two is the better estimate; without deltas, now.
        Each step adds :data:`STAMP_CREEP`, so a chain of deltas that runs early against
        the monotonic clock (two clocks drift) creeps back to the earliest arrivals.
        """
        now = time.monotonic()
        last = self._last_stamp
        if last is None or not (self.system is not None and self.system.stamps_deltas):
            stamp = now
        else:
            stamp = min(now, last + max(0.0, float(msg.time)) + STAMP_CREEP)
        self._last_stamp = stamp
        return stamp

    def _on_message(self, msg: mido.Message) -> None:
        """Every incoming message; never raises (bad input costs one message, not the daemon)."""
        try:
            self.received += 1
            at = self._stamp(msg)
            kind = msg.type
            if kind in REALTIME:
                if self.follower is not None:
                    self.follower.handle(kind, at, position=getattr(msg, "pos", 0))
                return
            if self.learn.offer(msg):
                return
            changes = self.mapper.handle(msg)
            if not changes:
                self.ignored += 1
            for change in changes:
                self.apply(change)
        except Exception:
            log.exception("MIDI message %r could not be handled", msg)

    def apply(self, change: Change, sender: Sender | None = None) -> None:
        """Hand one change to the controller, as an OSC message from the MIDI sender."""
        message = OscMessage(self.registry[change.param].path, change.args, change.tags)
        self.controller.handle_message(message, sender or self.midi_sender)

    def _read(self, name: str) -> tuple[OscValue, ...] | None:
        try:
            spec = self.registry[name]
        except KeyError:
            return None
        return self.controller.read_value(spec) if spec.readable else None

    def _clock_event(self, event: ClockEvent) -> None:
        if event.kind == "tempo":
            bpm = round(fold_bpm(event.bpm), 4)
            log.debug("MIDI clock: %.2f BPM -> %.2f", event.bpm, bpm)
            self.apply(Change("bpm", "f", (bpm,)), self._clock_sender)
        elif event.kind == "align":  # a beat of ticks after Start: exact tempo and phase
            bpm = round(fold_bpm(event.bpm), 4)
            log.info("MIDI clock: %.2f BPM at Start; aligning bars", event.bpm)
            self.apply(Change("bpm", "f", (bpm,)), self._clock_sender)
            self._anchor(event.at, event.beat, fade=0.1)
        elif event.kind in ("play", "stop"):
            if event.from_top:  # Start (or pointer + Continue): our beat is the DAW's
                self._anchor(event.at, event.beat, fade=0.05)
            self.apply(Change(event.kind, "i", (1,)), self._clock_sender)

    def _anchor(self, at: float, beat: float, fade: float) -> None:
        """Move our grid so that the audio heard at monotonic time ``at`` (plus the sync
        offset) is ``beat``: a crossfade scheduled just ahead of what is rendered, on the
        beat the DAW will be at when that sample is heard (render-ahead compensated)."""
        perf = self.performance
        sample = perf.written + round(ANCHOR_AHEAD_SECONDS * perf.sample_rate)
        offset = self.options.sync_offset_ms / 1000.0

        def realign() -> list[Crossfade]:
            # computed here, on the render thread at the sample it acts on: a busy machine
            # may run this later than planned, and the beat must be the one heard then
            params = self.controller.current_params()
            now = perf.written
            heard = time.monotonic() + (now - perf.loop.clock.now_sample()) / perf.sample_rate
            target = max(0.0, beat + (heard - at - offset) * params.bpm / 60.0)
            return [Crossfade(params, fade, at_beat=target)]

        perf.schedule(sample, realign)

    # --- learn ------------------------------------------------------------------------------
    def _learn_command(self, value: object, sender: Sender) -> None:
        text = str(value).strip()
        if self.in_port is None:
            self.controller.reject(sender, f"{PREFIX}/learn: no MIDI input (start with --midi-in)")
            return
        if text in ("", "cancel"):
            self.learn.cancel()
            log.info("MIDI learn cancelled")
            return
        try:
            self.learn.arm(text)
        except ValueError as exc:
            self.controller.reject(sender, f"{PREFIX}/learn: {exc}")
            return
        self._learn_requester = sender  # answered with /learned even if not subscribed
        log.info("MIDI learn: move the control for %s", self.learn.armed)

    def _learned(self, learned: Learned) -> None:
        binding = learned.binding
        self.cmap = self.cmap.with_binding(binding)
        self.mapper.set_map(self.cmap)
        described = binding.source.describe()
        log.info("MIDI learn: %s -> %s (saved to %s)", described, binding.param, learned.path)
        requester, self._learn_requester = self._learn_requester, None
        self.controller.tell_everyone(f"{PREFIX}/learned", (binding.param, described), requester)

    def _poll_learn(self) -> None:
        while not self._poller.wait(0.02):
            try:
                self.learn.poll()
            except Exception:
                log.exception("MIDI learn failed")

    def _guided_learn(self, params: list[str], seconds: float = 30.0) -> None:
        for param in params:
            if self._closed:
                return
            try:
                self.learn.arm(param)
            except ValueError as exc:
                log.warning("MIDI learn: %s", exc)
                continue
            log.info("MIDI learn: move the control for %s (%g s)...", param, seconds)
            if not self.learn.done.wait(seconds):
                self.learn.cancel()
                log.info("MIDI learn: nothing moved for %s; skipped", param)
        log.info("MIDI learn: done; bindings are in %s", self.user_map_path)

    # --- summary -----------------------------------------------------------------------------
    def summary_lines(self) -> list[str]:
        opts = self.options
        if self.status != "on":
            return [f"  MIDI        {self.status}"]
        lines = []
        if self.in_port is not None:
            lines.append(
                f"  MIDI in     {getattr(self.in_port, 'name', opts.midi_in)}  (map: "
                f"{self.cmap.name or 'unnamed'}, {len(self.cmap.bindings)} controls"
                f"{', clock in' if opts.clock == 'in' else ''}; learn: {self.user_map_path})"
            )
        if self.out_port is not None:
            lines.append(
                f"  MIDI out    {getattr(self.out_port, 'name', opts.midi_out)}  (notes"
                f"{' + clock' if opts.clock == 'out' else ''})"
            )
        return lines
