"""Controller: turns incoming OSC packets into state changes, engine operations and replies.

Every input (UDP, TCP, OSCQuery WebSocket) calls :meth:`Controller.handle_packet` from its
own thread. The path of a packet:

1. size limit, decode (malformed -> error), per-host rate limit (per host, not per port:
   rotating source ports must not escape it);
2. every message of the packet (bundles flattened, with their timetags) is matched against
   the :class:`~bridge.registry.ParamRegistry` (address patterns reach values, never
   commands) and *validated in full before anything changes*: one bad message in a bundle
   drops the whole bundle (atomic) with an ``/latentscore/error`` reply to the sender; a
   timetag more than ``Limits.max_ahead`` seconds away, or more scheduled messages than
   ``Limits.max_scheduled``, is refused the same way, so memory stays bounded;
3. value changes update :class:`~bridge.state.BridgeState` (under one lock), queue feedback
   and hand engine operations to the :class:`~bridge.performance.LivePerformance` (one
   submission per packet); with a future timetag the same happens in the render thread at
   the timetag's output sample.

Every rejection is one ``/latentscore/error`` reply to the sender only and one log line,
both rate-limited per host; nothing an input can send produces a traceback.

Glide or crossfade follows the library's rule (:mod:`latentscore.items`): moving only
continuous fields glides the running engine, anything else crossfades. A float sent to an
ordered field is a knob: it uses the engine's short smoothing instead of the transition.

Nothing here blocks on the network or the model: vibes are resolved on a worker thread
that keeps only the newest waiting request (:mod:`bridge.vibe_worker`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bridge.feedback import FeedbackHub, Origin, SenderKey, Target
from bridge.osc_codec import (
    IMMEDIATELY,
    OscDecodeError,
    OscMessage,
    OscValue,
    decode_packet,
    encode_message,
    iter_messages,
    timetag_to_unix,
)
from bridge.osc_pattern import PatternError
from bridge.performance import Crossfade, EngineOp, Glide, LivePerformance, SetRunning, SetVolume
from bridge.registry import (
    PREFIX,
    BadValue,
    FieldValue,
    ParamRegistry,
    ParamSpec,
    ReplyPort,
    normalise_tags,
    shorten,
)
from bridge.security import RateLimiter
from bridge.state import BridgeState, bpm_value, config_value
from bridge.vibe_worker import VibeRequest, VibeWorker
from latentscore.config import MusicConfigUpdate, Step
from latentscore.errors import InvalidConfigError, LatentScoreError
from latentscore.items import GLIDE_FIELDS
from latentscore.models.base import ModelSpec
from latentscore.models.result import GenerateResult
from latentscore.vibe import vibe_to_result
from synth.params import SynthParams

log = logging.getLogger("bridge.controller")

IMMEDIATE_COMMANDS = frozenset({"state", "subscribe", "unsubscribe"})
ERROR_PATH = f"{PREFIX}/error"
TITLE_PATH = f"{PREFIX}/title"
# A short and a long vibe: the fast model's first answers size its scratch buffers.
WARM_UP_VIBES = (
    "warm sunset",
    "a slow rainy evening in an empty city, distant traffic, neon reflections on wet "
    "streets, a lonely saxophone somewhere far away and the hum of old radiators, "
    "soft, dark, spacious and a little hopeful",
)


@dataclass(frozen=True)
class Sender:
    """Where a packet came from, and how to answer it.

    ``key`` identifies the sender for feedback exclusion and rate limiting; ``reply``
    sends a packet back (UDP to the source address, or down the same connection);
    ``as_target`` (connections only) makes the connection itself a feedback target.
    """

    key: SenderKey
    host: str
    port: int
    transport: str
    reply: Callable[[bytes], bool]
    as_target: Callable[[], Target] | None = None

    @property
    def origin(self) -> Origin:
        """Who wrote a value, for the feedback hub's no-echo rule."""
        return Origin(self.key, self.host if self.transport == "udp" else None)


