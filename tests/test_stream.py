"""ls.stream / AudioStream / Timeline: lazy chunks, exact transitions, saving, no seams."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

import latentscore as ls
from latentscore import MusicConfig, MusicConfigUpdate, Step, Streamable
from latentscore.params import to_synth_params
from latentscore.stream import AudioStream
from latentscore.timeline import Timeline
from synth.analysis import boundary_click_ratio, spectral_centroid
from synth.performer import Performer
from synth.repetition import find_verbatim_repeat

SR = 44100
CALM = MusicConfig(tempo="slow", human="robotic", density=3)
GROOVE = MusicConfig(tempo="medium", mode="major", root="d", rhythm="soft_four", human="robotic")


def samples(stream: AudioStream) -> np.ndarray:
    return np.concatenate(list(stream))


# --- iteration and ending ---------------------------------------------------------------------
def test_chunks_are_float32_and_total_length_is_exact() -> None:
    items = (CALM, Streamable(GROOVE, duration=1.3), MusicConfigUpdate(brightness=Step(1)))
    stream = ls.stream(*items, duration=0.77, transition=0.2, chunk_seconds=0.5, seed=1)
    chunks = list(stream)
    assert all(c.dtype == np.float32 and c.ndim == 1 for c in chunks)
    assert all(c.size == round(0.5 * SR) for c in chunks[:-1])
    assert 0 < chunks[-1].size <= round(0.5 * SR)
    total = sum(c.size for c in chunks)
    assert total == stream.n_samples == round((0.77 + 1.3 + 0.77) * SR)
    assert stream.duration == pytest.approx(0.77 + 1.3 + 0.77)
    x = np.concatenate(chunks)
    assert np.all(np.abs(x) <= 1.0) and np.sqrt(np.mean(x**2)) > 1e-3


def test_stream_is_lazy_and_reiterable() -> None:
    stream = ls.stream(CALM, duration=3600, chunk_seconds=1.0, seed=4)  # an hour: never whole
    it = iter(stream)
    first = [next(it) for _ in range(3)]
    again = [next(iter(stream))]
    assert np.array_equal(first[0], again[0])
    assert stream.n_samples == 3600 * SR


def test_seed_is_reported_and_reproduces() -> None:
    stream = ls.stream(CALM, duration=1.0)
    assert isinstance(stream.seed, int)
    same = ls.stream(CALM, duration=1.0, seed=stream.seed)
    assert np.array_equal(samples(stream), samples(same))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"duration": 0}, "duration"),
        ({"duration": -1.0}, "duration"),
        ({"duration": math.inf}, "duration"),
        ({"duration": math.nan}, "duration"),
        ({"transition": -0.5}, "transition"),
        ({"transition": math.nan}, "transition"),
        ({"chunk_seconds": 0}, "chunk_seconds"),
        ({"chunk_seconds": 0.001}, "chunk_seconds"),
        ({"chunk_seconds": 1000}, "chunk_seconds"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ls.InvalidConfigError) as err:
        ls.stream(CALM, **kwargs)
    assert err.value.field == field
    assert field in str(err.value)


def test_empty_and_bad_items_are_rejected_clearly() -> None:
    with pytest.raises(ls.InvalidConfigError, match="no items") as err:
        ls.stream()
    assert err.value.field == "items"
    with pytest.raises(ls.InvalidConfigError, match=r"items\[1\]"):
        ls.stream(CALM, 42)
    with pytest.raises(ls.InvalidConfigError, match="duration"):
        Streamable(CALM, duration=0)


def test_vibe_text_items_resolve_when_the_stream_reaches_them() -> None:
    stream = ls.stream(CALM, "frantic chase through neon streets", duration=1.0, seed=1)
    x = samples(stream)
    assert x.size == 2 * SR and np.all(np.isfinite(x))
    with pytest.raises(ls.InvalidConfigError, match="empty"):
        next(iter(ls.stream(" ", duration=1.0)))


def test_transition_longer_than_item_is_clamped() -> None:
    stream = ls.stream(CALM, GROOVE, duration=1.0, transition=30.0, seed=2)
    x = samples(stream)
    assert x.size == 2 * SR
    assert np.all(np.isfinite(x))


# --- transitions where asked ------------------------------------------------------------------
def reference_crossfade(first: float, second: float, transition: float, seed: int) -> np.ndarray:
    """CALM then GROOVE, driven by hand on a Performer with the boundary at its exact sample."""
    performer = Performer(to_synth_params(CALM), seed=seed)
    boundary = round(first * SR)
    head = performer.render(boundary)
    performer.crossfade_to(to_synth_params(GROOVE), transition)
    tail = performer.render(round((first + second) * SR) - boundary)
    out = np.concatenate([head, tail])
    # every performance ends with a 50 ms equal-power fade over the last item's final samples
    fade = round(0.05 * SR)
    out[-fade:] *= np.sin(np.arange(fade, 0, -1) / fade * (np.pi / 2)).astype(np.float32)
    return out


@pytest.mark.parametrize("chunk_seconds", [0.05, 0.37, 1.0, 2.9])
def test_crossfade_starts_at_the_boundary_sample_for_any_chunk_size(chunk_seconds: float) -> None:
    stream = ls.stream(
        CALM, GROOVE, duration=2.3, transition=0.5, chunk_seconds=chunk_seconds, seed=6
    )
    assert np.array_equal(samples(stream), reference_crossfade(2.3, 2.3, 0.5, seed=6))


@pytest.mark.parametrize("chunk_seconds", [0.1, 0.7, 1.0])
def test_new_config_notes_start_at_the_boundary(chunk_seconds: float) -> None:
    audio = ls.stream(
        CALM, GROOVE, duration=3.1, transition=1.0, chunk_seconds=chunk_seconds, seed=3
    ).collect()
    boundary = round(3.1 * SR)
    assert audio.metadata.boundaries == (0, boundary)
    rhythm = sorted((n for n in audio.notes if n.layer == "rhythm"), key=lambda n: n.start_sample)
    assert rhythm, "the second config has a rhythm layer"
    # the beat grid runs on through the transition: the new rhythm's first hit is the first
    # grid position (robotic timing: on a sixteenth) at or after the boundary, not a restart
    boundary_beat = boundary / (60.0 / to_synth_params(CALM).bpm * SR)
    first = rhythm[0]
    assert first.start_sample >= boundary
    assert boundary_beat <= first.start_beat < boundary_beat + 1.0
    assert first.start_beat * 4 == pytest.approx(round(first.start_beat * 4), abs=1e-3)
    assert all(n.start_sample < audio.samples.size for n in audio.notes)


def test_timeline_pushes_are_relative_to_the_last_item_and_late_items_start_now() -> None:
    tl = Timeline(seed=0)
    tl.push_item(CALM, duration=1.0, transition=0.5)
    cue = tl.push_item(MusicConfigUpdate(brightness=Step(1)), duration=1.0, transition=0.5)
    assert cue.glide and cue.config.brightness == "bright"
    assert tl.end == 2 * SR
    tl.render(3 * SR)  # past the end: the last config keeps playing
    start = tl.push_item(GROOVE, duration=1.0, transition=0.5)
    assert not start.glide
    assert tl.scheduled[-1][0] == 3 * SR and tl.end == 4 * SR


def test_silence_before_the_first_cue_and_events_on_the_timeline_clock() -> None:
    tl = Timeline(seed=0)
    assert not np.any(tl.render(1000))
    tl.push_item(GROOVE, duration=2.0, transition=0.0)
    assert tl.scheduled[0][0] == 1000
    tl.render(2 * SR)
    events = tl.events()
    assert events and min(e.start_sample for e in events) == 1000
    assert tl.events() == []


# --- glides, crossfade loudness, clicks ---------------------------------------------------------
def test_step_update_glides_on_the_same_engine_and_brightens() -> None:
    tl = Timeline(seed=9)
    base = MusicConfig(tempo="slow", brightness="dark", density=3)
    tl.push_item(base, duration=6.0, transition=0.0)
    cue = tl.push_item(MusicConfigUpdate(brightness=Step(1)), duration=6.0, transition=2.0)
    assert cue.glide
    before = tl.render(6 * SR)
    assert tl.performer is not None
    engine = tl.performer.engine
    after = tl.render(6 * SR)
    assert tl.performer.engine is engine, "a brightness Step must glide, not start an engine"
    lo = spectral_centroid(before[2 * SR :], SR)
    hi = spectral_centroid(after[3 * SR :], SR)
    assert hi > 1.2 * lo
    # and it rises across the transition rather than jumping
    mid = spectral_centroid(after[: 2 * SR], SR)
    assert lo < mid < hi


def rms_db(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(np.square(x, dtype=np.float64))))


@pytest.mark.parametrize("seed", [0, 1])
def test_crossfade_is_equal_power(seed: int) -> None:
    a = MusicConfig(tempo="slow", pad="warm_slow", density=3)
    b = MusicConfig(tempo="slow", mode="major", root="d", pad="cinematic", density=3)
    x = ls.stream(a, b, duration=10, transition=4, seed=seed).collect().samples
    before, after = rms_db(x[6 * SR : 10 * SR]), rms_db(x[15 * SR : 20 * SR])
    assert abs(before - after) < 2.0, "the two sides should be of similar loudness"
    for k in range(4):  # each second of the fade
        level = rms_db(x[(10 + k) * SR : (11 + k) * SR])
        assert abs(level - before) < 2.0 and abs(level - after) < 2.0, (k, level, before, after)


def test_no_clicks_at_chunk_transition_and_update_boundaries() -> None:
    items = (
        CALM,
        GROOVE,
        MusicConfigUpdate(brightness=Step(2), space=Step(1)),
        Streamable(MusicConfigUpdate(tempo=Step(-1), echo=Step(2)), transition_duration=0.0),
        Streamable(MusicConfig(mode="dorian", bass="pulsing"), transition_duration=0.0),
    )
    stream = ls.stream(*items, duration=3.0, transition=1.0, chunk_seconds=0.35, seed=12)
    audio = stream.collect()
    x = audio.samples
    chunk_edges = list(range(stream.chunk_samples, x.size, stream.chunk_samples))
    assert boundary_click_ratio(x, chunk_edges) <= 4.0
    transitions = list(audio.metadata.boundaries[1:])
    assert boundary_click_ratio(x, transitions) <= 4.0
    fade_ends = [b + SR for b in audio.metadata.boundaries[1:3]]
    assert boundary_click_ratio(x, fade_ends) <= 4.0


@pytest.mark.slow
def test_ten_minute_stream_never_repeats_a_two_second_segment() -> None:
    # Ten one-minute items of one config: the item boundaries must not restart anything.
    config = ls.presets.load("lofi_study")
    x = samples(ls.stream(*[config] * 10, duration=60, transition=5, seed=21))
    assert x.size == 600 * SR
    match = find_verbatim_repeat(x, SR, seg_s=2.0)
    assert match is None, f"{match.start / SR:.2f} s repeats {match.lag / SR:.3f} s later"


# --- collect / save / play ----------------------------------------------------------------------
def test_collect_returns_audio_with_notes_and_info() -> None:
    stream = ls.stream(CALM, GROOVE, duration=2.0, transition=0.5, chunk_seconds=0.3, seed=8)
    audio = stream.collect()
    assert isinstance(audio, ls.Audio)
    assert np.array_equal(audio.samples, samples(stream))
    assert audio.seed == 8 and audio.notes
    assert audio.metadata.items == (CALM, GROOVE) and audio.metadata.seed == 8
    assert audio.tempo_bpm == pytest.approx(to_synth_params(CALM).clamped().bpm)


def test_save_wav_equals_collect_and_leaves_no_temp_file(tmp_path: Path) -> None:
    stream = ls.stream(CALM, GROOVE, duration=1.5, transition=0.5, chunk_seconds=0.25, seed=5)
    out = stream.save(tmp_path / "s.wav", subtype="FLOAT")  # bit-exact; the default is PCM_16
    data, sr = soundfile.read(out, dtype="float32")
    assert sr == SR and np.array_equal(data, stream.collect().samples)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.wav"]


@pytest.mark.parametrize("ext", [".flac", ".ogg"])
def test_save_compressed_formats(tmp_path: Path, ext: str) -> None:
    out = ls.stream(CALM, duration=1.0, seed=1).save(tmp_path / f"s{ext}")
    info = soundfile.info(out)
    assert info.samplerate == SR and info.channels == 1
    assert abs(info.frames - SR) <= 2048  # Vorbis pads to its block size


def test_save_rejects_unknown_extension_and_subtype(tmp_path: Path) -> None:
    stream = ls.stream(CALM, duration=1.0)
    with pytest.raises(ls.InvalidConfigError, match="unsupported extension") as err:
        stream.save(tmp_path / "s.mp4")
    assert err.value.field == "path"
    with pytest.raises(ls.InvalidConfigError, match="subtype"):
        stream.save(tmp_path / "s.flac", subtype="FLOAT")
    assert list(tmp_path.iterdir()) == []


def test_save_writes_incrementally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = ls.stream(CALM, duration=3.0, chunk_seconds=0.5, seed=2)
    sizes: list[int] = []
    real_iter = AudioStream.__iter__

    def watching_iter(self: AudioStream) -> Iterator[np.ndarray]:
        for chunk in real_iter(self):
            temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            assert len(temps) == 1 and not (tmp_path / "s.wav").exists()
            sizes.append(temps[0].stat().st_size)
            yield chunk

    monkeypatch.setattr(AudioStream, "__iter__", watching_iter)
    stream.save(tmp_path / "s.wav")
    assert len(sizes) == 6
    # by the time chunk k is handed out, the chunks before it are on disk (16-bit: 2 bytes)
    assert sizes[-1] >= 5 * round(0.5 * SR) * 2 - 8192
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failed_save_removes_temp_and_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[BaseException]
) -> None:
    target = tmp_path / "s.wav"
    target.write_bytes(b"previous")
    real_iter = AudioStream.__iter__

    def failing_iter(self: AudioStream) -> Iterator[np.ndarray]:
        for k, chunk in enumerate(real_iter(self)):
            if k == 2:
                raise error("stop")
            yield chunk

    monkeypatch.setattr(AudioStream, "__iter__", failing_iter)
    with pytest.raises(error):
        ls.stream(CALM, duration=3.0, chunk_seconds=0.5, seed=2).save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["s.wav"]
    assert target.read_bytes() == b"previous"


def test_play_delegates_to_the_player(monkeypatch: pytest.MonkeyPatch) -> None:
    import latentscore.player as player

    calls: list[tuple[object, object]] = []
    monkeypatch.setattr(player, "play_stream", lambda s, device=None: calls.append((s, device)))
    stream = ls.stream(CALM, duration=1.0)
    stream.play(device="dummy")
    assert calls == [(stream, "dummy")]


def test_play_falls_back_to_audio_play_without_a_player(monkeypatch: pytest.MonkeyPatch) -> None:
    import latentscore

    monkeypatch.setitem(sys.modules, "latentscore.player", None)
    monkeypatch.delattr(latentscore, "player", raising=False)
    played: list[int] = []
    monkeypatch.setattr(ls.Audio, "play", lambda self, **kw: played.append(len(self)))
    ls.stream(CALM, duration=0.5, seed=0).play()
    assert played == [round(0.5 * SR)]
