"""BridgeDaemon: one engine, one audio output, OSC in and out, OSCQuery, until told to stop.

Wiring (each part is one module):

    OSC UDP/TCP (osc_server) --+                       +--> FeedbackHub (feedback) --> targets
    OSCQuery WebSocket --------+--> Controller ------+-+
    MIDI in (midi_bridge) -----+    (controller)     +--> LivePerformance (performance)
                                                            render worker -> ring -> device
                                                            +-> NoteStream -> MIDI out

``BridgeDaemon(options).start()`` binds everything and starts playing; ``stop()`` fades
out, closes the device and every socket. ``run()`` does both around a wait for SIGINT or
SIGTERM, which is what ``latentscore bridge`` calls.
"""

from __future__ import annotations

import gc
import logging
import random
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from bridge.controller import Controller, Limits, Sender
from bridge.discovery import Advertiser
from bridge.feedback import FeedbackHub
from bridge.malloc_tuning import start_trimmer, tune_malloc
from bridge.midi_options import MidiOptions
from bridge.osc_codec import OscMessage
from bridge.osc_server import OscTcpServer, OscUdpServer, bind_sockets
from bridge.oscquery import EXTENSIONS, Namespace, OscQueryServer
from bridge.performance import LATENCY_MS, LivePerformance
from bridge.registry import PREFIX, ParamRegistry, build_registry
from bridge.security import AllowList, is_local_bind
from bridge.state import BridgeState
from latentscore.audio_device import NullOutput, OutputBackend, SoundDeviceOutput
from latentscore.config import MusicConfig
from latentscore.jack_output import JackOutput, jack_server_running
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.output_loop import DeviceStatus
from latentscore.vibe import vibe_to_result
from synth.warmup import warm_voices

if TYPE_CHECKING:
    from bridge.link_sync import LinkSync
    from bridge.midi_bridge import MidiBridge

log = logging.getLogger("bridge")


@dataclass
class BridgeOptions:
    """Everything ``latentscore bridge`` can be told (see ``latentscore bridge --help``)."""

    host: str = "127.0.0.1"
    osc_port: int = 9000
    oscquery_port: int | None = 9090  # None: no OSCQuery server; 0: any free port
    send_to: list[tuple[str, int]] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    config: MusicConfig | None = None  # from --preset / --config; a vibe overrides it
    vibe: str | None = None
    bpm: float | None = None  # --bpm: an exact tempo over the config's or vibe's label
    timetags: bool = False  # --timetags: streams sent ahead in bundles stamped when heard
    model: ModelSpec = DEFAULT_MODEL
    seed: int | None = None
    transition: float = 3.0
    volume: float = 0.8
    no_audio: bool = False
    device: int | str | None = None
    backend: OutputBackend | None = None  # overrides no_audio/device (tests, benchmarks)
    latency_ms: float = LATENCY_MS  # render-ahead; see ``latentscore bridge --help``
    feedback_hz: float = 30.0
    limits: Limits = field(default_factory=Limits)
    zeroconf: bool = True
    link: bool = False  # join an Ableton Link session (needs the optional aalink package)
    name: str = "LatentScore"
    echo_own_host: bool = False  # echo a change to UDP targets on the writer's host too
    midi: MidiOptions | None = None  # MIDI in/out, maps, learn, clock (None: no MIDI)


