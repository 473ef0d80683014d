"""A private JACK server and a sample-exact recorder on it, for tests and benchmarks.

Measurements such as knob-to-ear latency need real parts: the daemon as its own process,
playing into a real JACK graph (as its own JACK client, or through PortAudio), steered over
real UDP and JACK MIDI.
This module provides the two instruments that make that possible:

* :class:`JackServer` starts ``jackd --no-realtime -n <unique name> -d dummy`` (the dummy
  backend runs the graph in real time without a sound card) and stops exactly the process it
  started. Every instance has its own server name, so parallel runs never share a server and
  nothing here ever touches a server it did not start (not even the default one).
  :meth:`JackServer.env` is the environment for child processes: ``JACK_DEFAULT_SERVER``
  points libjack (PortAudio, rtmidi) at this server and ``JACK_NO_START_SERVER`` stops
  libjack from silently starting some other server if this one is gone.
* :class:`Recorder` is a JACK client on that server. It records its audio inputs into a
  preallocated ring together with the JACK frame time of every period, so any recorded sample
  has an absolute frame time; it sends MIDI at exact frames and records the frame each event
  was written at; it records incoming MIDI with frame times. :meth:`Recorder.now_frame` stamps
  an event sent from outside the graph (an OSC datagram) on the same clock.

All times are JACK frame times (``jack_last_frame_time`` in the process callback,
``jack_frame_time`` elsewhere), unwrapped to Python ints, so a latency is a difference of two
frame times divided by the sample rate.
"""

from __future__ import annotations

import collections
import itertools
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

DEFAULT_RATE = 44100
DEFAULT_PERIOD = 256
_WRAP = 1 << 32  # jack_nframes_t is 32-bit: frame times wrap after ~27 h at 44.1 kHz
_NAMES = itertools.count(1)
# While a Recorder is open the interpreter hands the GIL over every 0.5 ms instead of 5 ms:
# the process callback is Python, and a 5.8 ms period cannot wait 5 ms for the GIL while
# another thread analyses audio (that shows up as JACK xruns).
_SWITCH_INTERVAL = 0.0005
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.005


def _hold_switch_interval(hold: bool) -> None:
    global _switch_users, _switch_saved
    with _switch_lock:
        if hold:
            if _switch_users == 0:
                _switch_saved = sys.getswitchinterval()
                sys.setswitchinterval(min(_switch_saved, _SWITCH_INTERVAL))
            _switch_users += 1
        else:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


class JackUnavailable(RuntimeError):
    """jackd is missing, or the server could not be started or reached."""


def _libjack() -> Any:
    """The JACK-Client module, imported on first use: a JackServer alone does not need it.

    Two files of this repo share names with JACK-Client's modules: ``tests/jack.py`` (the
    pytest fixture; pytest puts ``tests/`` on ``sys.path``) and this ``benchmarks/_jack.py``
    (``_jack`` is JACK-Client's compiled part; a script run from ``benchmarks/`` has that
    folder on ``sys.path``). The library is therefore imported with those folders out of the
    path.
    """
    loaded = sys.modules.get("jack")
    if loaded is not None and hasattr(loaded, "Client"):
        return loaded
    repo = Path(__file__).resolve().parents[1]
    shadowing = {repo / "tests", repo / "benchmarks"}
    saved = sys.path[:]
    for name, mark in {"jack": "Client", "_jack": "ffi"}.items():
        module = sys.modules.get(name)
        if module is not None and not hasattr(module, mark):
            del sys.modules[name]  # one of ours, imported under the library's bare name
    try:
        sys.path[:] = [p for p in saved if Path(p or ".").resolve() not in shadowing]
        import jack
    finally:
        sys.path[:] = saved
    return jack


