"""The audio feature functions measure what they claim, checked on synthetic signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import fftconvolve

from synth import analysis as an
from synth.loudness import integrated_loudness, k_weighting_sos, true_peak_dbtp
from synth.repetition import find_verbatim_repeat, has_verbatim_repeat

SR = 44100


def tone(freq: float, seconds: float, amp: float = 0.5, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return amp * np.sin(2 * np.pi * freq * t + phase)


def midi_hz(pitch: float) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def click_train(rate_hz: float, seconds: float, decay_s: float = 0.01) -> np.ndarray:
    """Decaying noise bursts at a steady rate (a crude percussion track)."""
    rng = np.random.default_rng(1)
    x = np.zeros(round(seconds * SR))
    burst = rng.standard_normal(2048) * np.exp(-np.arange(2048) / (decay_s * SR))
    for start in np.arange(0.1, seconds - 0.1, 1.0 / rate_hz):
        i = round(start * SR)
        x[i : i + burst.size] += 0.3 * burst[: x.size - i]
    return x


def test_centroid_tracks_tone_frequency() -> None:
    low, high = an.spectral_centroid(tone(1000, 2), SR), an.spectral_centroid(tone(4000, 2), SR)
    assert low == pytest.approx(1000, rel=0.02)
    assert high == pytest.approx(4000, rel=0.02)


def test_centroid_variation_sees_a_sweep() -> None:
    t = np.arange(4 * SR) / SR
    sweep = 0.5 * np.sin(2 * np.pi * np.cumsum(1000 + 600 * np.sin(2 * np.pi * 0.5 * t)) / SR)
    assert an.centroid_variation(tone(1000, 4), SR) < 0.01
    assert an.centroid_variation(sweep, SR) > 0.3


def test_onset_rate_of_click_train() -> None:
    for rate in (2.0, 4.0, 8.0):
        x = click_train(rate, 10.0)
        assert an.onset_rate(x, SR) == pytest.approx(rate, rel=0.05)
    times = an.onset_times(click_train(4.0, 3.0), SR)
    assert np.allclose(np.diff(times), 0.25, atol=0.01)


def test_onset_rate_of_steady_tone_is_near_zero() -> None:
    # At most the tone's own start counts: not rounding noise, beating or a slow swell.
    assert len(an.onset_times(tone(220, 5), SR)) <= 1
    assert len(an.onset_times(tone(220, 5).astype(np.float32), SR)) <= 1
    t = np.arange(5 * SR) / SR
    chord = sum(0.05 * np.sin(2 * np.pi * f * t) for f in (130.8, 155.6, 196.0))
    assert len(an.onset_times(chord, SR)) <= 1
    slow_swell = tone(220, 5) * (1 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    assert len(an.onset_times(slow_swell, SR)) <= 1


def test_tempo_estimate_of_click_train() -> None:
    assert an.tempo_estimate(click_train(2.0, 12.0), SR) == pytest.approx(120, rel=0.03)


def test_timing_irregularity_grows_with_jitter() -> None:
    rng = np.random.default_rng(3)
    bpm, period = 60.0, 0.25  # sixteenth-note grid
    values = []
    for jitter in (0.0, 0.01, 0.03):
        x = np.zeros(20 * SR)
        burst = rng.standard_normal(1024) * np.exp(-np.arange(1024) / 200)
        for k in range(2, 78):
            i = round((k * period + rng.normal(0, jitter) if jitter else k * period) * SR)
            x[i : i + 1024] += 0.3 * burst
        values.append(an.onset_timing_irregularity(x, SR, bpm))
    assert values[0] < 0.003
    assert values[0] < values[1] < values[2]
    assert values[2] == pytest.approx(0.03, rel=0.35)


def test_decay_time_of_exponential_tone() -> None:
    # Tone bursts every 2 s decaying with a 60 dB time of 1.5 s: 20 dB falls in 0.5 s.
    t60 = 1.5
    n = 2 * SR
    burst = tone(440, 2.0) * 10 ** (-3 * (np.arange(n) / SR) / t60)
    x = np.tile(burst, 5)
    assert an.decay_time(x, SR) == pytest.approx(t60 / 3, rel=0.1)


def test_modulation_depth_falls_when_gaps_fill() -> None:
    bursts = click_train(2.0, 10.0, decay_s=0.05)
    smeared = bursts + 0.3 * fftconvolve(bursts, np.exp(-np.arange(SR) / (0.5 * SR)))[
        : bursts.size
    ] / math.sqrt(SR)
    assert an.envelope_modulation_depth(smeared, SR) < an.envelope_modulation_depth(bursts, SR)


def test_echo_similarity_at_known_delay() -> None:
    rng = np.random.default_rng(5)
    x = np.zeros(20 * SR)
    burst = rng.standard_normal(2048) * np.exp(-np.arange(2048) / 300)
    for start in np.cumsum(rng.uniform(0.4, 1.2, 30)):
        i = round(start * SR)
        if i + 2048 < x.size:
            x[i : i + 2048] += burst
    lag = 0.341
    d = round(lag * SR)
    echoed = x.copy()
    echoed[d:] += 0.6 * x[:-d]
    assert an.echo_similarity(echoed, SR, lag) > 0.35
    assert an.echo_similarity(x, SR, lag) < 0.15
    assert an.envelope_autocorr_max(echoed, SR, 0.12, 0.9) > 0.35


def test_density_features_grow_with_layers() -> None:
    bass = tone(65.4, 5)
    mix = (
        bass
        + tone(523.3, 5, 0.2)
        + tone(1568, 5, 0.1)
        + 0.02 * np.random.default_rng(0).standard_normal(5 * SR)
    )
    assert an.spectral_entropy(mix, SR) > an.spectral_entropy(bass, SR)
    assert an.spectral_spread(mix, SR) > an.spectral_spread(bass, SR)
    assert an.spectral_peak_count(bass + tone(523.3, 5, 0.2), SR) >= 2
    assert an.spectral_peak_count(bass, SR) == 1


def test_k_weighting_matches_bs1770_table_at_48k() -> None:
    sos = k_weighting_sos(48000)
    assert np.allclose(sos[0, :3], [1.53512485958697, -2.69169618940638, 1.19839281085285])
    assert np.allclose(sos[0, 3:], [1.0, -1.69065929318241, 0.73248077421585])
    assert np.allclose(sos[1, 3:], [1.0, -1.99004745483398, 0.99007225036621])


def test_loudness_of_reference_sines() -> None:
    assert integrated_loudness(tone(1000, 5, amp=1.0), SR) == pytest.approx(-3.01, abs=0.05)
    assert integrated_loudness(tone(1000, 5, amp=0.1), SR) == pytest.approx(-23.01, abs=0.05)
    # Gating: 5 s of appended silence would read 3 dB quieter ungated; the gates discard it
    # (only the few 400 ms blocks straddling the edge pull the figure down slightly).
    padded = np.concatenate((tone(1000, 5, amp=0.1), np.zeros(5 * SR)))
    assert integrated_loudness(padded, SR) == pytest.approx(-23.01, abs=0.2)
    assert integrated_loudness(np.zeros(SR), SR) == -math.inf


def test_loudness_agrees_with_pyloudnorm() -> None:
    pyln = pytest.importorskip("pyloudnorm")
    rng = np.random.default_rng(2)
    x = 0.1 * rng.standard_normal(6 * SR) * np.repeat(rng.uniform(0.05, 1, 6), SR)
    assert integrated_loudness(x, SR) == pytest.approx(
        pyln.Meter(SR).integrated_loudness(x), abs=0.1
    )


def test_true_peak_finds_inter_sample_peak() -> None:
    # A quarter-rate sine sampled 45 degrees off its crests: sample peak 0.354, true peak 0.5.
    x = tone(SR / 4, 1.0, amp=0.5, phase=np.pi / 4)
    assert np.max(np.abs(x)) == pytest.approx(0.3536, abs=1e-3)
    assert true_peak_dbtp(x, SR) == pytest.approx(20 * math.log10(0.5), abs=0.3)
    assert true_peak_dbtp(tone(997, 1.0, amp=0.5), SR) == pytest.approx(-6.02, abs=0.1)


def test_click_ratio_flags_planted_click() -> None:
    clean = tone(440, 3) + 0.05 * tone(3000, 3)
    assert an.click_ratio(clean) < 1.5
    clicked = clean.copy()
    clicked[SR:] += 0.3  # a DC step: one large discontinuity
    assert an.click_ratio(clicked) > 4
    assert an.boundary_click_ratio(clicked, [SR]) > 4
    assert an.boundary_click_ratio(clicked, [2 * SR]) < 1.5
    assert an.boundary_click_ratio(clean, [SR], context=None) < 1.5


def test_in_key_ratio_chord_vs_cluster() -> None:
    c_major = (0, 2, 4, 5, 7, 9, 11)
    chord = sum(tone(midi_hz(p), 6, 0.2) for p in (48, 60, 64, 67, 72))
    cluster = sum(tone(midi_hz(p), 6, 0.2) for p in range(60, 72))
    assert an.in_key_ratio(chord, SR, c_major) > 0.97
    assert an.in_key_ratio(cluster, SR, c_major) == pytest.approx(7 / 12, abs=0.05)


def test_style_features_and_near_identical_rule() -> None:
    a = click_train(4.0, 8.0)
    same = an.style_features(a, SR)
    assert an.style_distance(same, same) == 0.0
    assert an.near_identical(same, an.style_features(0.5 * a, SR))
    other = an.style_features(click_train(2.0, 8.0) + tone(300, 8, 0.2), SR)
    assert not an.near_identical(same, other)
    assert an.style_distance(same, other) > 5
    assert same.shape == (an.N_MELS + 2,)


def test_mel_filterbank_covers_band() -> None:
    fb = an.mel_filterbank(SR, 2048)
    assert fb.shape == (40, 1025)
    assert (fb.sum(axis=1) > 0).all()


def test_looped_noise_is_a_verbatim_repeat() -> None:
    rng = np.random.default_rng(7)
    x = 0.2 * rng.standard_normal(20 * SR)
    src, dst, length = round(1.2345 * SR), round(9.8761 * SR), round(2.5 * SR)
    x[dst : dst + length] = x[src : src + length]  # unaligned copy
    match = find_verbatim_repeat(x, SR)
    assert match is not None
    assert match.lag == dst - src
    assert match.correlation > 0.9999
    # A quieter copy still correlates perfectly; a whole-buffer loop is found too.
    y = 0.2 * rng.standard_normal(20 * SR)
    y[dst : dst + length] = 0.5 * y[src : src + length]
    assert has_verbatim_repeat(y, SR)
    assert has_verbatim_repeat(np.tile(0.2 * rng.standard_normal(3 * SR + 17), 4), SR)


def test_fresh_noise_and_silence_are_not_repeats() -> None:
    rng = np.random.default_rng(8)
    assert not has_verbatim_repeat(0.2 * rng.standard_normal(30 * SR), SR)
    assert not has_verbatim_repeat(np.zeros(10 * SR), SR)
    # A short copy (1 s) is below the 2 s segment length.
    x = 0.2 * rng.standard_normal(20 * SR)
    x[12 * SR : 13 * SR] = x[3 * SR : 4 * SR]
    assert not has_verbatim_repeat(x, SR)