class BridgeDaemon:
    """The running bridge (see the module docstring). Also a context manager."""

    def __init__(self, options: BridgeOptions) -> None:
        self.options = options
        self.registry: ParamRegistry = build_registry()
        self.allow = AllowList(options.allow)
        limits = options.limits
        self.hub = FeedbackHub(
            options.feedback_hz,
            same_host=not options.echo_own_host,
            max_subscriptions=limits.max_subscriptions,
        )
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()
        self._started = False
        self.oscquery: OscQueryServer | None = None
        self.advertiser: Advertiser | None = None
        self.link: LinkSync | None = None  # --link (see bridge.link_sync)
        seed = options.seed if options.seed is not None else random.randrange(2**31)
        config, title = options.config or MusicConfig(), ""
        if options.vibe:  # resolved before anything plays: a bad model fails fast, loudly
            result = vibe_to_result(options.vibe, model=options.model)
            config, title = result.config, result.title
        if options.bpm is not None:
            config = config.with_(bpm=options.bpm)
        self.state = BridgeState(
            config, seed=seed, transition=options.transition, volume=options.volume, title=title
        )
        self.backend = options.backend or _default_backend(options)
        self.performance = LivePerformance(
            self.state.synth_params(),
            seed,
            backend=self.backend,
            emit=self._emit,
            device=options.device,
            latency_ms=options.latency_ms,
            volume=options.volume,
            on_device=self._on_device,
            timetags=options.timetags,
        )
        udp_sock, tcp_sock = bind_sockets(options.host, options.osc_port)
        self.udp = OscUdpServer(udp_sock, self._on_packet, self.allow, options.limits)
        self.controller = Controller(
            self.registry,
            self.state,
            self.performance,
            self.hub,
            model=options.model,
            udp_target=self.udp.target,
            limits=options.limits,
        )
        self.udp.on_drop = self.controller.throttle
        self.udp.on_unreachable = self.hub.unreachable
        self.tcp = OscTcpServer(tcp_sock, self._on_packet, self.allow, limits, self.hub.remove)
        self.midi: MidiBridge | None = None
        if options.midi is not None and options.midi.wanted:
            from bridge.midi_bridge import MidiBridge  # mido only when MIDI is asked for

            try:  # map files are checked here: a bad map fails before anything plays
                self.midi = MidiBridge(
                    options.midi, self.registry, self.controller, self.hub, self.performance
                )
            except BaseException:
                self.udp.sock.close()
                self.tcp.sock.close()
                raise

    # --- properties ----------------------------------------------------------------------
    @property
    def osc_port(self) -> int:
        return self.udp.port

    @property
    def oscquery_port(self) -> int | None:
        return self.oscquery.port if self.oscquery is not None else None

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> BridgeDaemon:
        """Start audio, inputs and outputs; returns self. Raises if a port or device fails."""
        opts = self.options
        tune_malloc()  # before any thread of ours allocates (see bridge.malloc_tuning)
        start_trimmer()
        for host, port in opts.send_to:
            self.hub.add(self.udp.target((_resolve(host), port)))
        self.hub.start()
        # Real-time settings for the render worker: a thread holding the GIL yields it after
        # 1 ms instead of 5 (the ring is a few ms deep), voice caches are filled before the
        # first note (a new style would otherwise stall a block), and everything alive now
        # is exempt from the garbage collector's full passes (they would walk the model's
        # objects and stall every thread for tens of ms).
        sys.setswitchinterval(0.001)
        warm_voices(self.state.synth_params())
        if not opts.vibe:  # (a --vibe has loaded it already)
            self.controller.warm_up()
        gc.collect()
        gc.freeze()
        try:
            if self.midi is not None:  # before the performance, so its first notes are sent
                self.midi.start()
            self.performance.start()
            if opts.link:
                self.link = self._start_link()
            self.udp.start()
            self.tcp.start()
            if opts.oscquery_port is not None:
                namespace = Namespace(self.registry, self.controller.read_value)
                self.oscquery = OscQueryServer(
                    opts.host,
                    opts.oscquery_port,
                    namespace,
                    self.host_info,
                    self.hub,
                    self._on_packet,
                    self.allow,
                )
                self.oscquery.start()
            if opts.zeroconf:
                self.advertiser = Advertiser(
                    opts.name, opts.host, self.osc_port, self.oscquery_port
                )
                self.advertiser.start()
        except BaseException:
            self.stop()
            raise
        self._started = True
        if not self.allow.networks and not is_local_bind(opts.host):
            log.warning("bound to %s without --allow: anyone on the network can steer", opts.host)
        return self

    def stop(self) -> None:
        """Fade out, tell targets we stopped, close the device, sockets and threads.

        Idempotent; a second caller waits until the first has finished stopping.
        """
        with self._stop_lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            self._stop_parts()

    def _start_link(self) -> LinkSync:
        """Join Ableton Link: tempo changes go through the controller like any control."""
        from bridge.link_sync import LinkSync

        sender = Sender(("ableton-link",), "link", 0, "link", lambda packet: True)

        def set_tempo(bpm: float) -> None:
            self.controller.handle_message(OscMessage(f"{PREFIX}/bpm", (bpm,), "f"), sender)

        def set_running(playing: bool) -> None:
            path = f"{PREFIX}/{'play' if playing else 'stop'}"
            self.controller.handle_message(OscMessage(path, (), ""), sender)

        link = LinkSync(
            self.performance,
            set_tempo,
            self.controller.current_params,
            set_running=set_running,
        )
        self.performance.listeners.append(link)
        return link.start()

    def _stop_parts(self) -> None:
        if self.link is not None:
            self.link.close()
        self.performance.close()
        if self.midi is not None:  # after the audio: no notes can follow the all-notes-off
            self.midi.close()
        self.hub.broadcast(f"{PREFIX}/playing", (0,))
        for part in (self.advertiser, self.oscquery, self.tcp, self.udp):
            if part is not None:
                try:
                    part.close()
                except Exception:
                    log.debug("closing %s failed", type(part).__name__, exc_info=True)
        self.controller.close()
        self.hub.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` was called (True) or ``timeout`` passed (False)."""
        return self._stopped.wait(timeout)

    def run(self, on_started: Callable[[], None] | None = None) -> None:
        """Start, serve until SIGINT/SIGTERM, then stop cleanly (for the CLI).

        The signal handler only sets a flag; the shutdown itself (fade heard, MIDI note-offs,
        All Notes Off and Stop sent, device and sockets closed) runs here on the main
        thread, so it has finished before this returns and the interpreter exits.
        """
        previous: dict[int, Any] = {}
        asked = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if not asked.is_set():
                log.info("signal %d: shutting down", signum)
            asked.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
        try:
            self.start()
            if on_started is not None:
                on_started()
            while not asked.wait(0.2) and not self._stopped.is_set():
                if self.performance.error is not None:
                    self.stop()
                    raise self.performance.error
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def __enter__(self) -> BridgeDaemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- plumbing ------------------------------------------------------------------------
    def _on_packet(self, data: bytes, sender: Sender) -> None:
        self.controller.handle_packet(data, sender)

    def _on_device(self, status: DeviceStatus, message: str) -> None:
        """The audio output went away or came back: tell every controller."""
        self.state.audio = "lost" if status == "lost" else "ok"
        self.hub.broadcast(f"{PREFIX}/audio", (self.state.audio,))
        if status == "lost":
            self.hub.broadcast(f"{PREFIX}/error", (message,))

    def _emit(self, name: str, args: tuple[Any, ...], heard_at: float | None = None) -> None:
        """A stream message (note, beat, bar, level): when heard, or ahead with its time."""
        path = f"{PREFIX}/{name}"
        self.hub.broadcast(path, args, heard_at=heard_at, bundled=self.options.timetags)

    def host_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "NAME": self.options.name,
            "OSC_PORT": self.osc_port,
            "OSC_TRANSPORT": "UDP",  # (TCP works on the same port too)
            "EXTENSIONS": dict(EXTENSIONS),
        }
        if self.options.host not in ("0.0.0.0", "::"):
            info["OSC_IP"] = self.options.host
            info["WS_IP"] = self.options.host
        if self.oscquery_port is not None:
            info["WS_PORT"] = self.oscquery_port  # LISTEN runs on the HTTP port
        return info

    def summary(self) -> str:
        """What is listening where, printed at start."""
        opts = self.options
        if opts.no_audio:
            audio = "none (--no-audio)"
        elif isinstance(self.backend, JackOutput):
            audio = f"JACK client {self.backend.name}"
        else:
            audio = f"device {opts.device or 'default'}"
        latency_ms = self.performance.latency_seconds * 1000.0
        lines = [
            f"LatentScore bridge: {self.state.title or 'playing'} (seed {self.state.seed})",
            f"  OSC in      udp+tcp {opts.host}:{self.osc_port}  (TCP: OSC 1.0 size or 1.1 SLIP)",
        ]
        if self.oscquery is not None:
            lines.append(f"  OSCQuery    http://{opts.host}:{self.oscquery_port}/  (+ WebSocket)")
        targets = ", ".join(f"{h}:{p}" for h, p in opts.send_to) or "none (use /subscribe)"
        if opts.timetags:
            targets += "  (streams ahead, time-tagged: --timetags)"
        lines += [
            f"  OSC out     {targets}",
            f"  audio       {audio}, {latency_ms:.1f} ms ahead (--latency)",
            f"  allow       {', '.join(opts.allow) or 'any sender that can reach the port'}",
            f"  addresses   {len(self.registry)} under {PREFIX}/ "
            "(latentscore bridge --list-addresses)",
        ]
        if self.midi is not None:
            lines += self.midi.summary_lines()
        lines.append("  Ctrl-C or SIGTERM stops (fade out).")
        return "\n".join(lines)


def _default_backend(options: BridgeOptions) -> OutputBackend:
    """``--no-audio``: a clocked null device; ``--device jack``, or no ``--device`` while a
    JACK server runs: our own JACK client (survives the server going away); else PortAudio.
    """
    if options.no_audio:
        return NullOutput(realtime=True)
    device = options.device
    wants_jack = isinstance(device, str) and device.strip().lower() == "jack"
    if wants_jack or (device is None and jack_server_running()):
        return JackOutput()  # (it ignores ``device``: JACK is the device)
    return SoundDeviceOutput()


def _resolve(host: str) -> str:
    try:
        return socket.gethostbyname(host)
    except OSError:
        return host