def _probe(name: str) -> bool:
    """True when a JACK server called ``name`` accepts clients (never starts one)."""
    lsp = shutil.which("jack_lsp")
    if lsp is not None:
        env = dict(os.environ, JACK_NO_START_SERVER="1")
        try:
            done = subprocess.run(
                [lsp, "-s", name],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0
    jack = _libjack()  # no jack_lsp on this system: ask libjack directly
    try:
        jack.Client("probe", no_start_server=True, servername=name).close()
    except jack.JackError:
        return False
    return True


class JackServer:
    """A ``jackd`` dummy server under a unique name, started and stopped by this object.

    Use as a context manager, or call :meth:`start` / :meth:`stop` (and :meth:`restart` to
    simulate losing the audio device: the same name comes back, so clients configured with
    :meth:`env` find it again). Only the process this object started is ever signalled, by
    PID: SIGTERM, then SIGKILL after ``stop_timeout``. jackd's output goes to a temporary
    log file (a pipe nobody reads would stall jackd once full) and its tail is quoted when
    the server fails to start.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        rate: int = DEFAULT_RATE,
        period: int = DEFAULT_PERIOD,
        start_timeout: float = 15.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name = name or f"ls-{os.getpid()}-{next(_NAMES)}"
        self.rate = rate
        self.period = period
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @property
    def pid(self) -> int | None:
        """PID of the jackd this object started (None when not running)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: ``os.environ``) with libjack pointed at this server only."""
        env = dict(os.environ if base is None else base)
        env["JACK_DEFAULT_SERVER"] = self.name
        env["JACK_NO_START_SERVER"] = "1"
        return env

    def start(self) -> JackServer:
        """Start jackd and wait until it accepts clients; raises :class:`JackUnavailable`."""
        if self.running:
            return self
        jackd = shutil.which("jackd")
        if jackd is None:
            raise JackUnavailable("jackd not found (apt-get install jackd2)")
        if _probe(self.name):
            raise JackUnavailable(f"a JACK server named {self.name!r} is running and is not ours")
        command = [jackd, "--no-realtime", "-n", self.name, "-d", "dummy", "-r", str(self.rate)]
        command += ["-p", str(self.period)]
        if self._log is not None:  # the log of a killed run
            self._log.unlink(missing_ok=True)
        fd, log = tempfile.mkstemp(prefix=f"jackd-{self.name}-", suffix=".log")
        self._log = Path(log)
        with os.fdopen(fd, "wb") as out:
            # A session of its own: a Ctrl-C in the terminal must not stop jackd before the
            # clients that still use it (PortAudio aborts when its server vanishes first).
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while not _probe(self.name):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                if "Too many servers" in tail:
                    tail += (
                        " (JACK2's table of 8 server names is full, usually of servers that "
                        "were killed instead of stopped; they stay until a server of the same "
                        "name starts again)"
                    )
                raise JackUnavailable(f"jackd -n {self.name} did not start: {tail}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        """Stop the jackd this object started (terminate, then kill); no-op when stopped."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self.stop_timeout)
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None

    def kill(self) -> None:
        """SIGKILL the jackd this object started: an abrupt loss of the audio device.

        JACK2 keeps at most 8 server names registered and frees a killed server's entry only
        when a server of the same name starts again, so follow a kill with :meth:`start`
        (same name) and end with :meth:`stop`; a run of uniquely named servers that are
        killed and never restarted fills the table ("Too many servers already active").
        """
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=self.stop_timeout)

    def restart(self) -> JackServer:
        """Stop and start again under the same name (a lost and recovered audio device)."""
        self.stop()
        return self.start()

    def log_tail(self, chars: int = 400) -> str:
        """The end of jackd's output (for error messages)."""
        if self._log is None or not self._log.exists():
            return ""
        return self._log.read_text(errors="replace").strip()[-chars:]

    def late_clients(self) -> collections.Counter[str]:
        """How often jackd reported each client as not finished in time (its xrun log)."""
        return collections.Counter(
            re.findall(r"client = (.+?) was not finished", self.log_tail(chars=10**7))
        )

    def __enter__(self) -> JackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"JackServer(name={self.name!r}, pid={self.pid}, {self.rate} Hz, {self.period})"


