"""Controller: turns incoming OSC packets into state changes, engine operations and replies.

Every input (UDP, TCP, OSCQuery WebSocket) calls :meth:`Controller.handle_packet` from its
own thread. The path of a packet:

1. size limit, decode (malformed -> error), per-sender rate limit;
2. each message (bundles flattened, with their timetags) is matched against the
   :class:`~bridge.registry.ParamRegistry` (address patterns allowed) and *validated in
   full before anything changes*: a bad value in a pattern or bundle message changes
   nothing and gets an ``/latentscore/error`` reply;
3. value changes update :class:`~bridge.state.BridgeState` (under one lock), queue feedback
   and hand engine operations to the :class:`~bridge.performance.LivePerformance`; with a
   future timetag the same happens in the render thread at the timetag's output sample.

Glide or crossfade follows the library's rule (:mod:`latentscore.items`): moving only
continuous fields glides the running engine, anything else crossfades. A float sent to an
ordered field is a knob: it uses the engine's short smoothing instead of the transition.

Nothing here blocks on the network or the model: vibes are resolved on a worker thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bridge.feedback import FeedbackHub, SenderKey, Target
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
from bridge.registry import PREFIX, BadValue, FieldValue, ParamRegistry, ParamSpec, shorten
from bridge.security import RateLimiter
from bridge.state import BridgeState
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


@dataclass(frozen=True)
class Limits:
    max_packet: int = 65536
    rate: float = 2000.0  # messages per second per sender (burst of one second)
    error_rate: float = 20.0  # error replies and log lines per second per sender


@dataclass
class _Parsed:
    spec: ParamSpec
    value: object
    knob: bool = False  # a float position on an ordered field


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
        self._vibes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-vibe")
        self._vibe_seq = itertools.count(1)
        self._latest_vibe = 0
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
        except Exception:  # a bug must cost one packet, not the daemon
            log.exception("internal error handling a packet from %s", sender.key)
            self.reject(sender, "internal error while handling this packet (see the daemon log)")

    def _handle_packet(self, data: bytes, sender: Sender) -> None:
        if len(data) > self.limits.max_packet:
            self.reject(sender, f"packet of {len(data)} bytes exceeds {self.limits.max_packet}")
            return
        try:
            packet = decode_packet(data, max_string=self.limits.max_packet)
        except OscDecodeError as exc:
            self.reject(sender, f"malformed OSC packet: {exc}")
            return
        items = list(iter_messages(packet))
        if not self._rate.allow(sender.key, max(1, len(items))):
            self.throttled += len(items)
            self.reject(sender, f"rate limit: more than {self.limits.rate:g} messages/s; dropped")
            return
        for timetag, message in items:
            at = None
            if timetag != IMMEDIATELY:
                sample = self.performance.clock.sample_at_unix(timetag_to_unix(timetag))
                if sample > self.performance.written:  # not yet rendered: exact placement
                    at = sample
            self.handle_message(message, sender, at)

    def handle_message(self, message: OscMessage, sender: Sender, at: int | None = None) -> None:
        """Validate one message fully, then apply it now or at output sample ``at``."""
        try:
            specs = self.registry.match(message.address)
        except PatternError as exc:
            self.reject(sender, shorten(str(exc)))
            return
        if not specs:
            self.reject(sender, f"unknown address {shorten(message.address, 120)!r}")
            return
        fitting = [s for s in specs if s.writable and s.signature_ok(message.type_tags)]
        try:
            if not fitting:  # let the (first) addressed spec explain what it expects
                specs[0].parse(message.type_tags, message.args)
                raise BadValue(f"{message.address}: no address takes {message.type_tags!r}")
            parsed = [self._validate(spec, message) for spec in fitting]
        except BadValue as exc:
            self.reject(sender, str(exc))
            return
        self.received += 1
        immediate = IMMEDIATE_COMMANDS | self.commands.keys()
        music = [p for p in parsed if p.spec.name not in immediate | {"vibe"}]
        for p in parsed:
            if p.spec.name in immediate:
                self._command(p, sender)
            elif p.spec.name == "vibe":
                self._request_vibe(str(p.value), sender, at)
        if not music:
            return
        if at is None:
            self.performance.submit(self._apply(music, sender))
        else:
            self.performance.schedule(at, lambda: self._apply(music, sender))

    def _validate(self, spec: ParamSpec, message: OscMessage) -> _Parsed:
        value = spec.parse(message.type_tags, message.args)
        if spec.name == "config":
            try:
                value = MusicConfigUpdate.model_validate_json(str(value))
            except InvalidConfigError as exc:
                raise BadValue(f"{spec.path}: {shorten(str(exc))}") from None
        knob = spec.role == "field" and spec.field is not None and spec.field.ordered
        knob = knob and message.type_tags[:1] in ("f", "d")
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
                if spec.role == "field" and spec.field is not None:
                    assert isinstance(p.value, FieldValue)
                    if self._edit(spec.field.name, p.value):
                        changed.add(spec.field.name)
                        knobs_only = knobs_only and p.knob
                        self._field_feedback(spec.field.name, exclude=sender.key)
                elif spec.role == "step" and spec.field is not None:
                    field = spec.field
                    label = Step(int(p.value)).apply(field, state.labels[field.name])  # type: ignore[call-overload]
                    if self._edit(field.name, FieldValue(label, field.position(label))):
                        changed.add(field.name)
                        knobs_only = False
                        self._field_feedback(field.name, exclude=None)
                elif spec.name == "config":
                    assert isinstance(p.value, MusicConfigUpdate)
                    new = p.value.apply_to(state.config)
                    for name in p.value.changes():
                        changed_field = self.registry[name].field
                        assert changed_field is not None
                        field = changed_field
                        label = getattr(new, name)
                        position = field.position(label) if field.ordered else None
                        if self._edit(name, FieldValue(label, position)):
                            changed.add(name)
                            self._field_feedback(name, exclude=None)
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
                self._feedback("playing", exclude=None)
            return [SetRunning(playing)]
        self._feedback(name, exclude=sender.key)
        if name == "volume":
            return [SetVolume(state.volume)]
        if name == "seed":
            return [Crossfade(state.synth_params(), state.transition, seed=state.seed)]
        return []

    def _feedback(self, name: str, exclude: SenderKey | None) -> None:
        spec = self.registry[name]
        args = self.state.value(spec)
        if args is not None:
            self.hub.value_changed(spec.path, args, exclude)

    def _field_feedback(self, name: str, exclude: SenderKey | None) -> None:
        self._feedback(name, exclude)
        if self.registry[name].field is not None and self.registry[name].field.ordered:  # type: ignore[union-attr]
            self._feedback(f"{name}/label", None)  # the writer did not write the label

    # --- commands ------------------------------------------------------------------------
    def _command(self, p: _Parsed, sender: Sender) -> None:
        name = p.spec.name
        handler = self.commands.get(name)
        if handler is not None:
            handler(p.value, sender)
        elif name == "state":
            if p.value:
                self.send_state(sender.reply)
        elif name == "subscribe":
            port = p.value if isinstance(p.value, int) else None
            if port is None and sender.as_target is not None:
                target = sender.as_target()
            else:
                target = self._udp_target((sender.host, port or sender.port))
            target.owners.add(sender.key)
            target = self.hub.add(target)
            log.info("subscribed %s (from %s)", target.key, sender.key)
            self.send_state(target.send)
        elif name == "unsubscribe" and p.value:
            removed = self.hub.remove_owned_by(sender.key)
            log.info("unsubscribed %d target(s) of %s", removed, sender.key)

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

    def _request_vibe(self, text: str, sender: Sender, at: int | None) -> None:
        seq = next(self._vibe_seq)
        with self._lock:
            self._vibe_pending = True
            self._edits_since_vibe.clear()  # edits before this vibe are replaced by it
        self._latest_vibe = seq
        self._vibes.submit(self._resolve_vibe, text, sender, at, seq)

    def _resolve_vibe(self, text: str, sender: Sender, at: int | None, seq: int) -> None:
        try:
            result = vibe_to_result(text, model=self.model)
        except LatentScoreError as exc:
            self._vibe_done(seq)
            self.reject(sender, f"{PREFIX}/vibe: {shorten(str(exc))}")
            return
        except Exception:
            self._vibe_done(seq)
            log.exception("vibe model failed on %r", shorten(text, 80))
            self.reject(sender, f"{PREFIX}/vibe: the model failed (see the daemon log)")
            return
        if seq != self._latest_vibe:  # a newer vibe arrived while this one was thinking
            log.info("vibe %r superseded by a newer one", shorten(text, 80))
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
                self._field_feedback(name, exclude=None)
            self.state.title = result.title
            params = self.state.synth_params()
            transition = self.state.transition
        self.tell_everyone(TITLE_PATH, (result.title,), sender)
        log.info("vibe -> %r", result.title)
        return [Crossfade(params, transition)]

    def _vibe_done(self, seq: int) -> None:
        """A vibe failed: edits stop being recorded unless a newer vibe is pending."""
        with self._lock:
            if seq == self._latest_vibe:
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
        self._vibes.shutdown(wait=False, cancel_futures=True)

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

    def reject(self, sender: Sender, reason: str) -> None:
        """One ``/latentscore/error`` reply and one log line (both rate-limited per sender)."""
        self.rejected += 1
        if not self._error_rate.allow(sender.key):
            return
        log.warning("rejected input from %s:%s: %s", sender.host, sender.port, reason)
        self.tell_everyone(ERROR_PATH, (reason,), sender)
