"""The one real-time output loop: device loss and return, for a player and for the daemon.

A :class:`~latentscore.audio_device.NullOutput` is "unplugged" (its driver stops calling back
and opening fails) and plugged in again: the loop must say so once, keep the producer's
state, reopen by itself and go on playing where the ring left off. The daemon must tell
every controller (``/latentscore/audio`` and ``/latentscore/error``) and keep answering OSC.
The same path on a real JACK server is in ``tests/test_device_loss_jack.py``.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from latentscore.audio_device import NullOutput
from latentscore.output_loop import OutputGain, OutputLoop
from tests.bridge_util import OscClient, running_daemon, wait_for

P = "/latentscore"


class Counter:
    """A producer of a rising ramp (so a skipped or repeated sample would show)."""

    def __init__(self) -> None:
        self.next = 0

    def produce(self, max_samples: int) -> tuple[np.ndarray, bool]:
        out = np.arange(self.next, self.next + max_samples, dtype=np.float64) % 1000 / 1000
        self.next += max_samples
        return out.astype(np.float32), True

    def poll(self) -> None:
        pass


def test_loop_reports_a_lost_device_and_reopens_when_it_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = NullOutput()
    backend.blocks = []
    told: list[str] = []
    loop = OutputLoop(
        Counter(),
        backend=backend,
        device=None,
        sample_rate=44100,
        block_size=256,
        capacity=512,
        step=256,
        max_render=256,
        on_device=lambda status, message: told.append(status),
    ).start()
    try:
        wait_for(lambda: len(backend.blocks) > 20, what="audio")  # type: ignore[arg-type]
        with caplog.at_level(logging.ERROR, logger="latentscore.output_loop"):
            backend.unplug()
            wait_for(lambda: told == ["lost"], 3.0, "the loss to be reported")
        assert loop.device_lost
        assert sum("audio output lost" in r.getMessage() for r in caplog.records) == 1
        played = len(backend.blocks)  # type: ignore[arg-type]
        backend.plug_in()
        wait_for(lambda: told == ["lost", "back"], 4.0, "the device to come back")
        wait_for(lambda: len(backend.blocks) > played + 20, what="audio again")  # type: ignore[arg-type]
        assert not loop.device_lost and loop.stats.device_losses == loop.stats.reopens == 1
        # the ring's samples continue in order across the gap: nothing skipped or repeated
        audio = np.concatenate(backend.blocks)  # type: ignore[arg-type]
        steps = np.diff(audio.astype(np.float64))
        assert np.all((np.abs(steps - 0.001) < 1e-4) | (np.abs(steps + 0.999) < 1e-4))
        assert loop.stats.underruns == 0
    finally:
        loop.close()
    assert not loop._worker.is_alive() and not loop._watchdog.is_alive()


class Stalling(Counter):
    """A producer that takes 40 ms over every 40th block (a ring of 12 ms runs dry)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def produce(self, max_samples: int) -> tuple[np.ndarray, bool]:
        self.calls += 1
        if self.calls % 40 == 0:
            time.sleep(0.04)
        return super().produce(max_samples)


def test_dropouts_are_counted_timed_and_logged_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = OutputLoop(
        Stalling(),
        backend=NullOutput(),
        device=None,
        sample_rate=44100,
        block_size=256,
        capacity=512,
        step=256,
        max_render=256,
        name="stalls",
    )
    with caplog.at_level(logging.WARNING, logger="latentscore.output_loop"):
        loop.start()
        try:
            wait_for(lambda: loop.stats.underruns >= 3, 5.0, "dropouts")
            wait_for(lambda: any("dropout" in r.getMessage() for r in caplog.records), 2.0)
        finally:
            loop.close()
    lines = [r.getMessage() for r in caplog.records if "dropout" in r.getMessage()]
    assert len(lines) == 1  # rate-limited: one line per DROPOUT_LOG_SECONDS, however many
    assert "stalls:" in lines[0] and "--latency" in lines[0]
    assert loop.stats.slowest_render_ms >= 35.0


def test_daemon_tells_controllers_and_keeps_answering_while_the_device_is_gone() -> None:
    backend = NullOutput()
    with running_daemon(backend=backend) as daemon:
        client = OscClient(daemon.osc_port)
        try:
            client.send(f"{P}/subscribe")
            client.wait(f"{P}/level")
            backend.unplug()
            client.wait(f"{P}/audio", lambda m: m.args == ("lost",), timeout=3.0)
            error = client.wait(f"{P}/error", timeout=3.0)
            assert "audio output lost" in str(error.args[0])
            client.send(f"{P}/brightness", 0.9)  # controls still work while it is gone
            assert client.state()[f"{P}/brightness"][0] == pytest.approx(0.9)
            backend.plug_in()
            client.wait(f"{P}/audio", lambda m: m.args == ("ok",), timeout=4.0)
            played = daemon.performance.stats.played_samples
            wait_for(lambda: daemon.performance.stats.played_samples > played + 44100 // 4)
        finally:
            client.close()


def test_output_gain_moves_at_once_or_on_the_exact_sample() -> None:
    gain = OutputGain(1.0, seconds=0.005, sample_rate=44100)
    block = np.ones(256, dtype=np.float32)
    gain.apply(block, 0)
    assert np.all(block == 1.0)
    gain.set(0.0, at=300)  # a timetagged change, rendered ahead: lands on sample 300
    block = np.ones(256, dtype=np.float32)
    gain.apply(block, 256)
    assert np.all(block[:44] == 1.0) and block[44] < 1.0
    assert block[-1] == pytest.approx(1 - 212 / 220, abs=0.01)  # 212 of the 220 ramp samples
    block = np.ones(256, dtype=np.float32)
    gain.apply(block, 512)  # the 5 ms ramp (220 samples) ends inside this block
    assert np.all(np.diff(block[:8]) < 0) and np.all(block[10:] == 0.0)
    gain.set(0.5)  # a live move: from the next block on, ramping (no click)
    block = np.ones(256, dtype=np.float32)
    gain.apply(block, 768)
    assert 0.0 < block[0] < 0.01 and block[-1] == pytest.approx(0.5)
    assert np.max(np.abs(np.diff(block))) < 0.01