@dataclass(frozen=True)
class Limits:
    """What one sender may cost the daemon (see ``latentscore bridge --help``)."""

    max_packet: int = 65536
    rate: float = 2000.0  # messages per second per host (burst of one second)
    error_rate: float = 20.0  # error replies and log lines per second per host
    max_ahead: float = 60.0  # seconds: a bundle timetagged further ahead is refused
    max_scheduled: int = 10000  # timetagged messages waiting for their time, all senders
    tcp_idle: float = 300.0  # seconds without input before a TCP connection is closed
    tcp_per_host: int = 16  # open TCP connections per host
    subscription_ttl: float = 300.0  # seconds a UDP /subscribe lasts unless renewed
    max_subscriptions: int = 256  # UDP subscriptions, all hosts (16 per host)


LOG_RATE = 50.0  # rejection log lines per second, all hosts together
# Full-state replies (/state, /subscribe) per second per host: each is ~80 packets, so
# without this a subscribe flood would be amplified 80-fold onto the network.
STATE_RATE = 20.0


@dataclass
class _Parsed:
    spec: ParamSpec
    value: object
    knob: bool = False  # a number on a fader: its exact position, short smoothing


@dataclass
class _VibeContext:
    sender: Sender
    at: int | None


class Controller:
    """Dispatch, validation and application of OSC input (see the module docstring)."""

    def __init__(
        self,
        registry: ParamRegistry,
        state: BridgeState,
        performance: LivePerformance,
        hub: FeedbackHub,
        *,
        model: ModelSpec,
        udp_target: Callable[[tuple[str, int]], Target],
        limits: Limits = Limits(),
    ) -> None:
        self.registry, self.state, self.performance, self.hub = registry, state, performance, hub
        self.model = model
        self.limits = limits
        self._udp_target = udp_target
        self._lock = threading.RLock()
        self._rate = RateLimiter(limits.rate)
        self._error_rate = RateLimiter(limits.error_rate)
        self._log_rate = RateLimiter(LOG_RATE)
        self._state_rate = RateLimiter(STATE_RATE)
        self._vibes: VibeWorker[_VibeContext] = VibeWorker(self._resolve_vibe, self._vibe_cancelled)
        self._scheduled = 0  # timetagged messages waiting (bounded by limits.max_scheduled)
        # Field edits that arrive while a vibe is being resolved were made after it, so they
        # are laid over the vibe's config when it lands instead of being swept away by it.
        self._vibe_pending = False
        self._edits_since_vibe: dict[str, FieldValue] = {}
        # extra immediate commands by name (MIDI learn): handler(parsed value, sender)
        self.commands: dict[str, Callable[[object, Sender], None]] = {"learn": self._no_learn}
        self.received = 0  # messages accepted for dispatch
        self.rejected = 0
        self.throttled = 0

    # --- entry point ---------------------------------------------------------------------
    def handle_packet(self, data: bytes, sender: Sender) -> None:
        """Decode and dispatch one packet from any input thread (never raises)."""
        try:
            self._handle_packet(data, sender)
        except (Exception, RecursionError) as exc:  # a bug must cost one packet, not the daemon
            log.debug("internal error handling a packet from %s", sender.key, exc_info=True)
            self.reject(sender, f"internal error ({type(exc).__name__}) handling this packet")

    def _handle_packet(self, data: bytes, sender: Sender) -> None:
        if len(data) > self.limits.max_packet:
            self.reject(sender, f"packet of {len(data)} bytes exceeds {self.limits.max_packet}")
            return
        try:
            packet = decode_packet(data, max_string=self.limits.max_packet)
            items = list(iter_messages(packet))
        except OscDecodeError as exc:
            self.reject(sender, f"malformed OSC packet: {exc}")
            return
        if not self._rate.allow(sender.host, max(1, len(items))):
            self.throttled += len(items)
            self.reject(sender, f"rate limit: more than {self.limits.rate:g} messages/s; dropped")
            return
        planned: list[tuple[int | None, list[_Parsed]]] = []
        try:
            for timetag, message in items:
                planned.append((self._when(timetag), self._parse(message)))
        except BadValue as exc:
            whole = " (the whole bundle was dropped)" if len(items) > 1 else ""
            self.reject(sender, f"{exc}{whole}")
            return
        self._dispatch(planned, sender)

    def _when(self, timetag: int) -> int | None:
        """The output sample a timetag names (None: now); raises BadValue if too far."""
        if timetag == IMMEDIATELY:
            return None
        unix = timetag_to_unix(timetag)
        ahead = unix - time.time()
        if ahead > self.limits.max_ahead:
            raise BadValue(
                f"bundle timetag {ahead:.0f} s ahead; the limit is {self.limits.max_ahead:g} s"
            )
        sample = self.performance.clock.sample_at_unix(unix)
        return sample if sample > self.performance.written else None  # rendered: now

    def handle_message(self, message: OscMessage, sender: Sender, at: int | None = None) -> None:
        """Validate one message fully, then apply it now or at output sample ``at``."""
        try:
            parsed = self._parse(message)
        except BadValue as exc:
            self.reject(sender, str(exc))
            return
        self._dispatch([(at, parsed)], sender)

    def _parse(self, message: OscMessage) -> list[_Parsed]:
        """Every address ``message`` reaches, validated; raises :class:`BadValue`."""
        try:
            specs = self.registry.match(message.address)
        except PatternError as exc:
            raise BadValue(shorten(str(exc))) from None
        if not specs:
            raise BadValue(f"unknown address {shorten(message.address, 120)!r}")
        fitting = [s for s in specs if s.writable and s.signature_ok(message.type_tags)]
        if not fitting:  # let the (first) addressed spec explain what it expects
            specs[0].parse(message.type_tags, message.args)
            raise BadValue(
                f"{shorten(message.address, 120)}: no address takes {message.type_tags!r}"
            )
        return [self._validate(spec, message) for spec in fitting]

    def _dispatch(self, planned: list[tuple[int | None, list[_Parsed]]], sender: Sender) -> None:
        """Run commands, request vibes, and apply value changes (validated already)."""
        timed = sum(len(parsed) for at, parsed in planned if at is not None)
        if timed:
            with self._lock:
                if self._scheduled + timed > self.limits.max_scheduled:
                    full = True
                else:
                    full, self._scheduled = False, self._scheduled + timed
            if full:
                self.reject(
                    sender,
                    f"{self.limits.max_scheduled} timetagged messages are already waiting; "
                    "this bundle was dropped",
                )
                return
        self.received += sum(len(parsed) for _, parsed in planned)
        immediate = IMMEDIATE_COMMANDS | self.commands.keys()
        now: list[_Parsed] = []
        later: dict[int, list[_Parsed]] = {}
        for at, parsed in planned:
            for p in parsed:
                if p.spec.name in immediate:
                    self._command(p, sender)
                elif p.spec.name == "vibe":
                    with self._lock:
                        self._vibe_pending = True
                        self._edits_since_vibe.clear()  # edits before the vibe: replaced by it
                    self._vibes.submit(str(p.value), _VibeContext(sender, at))
                elif at is None:
                    now.append(p)
                else:
                    later.setdefault(at, []).append(p)
            if at is not None:  # (counted per message; vibes and commands too)
                later.setdefault(at, [])
        if now:
            self.performance.submit(self._apply(now, sender))
        for at, music in later.items():
            count = sum(len(parsed) for when, parsed in planned if when == at)
            self.performance.schedule(at, self._timed(music, sender, count))

    def _timed(
        self, music: list[_Parsed], sender: Sender, count: int
    ) -> Callable[[], list[EngineOp]]:
        def action() -> list[EngineOp]:
            with self._lock:
                self._scheduled -= count
            return self._apply(music, sender) if music else []

        return action

    def _validate(self, spec: ParamSpec, message: OscMessage) -> _Parsed:
        value = spec.parse(message.type_tags, message.args)
        if spec.name == "config":
            try:
                value = MusicConfigUpdate.model_validate_json(str(value))
            except InvalidConfigError as exc:
                raise BadValue(f"{spec.path}: {shorten(str(exc))}") from None
            except (ValueError, RecursionError) as exc:  # e.g. JSON nested too deeply
                raise BadValue(f"{spec.path}: not a config ({type(exc).__name__})") from None
        knob = spec.role == "field" and spec.field is not None and spec.field.ordered
        knob = knob and normalise_tags(message.type_tags)[:1] in ("f", "i")
        return _Parsed(spec, value, knob)

    # --- applying changes (receive thread, or render thread for scheduled ones) ----------
    def _apply(self, parsed: Sequence[_Parsed], sender: Sender) -> list[EngineOp]:
        """Update the state, queue feedback, and return the engine operations to perform."""
        ops: list[EngineOp] = []
        changed: set[str] = set()
        knobs_only = True
        with self._lock:
            state = self.state
            for p in parsed:
                spec = p.spec
                if spec.role in ("field", "label", "index") and spec.field is not None:
                    assert isinstance(p.value, FieldValue)
                    if self._edit(spec.field.name, p.value):
                        changed.add(spec.field.name)
                        knobs_only = knobs_only and p.knob
                        self._field_feedback(spec.field.name, wrote=spec, origin=sender.origin)
                elif spec.role == "step" and spec.field is not None:
                    field = spec.field
                    label = Step(int(p.value)).apply(field, state.labels[field.name])  # type: ignore[call-overload]
                    if self._edit(field.name, FieldValue(label, field.position(label))):
                        changed.add(field.name)
                        knobs_only = False
                        self._field_feedback(field.name)
                elif spec.name == "bpm":  # a number: applied at once, like a fader
                    if self._edit("tempo", bpm_value(float(p.value))):  # type: ignore[arg-type]
                        changed.add("tempo")
                        self._field_feedback("tempo", wrote=spec, origin=sender.origin)
                elif spec.name == "config":
                    assert isinstance(p.value, MusicConfigUpdate)
                    new = p.value.apply_to(state.config)
                    names = [n if n != "bpm" else "tempo" for n in p.value.changes()]
                    for name in dict.fromkeys(names):  # an exact bpm is a tempo edit
                        if self._edit(name, config_value(new, name)):
                            changed.add(name)
                            self._field_feedback(name)
                    knobs_only = False
                else:
                    ops.extend(self._setting(spec, p.value, sender))
            if changed:
                params = state.synth_params()
                if not changed <= GLIDE_FIELDS:
                    ops.append(Crossfade(params, state.transition))
                else:
                    ops.append(Glide(params, 0.0 if knobs_only else state.transition))
        return ops

    def _setting(self, spec: ParamSpec, value: object, sender: Sender) -> list[EngineOp]:
        state, name = self.state, spec.name
        if name == "transition":
            state.transition = float(value)  # type: ignore[arg-type]
        elif name == "volume":
            state.volume = float(value)  # type: ignore[arg-type]
        elif name == "seed":
            state.seed = int(value)  # type: ignore[call-overload]
        elif name in ("play", "stop"):
            if not value:  # a button release
                return []
            playing = name == "play"
            if state.playing != playing:
                state.playing = playing
                self._feedback("playing")
            return [SetRunning(playing)]
        self._feedback(name, sender.origin)
        if name == "volume":
            return [SetVolume(state.volume)]
        if name == "seed":
            return [Crossfade(state.synth_params(), state.transition, seed=state.seed)]
        return []

    def _feedback(self, name: str, origin: Origin | None = None) -> None:
        """Queue the current value of ``name`` for every target but the writer's own."""
        spec = self.registry[name]
        args = self.state.value(spec)
        if args is not None:
            self.hub.value_changed(spec.path, args, origin)

    def _field_feedback(
        self, name: str, wrote: ParamSpec | None = None, origin: Origin | None = None
    ) -> None:
        """Feedback for every address of a field; only the one written skips its writer."""
        field = self.registry[name].field
        assert field is not None
        names = [name, f"{name}/index"] + ([f"{name}/label"] if field.ordered else [])
        if name == "tempo":
            names.append("bpm")
        for each in names:
            self._feedback(each, origin if wrote is not None and wrote.name == each else None)

    # --- commands ------------------------------------------------------------------------
    def _command(self, p: _Parsed, sender: Sender) -> None:
        name = p.spec.name
        handler = self.commands.get(name)
        if handler is not None:
            handler(p.value, sender)
        elif name == "state":
            if not p.value or not self._may_send_state(sender):
                return
            if isinstance(p.value, ReplyPort):  # a send-only tool names where to answer
                self.send_state(self._udp_target((sender.host, p.value.port)).send)
            else:
                self.send_state(sender.reply)
        elif name == "subscribe":
            self._subscribe(p.value if isinstance(p.value, int) else None, sender)
        elif name == "unsubscribe" and p.value:
            if isinstance(p.value, ReplyPort):
                removed = self.hub.remove_udp(sender.host, p.value.port)
            else:
                removed = self.hub.remove_owned_by(sender.key)
            log.info("unsubscribed %d target(s) of %s", removed, sender.key)

    def _subscribe(self, port: int | None, sender: Sender) -> None:
        if port is None and sender.as_target is not None:  # the connection itself
            target = sender.as_target()
        else:
            target = self._udp_target((sender.host, port or sender.port))
        target.owners.add(sender.key)
        added = self.hub.subscribe(target, self.limits.subscription_ttl)
        if added is None:
            self.reject(sender, f"{PREFIX}/subscribe: too many subscriptions; try again later")
            return
        log.info("subscribed %s (from %s)", added.key, sender.key)
        if self._may_send_state(sender):
            self.send_state(added.send)

    def _may_send_state(self, sender: Sender) -> bool:
        if self._state_rate.allow(sender.host):
            return True
        self.reject(sender, f"more than {STATE_RATE:g} state replies/s; this one was not sent")
        return False

    def _no_learn(self, value: object, sender: Sender) -> None:
        self.reject(sender, f"{PREFIX}/learn: no MIDI input (start the bridge with --midi-in)")

    def send_state(self, send: Callable[[bytes], bool]) -> None:
        """Send every current value (one message per address) through ``send``."""
        with self._lock:
            values = [(s.path, self.state.value(s)) for s in self.registry.readable()]
        for path, args in values:
            if args is not None:
                send(encode_message(path, args))

    def read_value(self, spec: ParamSpec) -> tuple[OscValue, ...] | None:
        with self._lock:
            return self.state.value(spec)

    def current_params(self) -> SynthParams:
        """The engine parameters the current state asks for."""
        with self._lock:
            return self.state.synth_params()

    # --- vibes ---------------------------------------------------------------------------
    def _edit(self, name: str, value: FieldValue) -> bool:
        """Set a field for a client (lock held); returns whether it changed.

        While a vibe is being resolved the edit is also remembered, to be laid over the
        vibe's config when it lands.
        """
        if self._vibe_pending:
            self._edits_since_vibe[name] = value
        return self.state.set_field(name, value)

    def _vibe_cancelled(self, request: VibeRequest[_VibeContext]) -> None:
        log.info("vibe %r superseded before it was computed", shorten(request.text, 80))

    def _resolve_vibe(self, request: VibeRequest[_VibeContext]) -> None:
        """Worker thread: run the model unless a newer vibe already arrived, then apply."""
        sender, at = request.context.sender, request.context.at
        try:
            result = vibe_to_result(request.text, model=self.model)
        except LatentScoreError as exc:
            self._vibe_done(request)
            self.reject(sender, f"{PREFIX}/vibe: {shorten(str(exc))}")
            return
        except Exception:
            self._vibe_done(request)
            log.exception("vibe model failed on %r", shorten(request.text, 80))
            self.reject(sender, f"{PREFIX}/vibe: the model failed (see the daemon log)")
            return
        if not self._vibes.is_latest(request):  # a newer vibe arrived while this one thought
            log.info("vibe %r superseded by a newer one", shorten(request.text, 80))
            return
        if at is not None and at > self.performance.written:
            self.performance.schedule(at, lambda: self.apply_vibe(result, sender))
        else:
            self.performance.submit(self.apply_vibe(result, sender))

    def apply_vibe(self, result: GenerateResult, sender: Sender | None) -> list[EngineOp]:
        """Take a model's answer: every field, the title; crossfade to it."""
        with self._lock:
            changed = set(self.state.set_config(result.config))
            for name, value in self._edits_since_vibe.items():  # later edits win
                if self.state.set_field(name, value):
                    changed.add(name)
            self._edits_since_vibe.clear()
            self._vibe_pending = False
            for name in sorted(changed):
                self._field_feedback(name)
            self.state.title = result.title
            params = self.state.synth_params()
            transition = self.state.transition
        self.tell_everyone(TITLE_PATH, (result.title,), sender)
        log.info("vibe -> %r", result.title)
        return [Crossfade(params, transition)]

    def _vibe_done(self, request: VibeRequest[_VibeContext]) -> None:
        """A vibe failed: edits stop being recorded unless a newer vibe is pending."""
        with self._lock:
            if self._vibes.is_latest(request):
                self._vibe_pending = False
                self._edits_since_vibe.clear()

    def warm_up(self) -> None:
        """Load the vibe model now, so the first vibe answers quickly.

        The daemon calls this before the audio starts: loading runs long C calls that hold
        the GIL (tens of ms), which would starve a render worker only a few ms ahead.
        """
        from latentscore.models.base import resolve_model
        from latentscore.models.fast import FastModel

        try:
            model = resolve_model(self.model)
        except Exception as exc:  # the music plays on; /vibe will answer with the error
            log.warning("vibes are unavailable: %s", exc)
            return
        if isinstance(model, FastModel):  # local and cheap: its first answers allocate
            for text in WARM_UP_VIBES:  # scratch memory; do that now, not mid-performance
                model.generate(text)

    def close(self) -> None:
        self._vibes.close()

    # --- replies -------------------------------------------------------------------------
    def tell_everyone(self, path: str, args: tuple[OscValue, ...], sender: Sender | None) -> None:
        """Send to every target, and to the sender too if it is not one of them."""
        self.hub.broadcast(path, args)
        if sender is not None and not self._reached(sender, path):
            sender.reply(encode_message(path, args))

    def _reached(self, sender: Sender, path: str) -> bool:
        """Did the broadcast of ``path`` already reach the sender (as one of the targets)?"""
        return any(
            (t.key == sender.key or sender.key in t.owners) and t.wants(path)
            for t in self.hub.targets()
        )

    def throttle(self, sender: Sender, reason: str) -> None:
        """A packet dropped by a transport's per-host budget: count it, answer (limited)."""
        self.throttled += 1
        self.reject(sender, reason)

    def reject(self, sender: Sender, reason: str) -> None:
        """One ``/latentscore/error`` reply to the sender only, and one log line.

        Both are rate-limited per host (and the log lines also overall), so a flood of bad
        packets costs a few lines a second, not one per packet.
        """
        self.rejected += 1
        if not self._error_rate.allow(sender.host):
            return
        if self._log_rate.allow("all"):
            log.warning("rejected input from %s:%s: %s", sender.host, sender.port, reason)
        sender.reply(encode_message(ERROR_PATH, (reason,)))
