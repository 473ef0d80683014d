"""LinkSync: the daemon's beat grid joined to an Ableton Link session (``--link``).

Ableton Link keeps a tempo and a beat timeline shared by every peer on the LAN (Ableton
Live, Bitwig with its extension, TouchDesigner's Link CHOP, Max, VCV Rack, ...). With
``--link`` the daemon is one more peer, through the optional ``aalink`` package
(``pip install 'latentscore[link]'``; Link itself is GPL-2.0+, so it stays an extra).

Every 20 ms a poller thread compares two clocks read at the same instant: Link's beat
(``Link.beat``, on the host's monotonic clock, as our audio clock is) and the beat our
output is playing, extrapolated from the last rendered block (a
:class:`~bridge.performance.PerformanceListener`: the render thread only stores a tuple).

* **Tempo**: when the session's tempo changes, ours follows exactly (folded by octaves only
  outside the engine's 40..200 BPM, like MIDI clock in); when ours changes (a fader, a
  vibe, ``/latentscore/bpm``), the session follows us. The last change wins, as between
  Link peers.
* **Phase**: our bars line up with Link's quantum (4 beats). When the median error of the
  last ``ERROR_WINDOW`` readings exceeds ``PHASE_TOLERANCE`` beats, with the tempo settled,
  a short crossfade to an engine on the shifted grid corrects it (the grid moves at one
  scheduled sample), at most every ``REALIGN_SECONDS``. A single reading can be late (the
  machine was busy between reading the two clocks), so no single reading moves the grid.
  Clocks that agree stay locked; a tempo change realigns once.
* **Start/stop**: Link's start/stop sync is joined. A peer pressing play or stop (Live's
  transport, TouchDesigner's Link CHOP) plays or stops us (with our usual short fades);
  our ``/latentscore/play`` and ``/stop`` (or a MIDI button) start and stop the session.

Everything here runs off the render thread and never blocks it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from bridge.midi_clock import fold_bpm
from bridge.performance import Crossfade, LivePerformance, RenderedBlock, TransportEvent
from synth.params import SynthParams

log = logging.getLogger("bridge.link")

QUANTUM = 4.0  # beats per Link phase cycle: our bar
POLL_SECONDS = 0.02
PHASE_TOLERANCE = 0.06  # beats (30 ms at 120 BPM)
ERROR_WINDOW = 25  # polls (0.5 s) whose median phase error decides (readings jitter)
REALIGN_SECONDS = 3.0  # at most one realignment this often
REALIGN_AHEAD_SECONDS = 0.05  # the grid moves this far ahead of what is rendered
REALIGN_FADE_SECONDS = 0.25
TEMPO_EPSILON = 0.02  # BPM: smaller differences are rounding, not a change


class LinkUnavailable(RuntimeError):
    """Ableton Link cannot be used here (the optional package is missing)."""


class LinkSession:
    """An ``aalink.Link`` (disabled until :meth:`LinkSync.start`) with the asyncio loop it
    needs, run on a thread of its own; :meth:`close` leaves the session and stops the loop.

    Raises :class:`LinkUnavailable` without the optional package.
    """

    def __init__(self, bpm: float) -> None:
        try:
            import aalink
        except ImportError:
            raise LinkUnavailable(
                "Ableton Link needs the optional 'aalink' package: pip install 'latentscore[link]'"
            ) from None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="link-loop", daemon=True
        )
        self._thread.start()

        async def make() -> Any:  # aalink binds to the running loop it is made on
            return aalink.Link(bpm)

        self.link: Any = asyncio.run_coroutine_threadsafe(make(), self._loop).result(5.0)

    def close(self) -> None:
        self.link.enabled = False
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=1.0)


def wrap_phase(beats: float, quantum: float = QUANTUM) -> float:
    """``beats`` folded into [-quantum/2, quantum/2): the shortest way round the cycle."""
    return (beats + quantum / 2) % quantum - quantum / 2


class LinkSync:
    """Keeps a :class:`LivePerformance`'s tempo and bar phase on a Link session.

    ``set_tempo(bpm)`` applies an exact tempo as a control change would and
    ``set_running(playing)`` plays or stops (the daemon routes both through its controller,
    so feedback and state follow); ``params()`` gives the current engine params for a
    realigning crossfade. Without ``set_running`` start/stop sync stays off.
    """

    def __init__(
        self,
        performance: LivePerformance,
        set_tempo: Callable[[float], None],
        params: Callable[[], SynthParams],
        *,
        set_running: Callable[[bool], None] | None = None,
        session: LinkSession | None = None,
    ) -> None:
        self.performance = performance
        self._set_tempo = set_tempo
        self._set_running = set_running
        self._params = params
        self.session = session or LinkSession(performance.performer.params.bpm)
        self.link: Any = self.session.link
        self._last: tuple[int, int, float, float] | None = None  # (start, length, b0, b1)
        self._running = True
        self._seen_tempo: float | None = None
        self._realigned_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="bridge-link", daemon=True)
        self._errors: collections.deque[float] = collections.deque(maxlen=ERROR_WINDOW)
        self.realignments = 0
        self.last_error: float | None = None  # beats, at the last poll (for tests and logs)
        self._seen_playing: bool | None = None  # the session's transport, as last seen
        self._lead_playing: bool | None = None  # our play/stop, for the session (poller)

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> LinkSync:
        self.link.quantum = QUANTUM
        self.link.start_stop_sync_enabled = self._set_running is not None
        self.link.enabled = True
        self._thread.start()
        log.info("Ableton Link on: %.2f BPM, %d peer(s)", self.link.tempo, self.link.num_peers)
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        self.session.close()

    # --- performance listener (render thread: store and return) --------------------------
    def rendered(self, block: RenderedBlock) -> None:
        if block.beats is not None:
            self._last = (block.start, block.length, block.beats[0], block.beats[1])

    def transport(self, sample: int, event: TransportEvent) -> None:
        if event in ("play", "stop"):
            self._running = event == "play"
            self._lead_playing = self._running  # the poller tells the session
            self._last = None

    # --- poller --------------------------------------------------------------------------
    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.step()
            except Exception:  # a Link hiccup must not end syncing
                log.exception("Link sync step failed")

    def our_beat_at(self, sample: float) -> tuple[float, float] | None:
        """(our beat at output ``sample``, current BPM) from the last rendered block."""
        last = self._last
        if last is None or not self._running:
            return None
        start, length, b0, b1 = last
        if length <= 0 or b1 <= b0:
            return None
        per_sample = (b1 - b0) / length
        return b0 + (sample - start) * per_sample, per_sample * self.performance.sample_rate * 60

    def _read_clocks(self) -> tuple[float, float, float]:
        """(output sample heard now, Link beat then, Link tempo), read close together: a
        thread switch between the two reads would show up as a phase error (retried)."""
        clock = self.performance.loop.clock
        tight = 0.002 * self.performance.sample_rate
        for _ in range(5):
            before = clock.now_sample()
            beat, tempo = float(self.link.beat), float(self.link.tempo)
            after = clock.now_sample()
            if after - before <= tight:
                break
        return (before + after) / 2, beat, tempo

    def sync_transport(self) -> None:
        """Start/stop: our play or stop leads the session; the session's change leads us."""
        if self._set_running is None:
            return
        link = self.link
        lead, self._lead_playing = self._lead_playing, None
        if lead is not None:
            if bool(link.playing) != lead:
                log.info("%s the Link session", "starting" if lead else "stopping")
                link.playing = lead
            self._seen_playing = lead
            return
        playing = bool(link.playing)
        if self._seen_playing is None:
            self._seen_playing = playing  # joining: take no action on the state we found
        elif playing != self._seen_playing:
            self._seen_playing = playing
            if playing != self._running:
                log.info("Link session %s: following", "started" if playing else "stopped")
                self._set_running(playing)

    def step(self) -> None:
        """One comparison of the two clocks: follow or lead the tempo, realign the phase."""
        self.sync_transport()
        link = self.link
        now, link_beat, link_tempo = self._read_clocks()
        ours = self.our_beat_at(now)
        target = self._params().bpm
        if self._seen_tempo is None or abs(link_tempo - self._seen_tempo) > TEMPO_EPSILON:
            self._seen_tempo = link_tempo  # the session moved: follow it
            if abs(fold_bpm(link_tempo) - target) > TEMPO_EPSILON:
                log.info("Link tempo %.2f BPM: following", link_tempo)
                self._set_tempo(round(fold_bpm(link_tempo), 4))
            return
        ratio = fold_bpm(link_tempo) / link_tempo  # we play at the folded tempo (2**k)
        if abs(target - link_tempo * ratio) > TEMPO_EPSILON:  # ours moved: lead
            lead = target / ratio
            log.info("tempo %.2f BPM: setting the Link session's", lead)
            link.tempo = lead
            self._seen_tempo = lead
            return
        if ours is None:
            return
        beat, playing_bpm = ours
        # Link agrees on beats modulo its quantum; at a folded tempo that is 4 * ratio of ours
        error = wrap_phase(link_beat * ratio - beat, QUANTUM * ratio)
        self.last_error = error
        settled = abs(playing_bpm - target) < TEMPO_EPSILON * 5
        if not settled:
            self._errors.clear()
            return
        self._errors.append(error)
        if len(self._errors) < ERROR_WINDOW:
            return
        typical = statistics.median(self._errors)  # one late clock reading is not a drift
        wall = time.monotonic()
        if abs(typical) > PHASE_TOLERANCE and wall - self._realigned_at > REALIGN_SECONDS:
            self._realign(typical)
            self._realigned_at = wall
            self._errors.clear()

    def _realign(self, error: float) -> None:
        """Shift our grid by ``error`` beats at a sample just ahead of what is rendered."""
        perf = self.performance
        at = perf.written + round(REALIGN_AHEAD_SECONDS * perf.sample_rate)
        ours = self.our_beat_at(at)
        if ours is None:
            return
        beat = ours[0] + error
        self.realignments += 1
        log.info("Link phase off by %+.3f beats: realigning at beat %.3f", error, beat)
        params = self._params

        def realign() -> list[Crossfade]:
            return [Crossfade(params(), REALIGN_FADE_SECONDS, at_beat=beat)]

        perf.schedule(at, realign)
