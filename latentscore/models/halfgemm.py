"""Dense layers ``y = x @ W + b`` for the query path: float16 panels in C, or numpy float32.

Why: a vibe query is a handful of tokens, so each MiniLM dense layer multiplies a few rows
by a large weight matrix. OpenBLAS packs both operands on every call, which at these shapes
costs more than the arithmetic, and the 42 MB of float32 weights do not stay in the 32 MB L3
cache between queries. The optional C kernel (``_halfgemm.c``, built with the package) holds
each weight matrix once as float16 column panels (half the bytes; float16 -> float32 is
exact, and rounding the weights moves a MiniLM embedding by a cosine of less than 3e-7) and
serves every row from registers in one pass over the panel.

:class:`HalfDense` uses the kernel; :class:`FloatDense` is plain numpy on float32 and is used
when the kernel was not built (no compiler at install) or the CPU lacks AVX2/FMA/F16C.
:func:`make_dense` picks one; ``LATENTSCORE_DENSE=numpy`` forces the numpy path.
Both are immutable after construction and safe to share between threads (the kernel
releases the GIL while it runs).
"""

from __future__ import annotations

import os
from typing import Literal, Protocol

import numpy as np

from latentscore.errors import InvalidConfigError, ModelNotAvailableError

__all__ = [
    "BACKEND_ENV",
    "F16_MAX",
    "PANEL",
    "Backend",
    "Dense",
    "Float16RangeError",
    "FloatDense",
    "HalfDense",
    "make_dense",
    "native_available",
    "pack_panels",
    "resolve_backend",
    "unavailable_reason",
]

#: Columns per packed panel (must match PANEL in _halfgemm.c).
PANEL = 16
#: Largest finite float16.
F16_MAX = 65504.0
#: Environment variable forcing a backend ("numpy" or "native"); unset means "auto".
BACKEND_ENV = "LATENTSCORE_DENSE"

Backend = Literal["auto", "native", "numpy"]
_BACKENDS = ("auto", "native", "numpy")

try:
    from latentscore.models import _halfgemm
except ImportError:  # not compiled (no C compiler at install): numpy does the work
    _halfgemm = None  # type: ignore[assignment]


def native_available() -> bool:
    """True if the C kernel was built and this CPU can run it."""
    return _halfgemm is not None and bool(_halfgemm.available())


def resolve_backend(backend: Backend | None = None) -> Literal["native", "numpy"]:
    """The backend to use: ``backend`` if given, else ``$LATENTSCORE_DENSE``, else "auto".

    "auto" means native when available, numpy otherwise. Asking for "native" where it is
    unavailable raises :class:`ModelNotAvailableError` saying why, rather than silently
    running slower; an unknown name raises :class:`InvalidConfigError` naming it.
    """
    choice = (backend or os.environ.get(BACKEND_ENV, "")).strip().lower() or "auto"
    if choice not in _BACKENDS:
        raise InvalidConfigError(
            f"dense backend must be 'auto', 'native' or 'numpy', got {choice!r}"
            + (f" (from ${BACKEND_ENV})" if backend is None else ""),
            field=BACKEND_ENV if backend is None else "dense",
            value=choice,
            allowed=_BACKENDS,
        )
    if choice == "numpy":
        return "numpy"
    if native_available():
        return "native"
    if choice == "native":
        raise ModelNotAvailableError(f"native dense backend unavailable: {unavailable_reason()}")
    return "numpy"


def unavailable_reason() -> str:
    """Why the C kernel cannot run here ("" when it can)."""
    if _halfgemm is None:
        return "the _halfgemm extension was not built (reinstall with a C compiler present)"
    if not _halfgemm.KERNEL_COMPILED:
        return "the kernel is only compiled with GCC or clang for x86-64 Linux/macOS"
    if not _halfgemm.available():
        return "this CPU lacks AVX2/FMA/F16C"
    return ""


def pack_panels(weight: np.ndarray) -> np.ndarray:
    """Pack a (K, N) ``x @ W`` weight into float16 panels (ceil(N/16), K, 16), zero-padded.

    ``packed[p, k, j] == W[k, 16 p + j]``: the kernel reads one panel front to back, 16
    output columns at a time, so every weight is loaded exactly once per product.
    """
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (in, out), got shape {weight.shape}")
    k, n = weight.shape
    full, rest = divmod(n, PANEL)
    packed = np.zeros((full + (rest > 0), k, PANEL), dtype=np.float16)
    # One strided cast-and-copy; the (k, panels, 16) split of the column axis is a view even
    # when ``weight`` is the transposed view of a PyTorch (out, in) tensor.
    packed[:full] = weight[:, : full * PANEL].reshape(k, full, PANEL).transpose(1, 0, 2)
    if rest:
        packed[full, :, :rest] = weight[:, full * PANEL :]
    packed.flags.writeable = False
    return packed


