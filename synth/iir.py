"""IIR filtering (``lfilter``) without importing ``scipy.signal``.

``import scipy.signal`` costs about 2 s here (it pulls in scipy.stats, spatial, linalg...),
which would dominate LatentScore's cold start. The recursive filter itself is a small C
routine in ``scipy/signal/_sigtools``; this module loads that extension file directly (it
needs only numpy), and falls back to ``scipy.signal.lfilter`` if a future scipy moves it.
``tests/test_iir.py`` checks both paths agree with ``scipy.signal.lfilter``.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

_Raw = Callable[[Any, Any, Any, int, Any], Any]


def _load_raw() -> _Raw | None:
    name = "scipy.signal._sigtools"
    if name in sys.modules:  # scipy.signal already imported by someone: reuse it
        return getattr(sys.modules[name], "_linear_filter", None)
    try:
        import scipy

        folder = Path(scipy.__file__).parent / "signal"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"_sigtools{suffix}"
            if path.exists():
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    return None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                return getattr(module, "_linear_filter", None)
    except Exception:  # any surprise: use the public (slow-to-import) API instead
        return None
    return None


_RAW = _load_raw()


def lfilter(
    b: NDArray[np.float64] | list[float],
    a: NDArray[np.float64] | list[float],
    x: NDArray[Any],
    zi: NDArray[np.float64] | None = None,
) -> Any:
    """Same contract as ``scipy.signal.lfilter`` for 1-D input (``axis=-1``).

    Returns ``y`` (float64), or ``(y, zf)`` when ``zi`` is given.
    """
    b_arr = np.asarray(b, dtype=np.float64)
    a_arr = np.asarray(a, dtype=np.float64)
    xd = np.asarray(x, dtype=np.float64)
    if a_arr[0] != 1.0:
        b_arr, a_arr = b_arr / a_arr[0], a_arr / a_arr[0]
    if _RAW is None:
        from scipy.signal import lfilter as scipy_lfilter

        return scipy_lfilter(b_arr, a_arr, xd, zi=zi)
    if zi is None:
        order = max(len(a_arr), len(b_arr)) - 1
        y, _ = _RAW(b_arr, a_arr, xd, -1, np.zeros(order))
        return y
    return _RAW(b_arr, a_arr, xd, -1, np.asarray(zi, dtype=np.float64))