@dataclass
class MidiSend:
    """One MIDI message queued on a :class:`Recorder`'s output.

    ``at`` is the requested absolute frame (None: the first frame of the next period).
    ``frame`` is filled in by the process callback with the frame the event was actually
    written at (the send stamp), and ``done`` is set then.
    """

    data: bytes
    at: int | None
    frame: int | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float = 5.0) -> int:
        """The frame the event went out at; raises TimeoutError if it has not gone out."""
        if not self.done.wait(timeout):
            raise TimeoutError(f"MIDI {self.data.hex()} not sent within {timeout} s")
        assert self.frame is not None
        return self.frame


@dataclass(frozen=True)
class Take:
    """Recorded audio from absolute frame ``start``: ``audio`` is (n, channels) float32.

    ``valid[i]`` is False where nothing was recorded for frame ``start + i`` (before the
    recorder started, after the last period, or a period this client missed); those samples
    are zeros.
    """

    start: int
    audio: np.ndarray
    valid: np.ndarray
    rate: int

    @property
    def stop(self) -> int:
        return self.start + len(self.audio)

    @property
    def complete(self) -> bool:
        return bool(self.valid.all())

    def mono(self) -> np.ndarray:
        """The channels summed (float64), for analysis."""
        summed: np.ndarray = self.audio.astype(np.float64).sum(axis=1)
        return summed


