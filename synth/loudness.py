"""Loudness and peak meters: ITU-R BS.1770-4 integrated loudness and 4x true peak.

Both follow the broadcast specifications so the figures compare with any other meter: the
bench target is a loudness spread of at most 3 LU across the reference configs (so a listener
switching vibes does not reach for the volume knob) and a true peak at or below -0.5 dBTP (so
the output survives lossy encoding and DAC reconstruction without clipping).

The K-weighting filter is the two-stage cascade of BS.1770 (a high shelf modelling the head,
then the RLB high-pass). The standard tabulates its coefficients at 48 kHz only; here they are
recomputed for any rate from the analog prototype parameters (shelf 1681.97 Hz, +4.0 dB,
Q 0.7072; high-pass 38.14 Hz, Q 0.5003) with the bilinear transform, which reproduces the 48 kHz
table to about 1e-8.

Why our own meter rather than pyloudnorm (``benchmarks/handwritten_vs_libraries.py``: 30 s
of the deep_space preset at 44.1 kHz): pyloudnorm gives -19.08 LUFS, this module -19.04, and
the times are alike (two runs on a shared machine: 86 vs 73 ms, 101 vs 187 ms), so neither
wins on accuracy or speed. It stays because pyloudnorm has no true-peak meter, which the
-0.5 dBTP bench target needs, and ``synth`` depends on numpy and scipy only. The meter runs
in benchmarks and tests, never on the audio path; ``tests/test_analysis.py`` holds it within
0.1 LU of pyloudnorm.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

# Analog prototype of the BS.1770 K-weighting filter (matches the 48 kHz table of the spec).
_SHELF_F0 = 1681.974450955533
_SHELF_GAIN_DB = 3.999843853973347
_SHELF_Q = 0.7071752369554196
_SHELF_VB_EXP = 0.4996667741545416
_HIGHPASS_F0 = 38.13547087602444
_HIGHPASS_Q = 0.5003270373238773

BLOCK_S = 0.4  # gating block length
BLOCK_OVERLAP = 0.75  # consecutive blocks overlap by 75 % (100 ms step)
ABSOLUTE_GATE_LKFS = -70.0
RELATIVE_GATE_LU = -10.0


def k_weighting_sos(sr: int) -> np.ndarray:
    """Second-order sections (2, 6) of the K-weighting filter at sample rate ``sr``."""
    k = math.tan(math.pi * _SHELF_F0 / sr)
    vh = 10.0 ** (_SHELF_GAIN_DB / 20.0)
    vb = vh**_SHELF_VB_EXP
    a0 = 1.0 + k / _SHELF_Q + k * k
    shelf_b = [(vh + vb * k / _SHELF_Q + k * k) / a0, 2.0 * (k * k - vh) / a0]
    shelf_b.append((vh - vb * k / _SHELF_Q + k * k) / a0)
    shelf_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _SHELF_Q + k * k) / a0]

    k = math.tan(math.pi * _HIGHPASS_F0 / sr)
    a0 = 1.0 + k / _HIGHPASS_Q + k * k
    hp_b = [1.0, -2.0, 1.0]
    hp_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _HIGHPASS_Q + k * k) / a0]
    return np.array([shelf_b + shelf_a, hp_b + hp_a], dtype=np.float64)


def block_loudness(x: np.ndarray, sr: int) -> np.ndarray:
    """Loudness (LKFS) of each 400 ms block, blocks stepped by 100 ms (mono, weight 1).

    Returns an empty array when the signal is shorter than one block.
    """
    y = signal.sosfilt(k_weighting_sos(sr), np.asarray(x, dtype=np.float64))
    block = round(BLOCK_S * sr)
    step = round(BLOCK_S * (1.0 - BLOCK_OVERLAP) * sr)
    if len(y) < block:
        return np.empty(0)
    csum = np.concatenate(([0.0], np.cumsum(y * y)))
    starts = np.arange(0, len(y) - block + 1, step)
    mean_square = (csum[starts + block] - csum[starts]) / block
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(mean_square)


def integrated_loudness(x: np.ndarray, sr: int) -> float:
    """ITU-R BS.1770-4 integrated loudness of a mono signal, in LUFS (= LKFS).

    Blocks below -70 LKFS are discarded (absolute gate, so silence does not drag the figure
    down), then blocks more than 10 LU below the loudness of the remaining ones (relative gate,
    so quiet passages do not either). Returns ``-inf`` for silence or signals under 400 ms.
    A full-scale 1 kHz sine reads -3.01 LUFS.
    """
    levels = block_loudness(x, sr)
    levels = levels[levels > ABSOLUTE_GATE_LKFS]
    if levels.size == 0:
        return -math.inf
    energies = 10.0 ** ((levels + 0.691) / 10.0)
    relative_gate = -0.691 + 10.0 * math.log10(float(energies.mean())) + RELATIVE_GATE_LU
    kept = energies[levels > relative_gate]
    return -0.691 + 10.0 * math.log10(float(kept.mean()))


def true_peak_dbtp(x: np.ndarray, sr: int, oversample: int = 4) -> float:
    """Peak level after ``oversample``-times polyphase upsampling, in dBTP.

    Sample peaks miss inter-sample peaks that a DAC's reconstruction filter (or a lossy decoder)
    will produce; 4x oversampling, as in BS.1770 Annex 2, catches them to within ~0.5 dB.
    ``sr`` is accepted for symmetry with the other meters (the measure is rate independent).
    Returns ``-inf`` for silence.
    """
    del sr
    xf = np.asarray(x, dtype=np.float64)
    if xf.size == 0:
        return -math.inf
    up = signal.resample_poly(xf, oversample, 1)
    peak = max(float(np.max(np.abs(up))), float(np.max(np.abs(xf))))
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf
