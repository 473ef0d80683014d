"""Ring-buffer helpers shared by the delay-based effects and the engine's layer buses."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def ring_read(buf: NDArray[np.float32], start: int, n: int) -> NDArray[np.float32]:
    """Copy ``n`` samples of a 1-D ring buffer starting at absolute index ``start``."""
    size = buf.shape[-1]
    s = start % size
    if s + n <= size:
        return buf[..., s : s + n].copy()
    k = size - s
    return np.concatenate((buf[..., s:], buf[..., : n - k]), axis=-1)


def ring_write(buf: NDArray[np.float32], start: int, data: NDArray[np.float32]) -> None:
    """Overwrite ``len(data)`` samples of a ring buffer starting at absolute index ``start``."""
    size = buf.shape[-1]
    n = data.shape[-1]
    s = start % size
    if s + n <= size:
        buf[..., s : s + n] = data
    else:
        k = size - s
        buf[..., s:] = data[..., :k]
        buf[..., : n - k] = data[..., k:]


def ring_add(buf: NDArray[np.float32], start: int, data: NDArray[np.float32]) -> None:
    """Add ``data`` into a 1-D ring buffer starting at absolute index ``start``."""
    size = buf.shape[-1]
    n = data.shape[-1]
    s = start % size
    if s + n <= size:
        buf[s : s + n] += data
    else:
        k = size - s
        buf[s:] += data[:k]
        buf[: n - k] += data[k:]
