"""Detect audio that repeats verbatim: the engine must evolve, never loop a buffer.

A *verbatim repeat* is a segment of ``seg_s`` seconds whose samples reappear (identically,
or with normalised correlation above ``min_corr``, e.g. under a gain change) at least
``seg_s`` later, at any sample offset. Searching every pair of offsets is quadratic, so:

1. **Probes.** Short probes (8192 samples) are cut every ``seg - probe`` samples. Any
   repeated segment then contains a whole probe, and that probe reappears at the same lag.
2. **Coarse search.** Each probe is cross-correlated with everything after it on a 4x
   decimated copy (overlap-save: the signal's block spectra are computed once, each probe
   costs one batched inverse FFT), normalised by the local energy, and its best few peaks
   with lag >= ``seg_s`` become candidate lags (120 s of audio takes about 1.5 s).
   Decimation lets an unaligned copy land up to 2 samples off, which only lowers its
   coarse score, so candidates are ranked rather than thresholded tightly.
3. **Verification.** At full rate, each candidate lag is refined to the exact sample
   (+-8 samples) and the normalised correlation of ``seg_s`` windows at that lag is computed
   for every window position containing the probe (cumulative sums, linear time). A window
   above ``min_corr`` is a repeat.

Near-silent windows (RMS below -80 dBFS) never count: digital silence repeats trivially.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft, signal

PROBE = 8192
DECIMATE = 4
CANDIDATES_PER_PROBE = 8
_SILENCE_RMS = 1e-4


@dataclass(frozen=True)
class RepeatMatch:
    """A verbatim repeat: ``x[start:start+length]`` ~ ``x[start+lag:start+lag+length]``."""

    start: int
    lag: int
    length: int
    correlation: float


def _window_corr(x: np.ndarray, lo: int, hi: int, lag: int, seg: int) -> tuple[float, int]:
    """Best normalised correlation of ``x[t:t+seg]`` with ``x[t+lag:...]`` for t in [lo, hi]."""
    lo, hi = max(0, lo), min(hi, x.size - lag - seg)
    if hi < lo:
        return -1.0, lo
    a = x[lo : hi + seg]
    b = x[lo + lag : hi + seg + lag]
    zero = np.zeros(1)
    ab = np.concatenate((zero, np.cumsum(a * b)))
    aa = np.concatenate((zero, np.cumsum(a * a)))
    bb = np.concatenate((zero, np.cumsum(b * b)))
    n = hi - lo + 1
    sab = ab[seg : seg + n] - ab[:n]
    saa = aa[seg : seg + n] - aa[:n]
    sbb = bb[seg : seg + n] - bb[:n]
    floor = seg * _SILENCE_RMS**2
    ok = (saa > floor) & (sbb > floor)
    if not ok.any():
        return -1.0, lo
    corr = np.where(ok, sab / np.sqrt(np.maximum(saa * sbb, 1e-300)), -1.0)
    best = int(np.argmax(corr))
    return float(corr[best]), lo + best


def find_verbatim_repeat(
    x: np.ndarray, sr: int, seg_s: float = 2.0, min_corr: float = 0.9999
) -> RepeatMatch | None:
    """The first verbatim repeat of a ``seg_s`` segment (see module docstring), or None."""
    xf = np.asarray(x, dtype=np.float64).ravel()
    seg = round(seg_s * sr)
    if xf.size < 2 * seg or seg <= PROBE:
        return None
    xd = signal.resample_poly(xf, 1, DECIMATE)
    pd = PROBE // DECIMATE
    min_lag_d = seg // DECIMATE
    blocks, step = _block_spectra(xd, pd)
    energy = np.concatenate(([0.0], np.cumsum(xd * xd)))
    local = energy[pd:] - energy[:-pd]  # energy of xd[t:t+pd]
    for p in range(0, xf.size - seg - PROBE, seg - PROBE):
        q = p // DECIMATE
        probe = xd[q : q + pd]
        pnorm = float(probe @ probe)
        if pnorm < pd * _SILENCE_RMS**2:
            continue
        first = q + min_lag_d
        k0 = first // step
        spec = np.conj(fft.rfft(probe.astype(np.float32), 4 * pd))
        corr = fft.irfft(blocks[k0:] * spec, 4 * pd, axis=1, workers=-1)[:, :step].ravel()
        corr = corr[first - k0 * step : xd.size - pd - k0 * step]
        window_energy = np.maximum(local[first : first + corr.size], 1e-300)
        score = corr / np.sqrt(pnorm * window_energy)
        if score.size == 0:
            continue
        peaks, _ = signal.find_peaks(score, height=0.3, distance=pd)
        top = peaks[np.argsort(-score[peaks])][:CANDIDATES_PER_PROBE]
        for cand in top:
            lag = _refine_lag(xf, p, (first + int(cand)) * DECIMATE - p)
            if lag is None:
                continue
            best, start = _window_corr(xf, p + PROBE - seg, p, lag, seg)
            if best > min_corr:
                return RepeatMatch(start=start, lag=lag, length=seg, correlation=best)
    return None


def _block_spectra(xd: np.ndarray, pd: int) -> tuple[np.ndarray, int]:
    """Spectra of overlapping 4*pd blocks stepped by 3*pd, for overlap-save correlation.

    Correlating a pd-sample probe with one block gives 3*pd valid lags without wrap-around,
    so all lags cost one small batched inverse FFT per probe instead of a full-length one.
    """
    size, step = 4 * pd, 3 * pd
    n_blocks = -(-xd.size // step)
    padded = np.zeros(n_blocks * step + pd, dtype=np.float32)
    padded[: xd.size] = xd
    frames = np.lib.stride_tricks.sliding_window_view(padded, size)[::step]
    return fft.rfft(frames, axis=1, workers=-1), step


def _refine_lag(x: np.ndarray, p: int, coarse_lag: int, search: int = 8) -> int | None:
    """Exact lag (samples) near ``coarse_lag`` maximising the full-rate probe correlation."""
    probe = x[p : p + PROBE]
    lo = p + coarse_lag - search
    hi = p + coarse_lag + search + PROBE
    if lo < 0 or hi > x.size:
        return None
    corr = signal.correlate(x[lo:hi], probe, mode="valid", method="fft")
    return coarse_lag - search + int(np.argmax(corr))


def has_verbatim_repeat(
    x: np.ndarray, sr: int, seg_s: float = 2.0, min_corr: float = 0.9999
) -> bool:
    """True when some ``seg_s`` segment reappears verbatim at least ``seg_s`` later."""
    return find_verbatim_repeat(x, sr, seg_s, min_corr) is not None


def repeat_correlation_at(
    x: np.ndarray, sr: int, start_s: float, lag_s: float, seg_s: float = 2.0
) -> float:
    """Normalised correlation of the ``seg_s`` window at ``start_s`` with itself ``lag_s`` later.

    A diagnostic for reports (e.g. one bar apart); ``math.nan`` if out of range.
    """
    xf = np.asarray(x, dtype=np.float64).ravel()
    start, lag, seg = round(start_s * sr), round(lag_s * sr), round(seg_s * sr)
    if start < 0 or start + lag + seg > xf.size:
        return math.nan
    return _window_corr(xf, start, start, lag, seg)[0]
