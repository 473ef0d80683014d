"""Player: render-ahead ring buffer, underrun counting, fade-out on stop, device errors.

The device is a swappable backend: :class:`ManualOutput` below calls the player's callback
exactly as PortAudio would (fixed-size blocks to fill), but only when the test says so, which
makes starvation and stop timing deterministic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from latentscore.errors import AudioDeviceError
from latentscore.player import (
    BlockCallback,
    NullOutput,
    Player,
    SampleRing,
    SoundDeviceOutput,
    play_stream,
)

RATE = 44100


class ManualOutput:
    """An output device driven by the test: ``pull()`` runs one device callback."""

    def __init__(self, block_size: int = 512) -> None:
        self.block_size = block_size
        self.callback: BlockCallback | None = None
        self.finished: Callable[[], None] | None = None
        self.active = False
        self.closed = False

    def open(
        self,
        *,
        sample_rate: int,
        block_size: int,
        callback: BlockCallback,
        finished: Callable[[], None],
        device: int | str | None,
    ) -> ManualOutput:
        self.callback, self.finished = callback, finished
        return self

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True

    def pull(self) -> tuple[np.ndarray, bool]:
        assert self.callback is not None and self.finished is not None and self.active
        block = np.full(self.block_size, np.nan, dtype=np.float32)  # device garbage
        more = self.callback(block)
        if not more:
            self.active = False
            self.finished()
        return block, more


def ramp_source(total: int) -> Callable[[int], np.ndarray]:
    """render(n) over a known signal (sample i has value i / total) that ends after total."""
    pos = 0

    def render(n: int) -> np.ndarray:
        nonlocal pos
        k = min(n, total - pos)
        out = (np.arange(pos, pos + k, dtype=np.float64) / total).astype(np.float32)
        pos += k
        return out

    return render


def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def drain(player: Player, out: ManualOutput) -> np.ndarray:
    """Pull blocks until the player finishes, each once the ring can fill it (no starvation)."""
    played = []
    more = True
    while more:
        wait_until(lambda: player.ring.available >= out.block_size or player.loop.source_done)
        block, more = out.pull()
        played.append(block)
    return np.concatenate(played)


def test_ring_keeps_order_across_wraparound() -> None:
    ring = SampleRing(7)
    data = np.arange(100, dtype=np.float32)
    out = np.zeros(100, dtype=np.float32)
    w = r = 0
    rng = np.random.default_rng(1)
    while r < 100:
        w += ring.write(data[w : w + int(rng.integers(0, 6))])
        buf = np.zeros(int(rng.integers(1, 6)), dtype=np.float32)
        got = ring.read_into(buf)
        out[r : r + got] = buf[:got]
        r += got
        assert 0 <= ring.available <= ring.capacity
    np.testing.assert_array_equal(out, data)


def test_plays_every_sample_in_order_without_underruns() -> None:
    total = RATE  # 1 s
    out = ManualOutput()
    player = Player(ramp_source(total), backend=out, buffer_seconds=0.1).start()
    audio = drain(player, out)
    assert player.join(timeout=5)
    np.testing.assert_array_equal(audio[:total], ramp_source(total)(total))
    assert not np.any(audio[total:])  # the end is padded with silence, not garbage
    assert player.stats.underruns == 0 and player.stats.played_samples == total
    assert out.closed and not player.stats.interrupted


def test_iterator_of_odd_sized_chunks() -> None:
    sizes = [1, 700, 5000, 3, 44100, 10]
    chunks = [np.full(s, i / 10, dtype=np.float32) for i, s in enumerate(sizes)]
    out = ManualOutput()
    player = Player(iter(chunks), backend=out, buffer_seconds=0.05).start()
    audio = drain(player, out)[: sum(sizes)]
    assert player.join(timeout=5)
    np.testing.assert_array_equal(audio, np.concatenate(chunks))
    assert player.stats.played_samples == sum(sizes) and player.underruns == 0


def test_starved_callback_outputs_silence_and_counts_underruns() -> None:
    gate = threading.Event()
    calls = 0

    def slow_render(n: int) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls > 1:  # everything after the prefill waits for the test
            gate.wait()
        return np.full(n, 0.5, dtype=np.float32)

    out = ManualOutput(block_size=512)
    player = Player(slow_render, backend=out, buffer_seconds=0.03).start()
    cap = player.ring.capacity
    blocks = [out.pull()[0] for _ in range(cap // 512 + 3)]
    audio = np.concatenate(blocks)
    assert np.all(audio[:cap] == 0.5)
    assert np.all(audio[cap:] == 0.0)  # silence, never device garbage or stale samples
    assert player.underruns == 3 and player.stats.missing_samples == len(audio) - cap
    gate.set()
    player.stop()
    while out.active:
        out.pull()
    assert player.join(timeout=5)


def test_stop_fades_out_over_50ms_then_finishes() -> None:
    out = ManualOutput(block_size=256)

    def loud(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    player = Player(loud, backend=out, buffer_seconds=0.2).start()
    out.pull()
    player.stop()
    blocks = []
    while out.active:
        wait_until(lambda: player.ring.available >= 256)
        blocks.append(out.pull()[0])
    fade = np.concatenate(blocks)
    n = round(0.05 * RATE)
    assert np.all(np.diff(fade) <= 1e-6)  # monotone down: no click
    assert fade[0] > 0.99 and np.all(fade[n:] == 0.0)
    assert np.max(np.abs(np.diff(fade))) < 3.0 / n
    assert player.join(timeout=5)
    assert player.stats.interrupted and player.underruns == 0
    assert not player.loop._worker.is_alive()


def test_source_error_fades_out_and_is_raised_by_join() -> None:
    calls = 0

    def failing(n: int) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("sensor unplugged")
        return np.ones(n, dtype=np.float32)

    player = Player(failing, backend=NullOutput(), buffer_seconds=0.05).start()
    with pytest.raises(RuntimeError, match="sensor unplugged"):
        player.join(timeout=5)


def test_null_output_plays_in_real_time() -> None:
    start = time.monotonic()
    stats = play_stream(ramp_source(RATE // 2), backend=NullOutput())
    elapsed = time.monotonic() - start
    assert 0.45 <= elapsed <= 1.5, elapsed
    assert stats.underruns == 0 and 0.45 <= stats.wall_seconds <= 1.5


def test_missing_device_is_an_audio_device_error() -> None:
    try:
        import sounddevice  # noqa: F401
    except OSError:
        pytest.skip("PortAudio missing: load_sounddevice's error is tested in test_audio")
    player = Player(ramp_source(100), device=987654, backend=SoundDeviceOutput())
    with pytest.raises(AudioDeviceError, match=r"save"):
        player.start()
