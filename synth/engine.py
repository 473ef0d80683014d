"""Engine: the one real-time renderer behind offline renders, streams, live use and the bridge.

Pull API: ``engine.render(n)`` returns the next ``n`` samples (float32, mono, 44.1 kHz, in
[-1, 1]). Internally the engine always works in fixed quanta and hands out slices of them, so
the output is bit-identical whatever block sizes the caller pulls (64-sample callbacks or one
60 s render), and every effect processes a whole quantum as one vector operation.

Two rates. Notes are composed ahead, a bar at a time, whatever the quantum. The quantum is
the *control* rate: what a knob moves (layer mix, sends, chorus, echo, reverb, tone, drive)
is read once per quantum and ramped per sample inside it. Offline renders use 8192-sample
quanta (186 ms: fewest Python steps, fastest); a live engine (``quantum=256``, one JACK
period) answers a knob within one device block at a few per cent of a core.

Per quantum:

1. Controls glide toward the target set by :meth:`set_params` (a one-pole with the
   ``knob_seconds`` time constant, 0.3 s offline; styles, mode and root switch at the next
   bar line).
2. The :class:`~synth.conductor.Conductor` writes any bar that starts within the next
   quantum plus 0.2 s of look-ahead (room for humanised early notes) into the layer buses.
3. Layer buses are mixed (per-layer level x style gain x density presence, ramped across
   the quantum when they change) into four buses: dry, chorus send, echo send, reverb send.
4. Chorus (``stereo``), tempo-synced echo (``echo``), FDN reverb (``space``), the master
   lowpass (``brightness``, swept by the ``motion`` LFO), the loudness leveller, saturation
   (``grain``) and the look-ahead peak limiter.

All state (oscillator phases live inside notes already rendered; filter, echo, reverb,
leveller and limiter state; RNG streams) carries across quanta and across blocks.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synth.conductor import BUS_SIZE, Conductor
from synth.dsp import ramp
from synth.effects.chorus import Chorus
from synth.effects.dynamics import LoudnessLeveller, PeakLimiter
from synth.effects.echo import FeedbackEcho
from synth.effects.reverb import ReverbTail
from synth.effects.tone import ToneFilter
from synth.events import NoteEvent
from synth.params import CONTINUOUS, LAYERS, SAMPLE_RATE, SynthParams

QUANTUM = 8192  # offline control quantum (the default)
LIVE_QUANTUM = 256  # a live engine's control quantum: one device block at 44.1 kHz
LOOKAHEAD = int(0.2 * SAMPLE_RATE)
GLIDE_SECONDS = 0.3
ECHO_BEATS = 0.75  # dotted eighth: the classic ambient / dub echo time

# Mix balance per layer (linear) and how much each layer feeds each effect send. Styles are
# loudness-matched within a layer (their ``gain``); these set the layers against each other.
# Accents are sparse, so they sit high enough that each hit is clearly heard over a full mix
# (momentary loudness of a hit within ~6 LU of the mix).
LAYER_LEVEL = np.array([0.45, 0.42, 0.36, 0.50, 0.30, 0.66], dtype=np.float32)
CHORUS_SEND = np.array([0.0, 1.0, 0.6, 0.0, 0.4, 0.4], dtype=np.float32)
ECHO_SEND = np.array([0.15, 0.45, 1.0, 0.35, 0.6, 1.0], dtype=np.float32)
REVERB_SEND = np.array([0.3, 1.0, 0.9, 0.45, 1.0, 1.0], dtype=np.float32)
REVERB_WET_SCALE = 2.2  # FDN input is energy-normalised; this sets the tail against the dry
# Loudness estimate per unit layer gain, used to start the leveller near its target.
_EST_POWER_PER_GAIN2 = 0.05


def _glide(current: SynthParams, target: SynthParams, alpha: float) -> SynthParams:
    """Move continuous controls a fraction ``alpha`` toward target; copy discrete ones."""
    if current is target:
        return target
    vals: dict[str, Any] = {}  # floats for replace(): every name here is a float field
    moving = False
    for name in (*CONTINUOUS, "density"):
        a, b = getattr(current, name), getattr(target, name)
        if abs(b - a) < 1e-4:
            vals[name] = b
        else:
            vals[name] = a + (b - a) * alpha
            moving = True
    return replace(target, **vals) if moving else target


def _lerp(origin: SynthParams, target: SynthParams, frac: float) -> SynthParams:
    """Continuous controls ``frac`` of the way from origin to target; discrete ones = target."""
    if frac >= 1.0:
        return target
    vals = {
        name: getattr(origin, name) + (getattr(target, name) - getattr(origin, name)) * frac
        for name in (*CONTINUOUS, "density")
    }
    return replace(target, **vals)


class Engine:
    """Block-based real-time synthesizer. See the module docstring for the signal flow.

    ``quantum`` is the control block (a power of two from 64 to 8192, default 8192),
    ``start_beat`` the musical position of sample 0 (a new engine joining a running beat
    grid, see :class:`~synth.conductor.Conductor`),
    ``buses`` optional zeroed layer buses to reuse (see :meth:`release_buses`) and
    ``knob_seconds`` the time constant with which :meth:`set_params` without a glide time
    eases continuous controls (default 0.3 s). For one ``quantum`` the output is
    deterministic and independent of pull sizes; different quanta sound the same music but
    are not sample-identical (controls are sampled on a different grid).
    """

    def __init__(
        self,
        params: SynthParams,
        seed: int = 0,
        sample_rate: int = SAMPLE_RATE,
        *,
        quantum: int = QUANTUM,
        knob_seconds: float = GLIDE_SECONDS,
        buses: NDArray[np.float32] | None = None,
        start_beat: float = 0.0,
    ) -> None:
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"sample_rate: only {SAMPLE_RATE} Hz is supported")
        if not 64 <= quantum <= QUANTUM or quantum & (quantum - 1):
            raise ValueError(f"quantum must be a power of two from 64 to {QUANTUM}, got {quantum}")
        if not knob_seconds > 0:
            raise ValueError(f"knob_seconds must be > 0, got {knob_seconds}")
        self.sample_rate = sample_rate
        self.quantum = quantum
        self.knob_seconds = float(knob_seconds)
        self.seed = int(seed)
        self._target = params.clamped()
        self._current = self._target
        self._ramp: tuple[SynthParams, int, float] | None = None
        self._conductor = Conductor(self.seed, sample_rate, buses, start_beat)
        self._compose_lock = threading.Lock()  # one composer at a time (see compose())
        self._released = False
        self._chorus = Chorus(quantum, sample_rate)
        self._echo = FeedbackEcho(quantum, sample_rate)
        self._reverb = ReverbTail(quantum, sample_rate)
        self._tone = ToneFilter(sample_rate, sub_block=min(2048, max(32, quantum // 4)))
        self._leveller = LoudnessLeveller(quantum, self._initial_gain(self._target), sample_rate)
        self._limiter = PeakLimiter(quantum, sample_rate)
        # the chaotic-motion wander is an AR(1) walk stepped once per quantum; its pole and
        # step size scale with the quantum so every control rate wanders alike
        steps = quantum / QUANTUM
        self._wander_pole = 0.9**steps
        self._wander_sigma = 0.35 if steps == 1 else 0.35 * math.sqrt((1 - 0.81**steps) / 0.19)
        self._mix_key: tuple[object, ...] = ()
        self._mix_rows_cached = np.zeros((4, len(LAYERS)), dtype=np.float32)
        self._mix_rows = self._mix_matrix(self._target)
        self._lfo_phase = 0.0
        self._wander = 0.0
        self._wander_rng = np.random.default_rng(np.random.SeedSequence([self.seed, 7]))
        self._cutoff = self._modulated_cutoff(self._target)
        self._quantum_pos = 0  # sample index where the next quantum starts
        self._out = np.zeros(quantum, dtype=np.float32)
        self._out_read = quantum  # everything in _out consumed
        self.position = 0  # samples handed out so far

    # --- public API ------------------------------------------------------------------------
    @property
    def params(self) -> SynthParams:
        """The target controls (what the engine is gliding toward)."""
        return self._target

    @property
    def current_params(self) -> SynthParams:
        """The controls in force right now (mid-glide values)."""
        return self._current

    def set_params(self, params: SynthParams, glide_seconds: float | None = None) -> None:
        """Change the controls; styles, mode and root switch at the next bar line.

        Continuous values (tempo, brightness, space, ..., density) glide: by default they
        ease toward the target with the ``knob_seconds`` time constant (a knob turn); with
        ``glide_seconds`` they move in a straight line and arrive exactly that long after the
        next quantum starts (a musical transition).
        """
        self._target = params.clamped()
        if glide_seconds is not None and glide_seconds > 0:
            self._ramp = (self._current, self._quantum_pos, glide_seconds * self.sample_rate)
        else:
            self._ramp = None

    def render(self, n_samples: int) -> NDArray[np.float32]:
        """The next ``n_samples`` of audio (float32, mono, in [-1, 1])."""
        if n_samples < 0:
            raise ValueError("n_samples must be >= 0")
        out = np.empty(n_samples, dtype=np.float32)
        filled = 0
        q = self.quantum
        while filled < n_samples:
            if self._out_read >= q:
                self._out = self._render_quantum()
                self._out_read = 0
            take = min(n_samples - filled, q - self._out_read)
            out[filled : filled + take] = self._out[self._out_read : self._out_read + take]
            self._out_read += take
            filled += take
        self.position += n_samples
        return out

    def skip(self, n_samples: int) -> None:
        """Start ``n_samples`` later, before the first render (a crossfade that began late).

        Nearly free: what was composed for the skipped stretch is cleared unheard, notes
        begun in it are joined mid-way, and the effects start from silence there as they
        would have at sample 0.
        """
        if self.position or self._quantum_pos:
            raise RuntimeError("skip() is only possible before the first render")
        whole = max(0, n_samples) // self.quantum * self.quantum  # quanta stay aligned
        if whole:
            with self._compose_lock:
                self._conductor.skip_to(whole)
                self._quantum_pos = whole
                self.position = whole
        if n_samples > whole:
            self.render(n_samples - whole)  # less than a quantum, rendered and dropped

    def sample_at(self, beat: float) -> float:
        """The engine sample at which it reaches musical position ``beat``."""
        return self._conductor.sample_at(beat)

    def tempos_from(self, sample: int) -> set[float]:
        """Every BPM the engine plays from ``sample`` on: of the bars already written there
        and after (mid-glide bars keep the tempo they were composed at), and its current and
        target tempo (bars still to come)."""
        bpms = {60.0 / spb for spb in self._conductor.tempos_from(sample)}
        return bpms | {self._current.bpm, self._target.bpm}

    def compose(self, ahead: int) -> None:
        """Compose bars up to ``ahead`` samples beyond what the next quantum needs.

        For a live engine's background composer thread: the render thread then finds its
        bars written and only mixes and runs the effects. Safe to call concurrently with
        :meth:`render`; a no-op once the buses were released.
        """
        with self._compose_lock:
            if self._released:
                return
            start = self._quantum_pos
            limit = start + self.quantum + LOOKAHEAD + max(0, ahead)
            self._conductor.schedule_until(limit, self._current, start)

    def release_buses(self) -> NDArray[np.float32]:
        """Give up this engine's layer buses (zeroed) for a new engine; it must not render again."""
        with self._compose_lock:
            self._released = True
            with self._conductor.lock:
                return self._conductor.release_buses(self._quantum_pos)

    def drain_events(self) -> list[NoteEvent]:
        """Note events scheduled since the last call (they may start up to ~1 bar ahead)."""
        return self._conductor.take_events()

    def beat_at(self, sample: int) -> float:
        """Musical position (beats) of an absolute sample index, from the scheduled bars."""
        return self._conductor.beat_at(sample)

    # --- internals -------------------------------------------------------------------------
    @staticmethod
    def _layer_gains(p: SynthParams, conductor: Conductor | None = None) -> NDArray[np.float32]:
        gains = np.zeros(len(LAYERS), dtype=np.float32)
        for i, layer in enumerate(LAYERS):
            presence = p.layer_gain(layer)
            if presence <= 0.0:
                continue
            style = conductor.style(layer) if conductor else None
            style_gain = style.gain if style is not None and style.name == p.styles[layer] else 1.0
            gains[i] = LAYER_LEVEL[i] * presence * style_gain
        return gains

    def _mix_matrix(self, p: SynthParams) -> NDArray[np.float32]:
        """Rows: dry, chorus send, echo send, reverb send; one column per layer.

        Cached: it only changes when the controls or a layer's style instance change.
        """
        styles = tuple(self._conductor.style(layer) for layer in LAYERS)
        key = (id(p), tuple(id(s) for s in styles))
        if key == self._mix_key:
            return self._mix_rows_cached
        g = self._layer_gains(p, self._conductor)
        echo = np.array([s.echo_send if s else 1.0 for s in styles], dtype=np.float32)
        reverb = np.array([s.reverb_send if s else 1.0 for s in styles], dtype=np.float32)
        # chorus fades in from mono (its 7 ms base delay must not pop in), then widens
        chorus_wet = (0.35 + 0.4 * p.stereo) * min(1.0, 4.0 * p.stereo)
        rows = np.stack(
            (
                g,
                g * CHORUS_SEND * chorus_wet,
                g * ECHO_SEND * echo * p.echo_wet,
                g * REVERB_SEND * reverb * (REVERB_WET_SCALE * p.reverb_wet),
            )
        )
        self._mix_key, self._mix_rows_cached = key, rows.astype(np.float32)
        return self._mix_rows_cached

    @staticmethod
    def _initial_gain(p: SynthParams) -> float:
        g = Engine._layer_gains(p)
        est = _EST_POWER_PER_GAIN2 * float(np.dot(g, g)) * (1.0 + p.reverb_wet + p.echo_wet)
        target = 10 ** ((-18.0 + 0.691) / 10)
        return float(min(8.0, max(0.125, math.sqrt(target / max(est, 1e-9)))))

    def _modulated_cutoff(self, p: SynthParams) -> float:
        """Brightness cutoff swept by the motion LFO (sine, blending into a random wander)."""
        chaos = min(1.0, max(0.0, (p.motion - 0.75) / 0.25))
        lfo = (1.0 - chaos) * math.sin(self._lfo_phase) + chaos * self._wander
        return float(min(19000.0, p.cutoff_hz * 2.0 ** (p.lfo_depth_oct * 0.5 * lfo)))

    def _render_quantum(self) -> NDArray[np.float32]:
        q = self.quantum
        dt = q / self.sample_rate
        if self._ramp is not None:
            origin, ramp_start, ramp_len = self._ramp
            done = min(1.0, (self._quantum_pos + q - ramp_start) / ramp_len)
            self._current = _lerp(origin, self._target, done)
            if done >= 1.0:
                self._ramp = None
        else:
            alpha = 1.0 - math.exp(-dt / self.knob_seconds)
            self._current = _glide(self._current, self._target, alpha)
        p = self._current
        start = self._quantum_pos
        conductor = self._conductor
        if conductor.scheduled_until < start + q + LOOKAHEAD:  # offline, or the composer lags
            with self._compose_lock:
                conductor.schedule_until(start + q + LOOKAHEAD, p, start)

        # read (and clear) this quantum from the layer buses; layers with nothing written this
        # far ahead are skipped (untouched bus memory is never even paged in)
        s = start % BUS_SIZE
        buses_in = conductor.buses
        layers = np.zeros((len(LAYERS), q), dtype=np.float32)
        with conductor.lock:
            for li, end in enumerate(conductor.bus_end):
                if end > start:
                    layers[li] = buses_in[li, s : s + q]
                    buses_in[li, s : s + q] = 0.0
            conductor.read_floor = start + q

        rows = self._mix_matrix(p)
        if rows is self._mix_rows or np.array_equal(rows, self._mix_rows):
            buses = rows @ layers
        else:
            r = ramp(q) / np.float32(q)
            old = self._mix_rows @ layers
            buses = old + (rows @ layers - old) * r
            self._mix_rows = rows
        # the effect sends already carry their wet levels (folded into the mix rows, so level
        # changes ramp smoothly); everything returns into the dry row in place
        mix, chorus_in, echo_in, reverb_in = buses[0], buses[1], buses[2], buses[3]
        if p.chorus_ms > 0.0:
            mix += self._chorus.process(chorus_in, p.chorus_ms)
        else:
            self._chorus.process(chorus_in, 0.0)  # keep its history current
        delay = round(ECHO_BEATS * 60.0 / p.bpm * self.sample_rate)
        echo_out = self._echo.process(echo_in, delay, p.echo_feedback)
        mix += echo_out
        self._reverb.set_decay(p.reverb_t60, 0.15 + 0.3 * (1.0 - p.brightness))
        reverb_in += echo_out * np.float32(0.5 * REVERB_WET_SCALE * p.reverb_wet)
        mix += self._reverb.process(reverb_in)

        # motion: LFO / wander advance, then the brightness filter sweeps between quanta
        self._lfo_phase = (self._lfo_phase + 2 * math.pi * p.lfo_hz * dt) % (2 * math.pi)
        if p.motion > 0.75:  # "chaotic": a bounded random wander joins the LFO
            step = float(self._wander_rng.normal(0.0, self._wander_sigma))
            self._wander = min(1.0, max(-1.0, self._wander_pole * self._wander + step))
        cutoff = self._modulated_cutoff(p)
        mix = self._tone.process(mix, self._cutoff, cutoff)
        self._cutoff = cutoff

        mix *= self._leveller.gain_for(mix)
        drive = p.drive
        if drive > 0.0:
            # unity gain for quiet signals, rounding-off above: the level stays the leveller's
            g = np.float32(1.0 + 3.0 * drive)
            # (plus a fixed make-up, measured: tanh's rounding costs gritty mixes about 2.5 dB)
            mix = np.tanh(mix * g) * (np.float32(1.0 + 0.33 * drive) / g)
            if drive > 0.5:  # gritty: blend in a sample-rate-reduced copy (lo-fi aliasing)
                crushed = np.repeat(mix[::3], 3)[:q]
                mix = mix + (crushed - mix) * np.float32((drive - 0.5) * 0.7)
        out = self._limiter.process(mix.astype(np.float32, copy=False))
        self._quantum_pos += q
        return out