class Dense(Protocol):
    """A dense layer: ``(rows, in_features)`` float32 -> ``(rows, out_features)`` float32."""

    in_features: int
    out_features: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``x @ W + b`` as a new float32 array."""
        ...


class FloatDense:
    """``x @ W + b`` with numpy/BLAS on a contiguous float32 (in, out) copy of W."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None = None) -> None:
        """``weight`` is (in, out) for ``x @ weight``; ``bias`` is (out,) or None. Both are
        copied, so later changes to the caller's arrays do not reach the layer."""
        _check_weight(weight, bias)
        self.weight = np.array(weight, dtype=np.float32, order="C", copy=True)
        self.weight.flags.writeable = False
        self.in_features, self.out_features = self.weight.shape
        self.bias = None if bias is None else np.array(bias, dtype=np.float32, copy=True)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        _check_rows(x, self.in_features)
        y = x.astype(np.float32, copy=False) @ self.weight
        if self.bias is not None:
            y += self.bias
        return y


class HalfDense:
    """``x @ W + b`` in the C kernel over float16 panels of W (see module docstring)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None = None) -> None:
        """``weight`` is (in, out) for ``x @ weight``; ``bias`` is (out,) or None.

        Raises ``RuntimeError`` if the kernel is unavailable (see :func:`resolve_backend`).
        """
        if not native_available():
            raise RuntimeError("HalfDense needs the _halfgemm kernel; use FloatDense")
        _check_weight(weight, bias)
        with np.errstate(over="ignore", invalid="ignore"):
            self.packed = pack_panels(weight)
        # Exponent bits all set: inf or NaN, i.e. a weight beyond float16's range (or not
        # finite to begin with). Checked on the packed bits: one cheap integer pass.
        if np.any((self.packed.view(np.uint16) & 0x7C00) == 0x7C00):
            raise Float16RangeError(
                f"weights beyond float16 (max {F16_MAX:g}) or not finite; use FloatDense"
            )
        self.in_features, self.out_features = (int(d) for d in weight.shape)
        self._padded = self.packed.shape[0] * PANEL
        bias_pad = None
        if bias is not None:
            bias_pad = np.zeros(self._padded, dtype=np.float32)
            bias_pad[: self.out_features] = bias
            bias_pad.flags.writeable = False
        self.bias = bias_pad

    def __call__(self, x: np.ndarray) -> np.ndarray:
        _check_rows(x, self.in_features)
        x = np.ascontiguousarray(x, dtype=np.float32)
        rows = x.shape[0]
        y = np.empty((rows, self._padded), dtype=np.float32)
        _halfgemm.matmul(x, self.packed, self.bias, y, rows, self.in_features, self._padded)
        if self._padded == self.out_features:
            return y
        return np.ascontiguousarray(y[:, : self.out_features])


def make_dense(
    weight: np.ndarray, bias: np.ndarray | None = None, backend: Backend | None = None
) -> Dense:
    """A :class:`HalfDense` or :class:`FloatDense` for ``weight`` (in, out) and ``bias``.

    Weights beyond the float16 range (|w| > 65504) stay in float32 whatever the backend;
    MiniLM's and the library's are far inside it. Within the range float16 keeps 11
    significant bits, and magnitudes under 6e-5 fade gradually (subnormals), which leaves a
    dot product of ordinary weights unchanged at float32 resolution.
    """
    if resolve_backend(backend) == "native":
        try:
            return HalfDense(weight, bias)
        except Float16RangeError:
            pass
    return FloatDense(weight, bias)


class Float16RangeError(ValueError):
    """A weight is beyond float16's range (or not finite), so it cannot be packed."""


def _check_weight(weight: np.ndarray, bias: np.ndarray | None) -> None:
    """Both dense layers take a 2-D (in, out) weight and an (out,) bias or None."""
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (in, out), got shape {weight.shape}")
    if bias is not None and bias.shape != (weight.shape[1],):
        raise ValueError(f"bias shape {bias.shape} != ({weight.shape[1]},)")


def _check_rows(x: np.ndarray, in_features: int) -> None:
    """Both dense layers take (rows, in_features) input."""
    if x.ndim != 2 or x.shape[1] != in_features:
        raise ValueError(f"expected (rows, {in_features}) input, got {x.shape}")