class Recorder:
    """A JACK client that records audio and MIDI with frame times and sends MIDI at exact frames.

    ``channels`` audio inputs (``in_1``...) are copied every period into a preallocated ring
    of ``seconds`` of audio, beside the period's ``last_frame_time``. With ``midi_out`` it owns
    a ``midi_out`` port whose queued events are written in the process callback (in queue
    order) and stamped with the frame they were written at; with ``midi_in`` it records the
    events arriving on ``midi_in`` (up to ``max_midi_events``, 16 bytes each) with their frame.

    The process callback never waits and does no growing allocation: it copies into the ring
    and then publishes the period by incrementing a counter, so readers (:meth:`take`) see
    only complete periods without a lock (the one lock it touches is a sent MIDI event's
    ``threading.Event``). The callback runs Python, so while a Recorder is open the GIL
    switch interval is lowered to 0.5 ms (restored when the last one closes); keep other
    threads' work in numpy calls rather than long pure-Python loops. Use it as a context
    manager or call :meth:`close`.
    """

    def __init__(
        self,
        server: str | JackServer,
        *,
        name: str = "recorder",
        channels: int = 1,
        seconds: float = 30.0,
        midi_out: bool = False,
        midi_in: bool = False,
        max_midi_events: int = 4096,
    ) -> None:
        jack = _libjack()
        servername = server.name if isinstance(server, JackServer) else server
        self._client: Any = jack.Client(name, no_start_server=True, servername=servername)
        self.name: str = self._client.name
        self.rate: int = self._client.samplerate
        self.period: int = self._client.blocksize
        self._inputs = [self._client.inports.register(f"in_{i + 1}") for i in range(channels)]
        self._midi_out: Any = self._client.midi_outports.register("midi_out") if midi_out else None
        self._midi_in: Any = self._client.midi_inports.register("midi_in") if midi_in else None
        self.channels = channels
        self._slots = max(2, math.ceil(seconds * self.rate / self.period))
        self._audio = np.zeros((self._slots, self.period, channels), dtype=np.float32)
        self._times = np.zeros(self._slots, dtype=np.int64)
        self._periods = 0  # periods published; slot k % slots holds period k
        self._wrap = 0
        self._last_raw = -1
        self._queue: collections.deque[MidiSend] = collections.deque()
        self._midi_times = np.zeros(max_midi_events, dtype=np.int64)
        self._midi_data = np.zeros((max_midi_events, 16), dtype=np.uint8)
        self._midi_len = np.zeros(max_midi_events, dtype=np.int16)
        self._midi_count = 0
        self.xruns = 0
        self.odd_periods = 0  # periods whose size differed from the ring's (not recorded)
        self.midi_dropped = 0
        self.server_lost = threading.Event()
        self._closed = False
        self._client.set_process_callback(self._process)
        self._client.set_xrun_callback(self._on_xrun)
        self._client.set_shutdown_callback(self._on_shutdown)
        _hold_switch_interval(True)
        self._client.activate()

    # --- the process callback (JACK's thread) ------------------------------------------------
    def _process(self, frames: int) -> None:
        raw = self._client.last_frame_time
        if raw < self._last_raw:
            self._wrap += _WRAP
        self._last_raw = raw
        now = raw + self._wrap
        if self._midi_in is not None:
            for offset, data in self._midi_in.incoming_midi_events():
                k = self._midi_count
                if k >= len(self._midi_times):
                    self.midi_dropped += 1
                    continue
                n = min(len(data), 16)
                self._midi_data[k, :n] = np.frombuffer(data, dtype=np.uint8, count=n)
                self._midi_len[k] = n
                self._midi_times[k] = now + offset
                self._midi_count = k + 1
        if self._midi_out is not None:
            self._midi_out.clear_buffer()
            last = 0  # JACK wants events in time order within a period
            while self._queue:
                event = self._queue[0]
                offset = 0 if event.at is None else event.at - now
                if offset >= frames:
                    break  # due in a later period
                offset = last = max(last, offset)
                self._midi_out.write_midi_event(offset, event.data)
                self._queue.popleft()
                event.frame = now + offset
                event.done.set()
        if frames != self.period:
            self.odd_periods += 1
            return
        slot = self._periods % self._slots
        for c, port in enumerate(self._inputs):
            self._audio[slot, :, c] = port.get_array()
        self._times[slot] = now
        self._periods += 1  # publish last: readers never see a half-written period

    def _on_xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1

    def _on_shutdown(self, status: Any, reason: str) -> None:
        self.server_lost.set()

    # --- clock -------------------------------------------------------------------------------
    def now_frame(self) -> int:
        """JACK's estimate of the current frame time: the stamp for an event sent right now."""
        raw = int(self._client.frame_time)
        t = raw + self._wrap
        latest = self.captured_until()
        if latest and t < latest - _WRAP // 2:  # wrapped since the last period
            t += _WRAP
        return t

    def captured_until(self) -> int:
        """One past the last recorded frame (0 before the first period)."""
        n = self._periods
        if n == 0:
            return 0
        return int(self._times[(n - 1) % self._slots]) + self.period

    def wait_captured(self, frame: int, timeout: float = 5.0) -> None:
        """Block until every frame before ``frame`` has been recorded."""
        deadline = time.monotonic() + timeout
        while self.captured_until() < frame:
            if self.server_lost.is_set():
                raise JackUnavailable("the JACK server went away")
            if time.monotonic() > deadline:
                raise TimeoutError(f"frame {frame} not recorded within {timeout} s")
            time.sleep(0.005)

    # --- audio -------------------------------------------------------------------------------
    def take(self, start: int, stop: int) -> Take:
        """The recorded audio for frames ``start`` .. ``stop`` (see :class:`Take`).

        Raises ValueError when part of the span has already been overwritten in the ring
        (ask for less, or record with more ``seconds``).
        """
        n = max(0, stop - start)
        audio = np.zeros((n, self.channels), dtype=np.float32)
        valid = np.zeros(n, dtype=bool)
        published = self._periods
        # The slot the callback may be writing right now held period published - slots.
        first = max(0, published - self._slots + 1)
        if published >= self._slots and start < int(self._times[first % self._slots]):
            raise ValueError("the start of that span is no longer in the ring; keep more seconds")
        ks = np.arange(first, published)
        starts = self._times[ks % self._slots]
        overlapping = ks[(starts + self.period > start) & (starts < stop)]
        if overlapping.size:
            # One vectorised copy (no per-period Python loop holding the GIL).
            slots = overlapping % self._slots
            source = self._audio[slots]
            where = (self._times[slots] - start)[:, None] + np.arange(self.period)[None, :]
            inside = (where >= 0) & (where < n)
            audio[where[inside]] = source[inside]
            valid[where[inside]] = True
            if int(overlapping[0]) < self._periods - self._slots + 1:
                raise ValueError("recording overwritten while reading; keep more seconds")
        return Take(start, audio, valid, self.rate)

    # --- MIDI --------------------------------------------------------------------------------
    def send_midi(self, data: bytes | Sequence[int], at: int | None = None) -> MidiSend:
        """Queue a MIDI message for ``at`` (absolute frame; None: the next period's start).

        Returns its :class:`MidiSend`; ``.wait()`` gives the frame it went out at (a frame
        already past goes out at the start of the next period, and is stamped so).
        """
        if self._midi_out is None:
            raise RuntimeError("this Recorder has no MIDI output (midi_out=True)")
        event = MidiSend(bytes(data), at)
        self._queue.append(event)
        return event

    def midi_events(self) -> list[tuple[int, bytes]]:
        """Every MIDI message received so far on ``midi_in``, as (frame, bytes)."""
        n = self._midi_count
        return [
            (int(self._midi_times[i]), bytes(self._midi_data[i, : self._midi_len[i]]))
            for i in range(n)
        ]

    # --- ports -------------------------------------------------------------------------------
    @property
    def input_ports(self) -> list[str]:
        return [p.name for p in self._inputs]

    @property
    def midi_out_port(self) -> str:
        if self._midi_out is None:
            raise RuntimeError("this Recorder has no MIDI output (midi_out=True)")
        return str(self._midi_out.name)

    @property
    def midi_in_port(self) -> str:
        if self._midi_in is None:
            raise RuntimeError("this Recorder has no MIDI input (midi_in=True)")
        return str(self._midi_in.name)

    def output_ports(self, *, midi: bool = False, pattern: str = "") -> list[str]:
        """Other clients' audio (or MIDI) output ports, without ``system:`` and our own."""
        ports = self._client.get_ports(
            name_pattern=pattern, is_audio=not midi, is_midi=midi, is_output=True
        )
        own = f"{self.name}:"
        return [p.name for p in ports if not p.name.startswith(("system:", own))]

    def input_ports_of(self, *, midi: bool = False, pattern: str = "") -> list[str]:
        """Other clients' audio (or MIDI) input ports, without ``system:`` and our own."""
        ports = self._client.get_ports(
            name_pattern=pattern, is_audio=not midi, is_midi=midi, is_input=True
        )
        own = f"{self.name}:"
        return [p.name for p in ports if not p.name.startswith(("system:", own))]

    def wait_for_output_ports(
        self,
        *,
        client: str | None = "LatentScore",
        exclude: Collection[str] = (),
        timeout: float = 30.0,
        settle: float = 0.2,
    ) -> list[str]:
        """Audio output ports that appear, of a client whose name starts with ``client``.

        ``exclude`` lists ports that were there before (take :meth:`output_ports` before
        starting the program you want to hear), so a client that has not finished closing
        is never mistaken for the new one. Waits ``settle`` seconds after the first port
        appears, so a stereo client has registered all of its ports.
        """
        pattern = f"^{re.escape(client)}" if client else ""
        deadline = time.monotonic() + timeout
        while True:
            found = [p for p in self.output_ports(pattern=pattern) if p not in exclude]
            if found:
                time.sleep(settle)
                return sorted(p for p in self.output_ports(pattern=pattern) if p not in exclude)
            if self.server_lost.is_set():
                raise JackUnavailable("the JACK server went away")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no new {client or 'audio'} output port within {timeout} s")
            time.sleep(0.05)

    def connect_inputs(self, sources: Sequence[str]) -> None:
        """Connect source port ``i`` to input ``i % channels`` (JACK sums shared inputs)."""
        for i, source in enumerate(sources):
            self._client.connect(source, self._inputs[i % self.channels])

    def connect_midi_out(self, destination: str) -> None:
        self._client.connect(self._midi_out, destination)

    def connect_midi_in(self, source: str) -> None:
        self._client.connect(source, self._midi_in)

    # --- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """Leave the graph (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if not self.server_lost.is_set():
            self._client.deactivate()  # no process callback runs after this returns
        self._client.close()
        _hold_switch_interval(False)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
