"""The float16-panel matmul kernel equals numpy, rejects bad buffers, and is built in CI.

Why: the fast model's encoder and the library search run through this kernel, so a wrong
panel index or an edge case in the row blocking (rows not a multiple of 6, odd K, padded N)
would silently shift every embedding. Each product is compared with numpy on the same
float16-rounded weights, where the only difference left is float32 summation order.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from latentscore.errors import InvalidConfigError, ModelNotAvailableError
from latentscore.models import halfgemm
from latentscore.models.halfgemm import (
    BACKEND_ENV,
    FloatDense,
    HalfDense,
    make_dense,
    native_available,
    pack_panels,
    resolve_backend,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

needs_native = pytest.mark.skipif(
    not native_available() and not IN_CI,
    reason="C kernel not built or CPU lacks AVX2/FMA/F16C (must run when CI=true)",
)


def test_kernel_is_built_in_ci() -> None:
    """CI builds with gcc on x86-64: the fast path must be there, not silently skipped."""
    if not IN_CI:
        pytest.skip("only enforced when CI=true")
    assert halfgemm._halfgemm is not None, "the _halfgemm extension did not build"
    assert native_available()
    assert resolve_backend() == "native"


def test_pack_panels_layout() -> None:
    w = np.arange(5 * 20, dtype=np.float32).reshape(5, 20)
    packed = pack_panels(w)
    assert packed.dtype == np.float16 and packed.shape == (2, 5, 16)
    for p in range(2):
        for k in range(5):
            for j in range(16):
                col = 16 * p + j
                want = w[k, col] if col < 20 else 0.0
                assert packed[p, k, j] == np.float16(want)
    assert not packed.flags.writeable
    with pytest.raises(ValueError, match="2-D"):
        pack_panels(np.zeros(3))


@needs_native
@pytest.mark.parametrize("rows", [0, 1, 2, 3, 5, 6, 7, 11, 12, 13, 40])
@pytest.mark.parametrize(("k", "n"), [(1, 16), (7, 33), (384, 1152), (1536, 384), (64, 100)])
def test_half_dense_equals_numpy(rows: int, k: int, n: int) -> None:
    rng = np.random.default_rng(rows * 1000 + k + n)
    w = rng.standard_normal((k, n)).astype(np.float32) / np.sqrt(k)
    b = rng.standard_normal(n).astype(np.float32)
    x = rng.standard_normal((rows, k)).astype(np.float32)
    w16 = w.astype(np.float16).astype(np.float32)
    for bias in (b, None):
        got = HalfDense(w, bias)(x)
        want = x @ w16 + (0 if bias is None else bias)
        assert got.shape == (rows, n) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@needs_native
def test_half_dense_accepts_views_and_other_dtypes() -> None:
    rng = np.random.default_rng(7)
    w_out_in = rng.standard_normal((48, 32)).astype(np.float32)  # PyTorch (out, in) layout
    x = rng.standard_normal((9, 64)).astype(np.float64)[:, ::2]  # non-contiguous float64
    got = HalfDense(w_out_in.T)(x)
    want = x.astype(np.float32) @ w_out_in.T.astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(rows, 32\)"):
        HalfDense(w_out_in.T)(np.zeros((2, 31), dtype=np.float32))
    with pytest.raises(ValueError, match="bias shape"):
        HalfDense(w_out_in.T, np.zeros(47, dtype=np.float32))


@needs_native
def test_kernel_checks_buffer_sizes_instead_of_overrunning() -> None:
    mod = halfgemm._halfgemm
    packed = pack_panels(np.ones((8, 32), dtype=np.float32))
    x = np.ones((3, 8), dtype=np.float32)
    y = np.empty((3, 32), dtype=np.float32)
    mod.matmul(x, packed, None, y, 3, 8, 32)
    np.testing.assert_array_equal(y, 8.0)
    with pytest.raises(ValueError, match="too small"):
        mod.matmul(x, packed, None, y, 4, 8, 32)  # x and y hold 3 rows, not 4
    with pytest.raises(ValueError, match="too small"):
        mod.matmul(x, packed, None, y, 3, 9, 32)  # K larger than the packed weight
    with pytest.raises(ValueError, match="too small"):
        mod.matmul(x, packed, np.zeros(16, np.float32), y, 3, 8, 32)  # short bias
    with pytest.raises(ValueError, match="multiple of 16"):
        mod.matmul(x, packed, None, y, 3, 8, 24)
    with pytest.raises(BufferError):
        mod.matmul(x, packed, None, y.tobytes(), 3, 8, 32)  # read-only output
    with pytest.raises(TypeError, match="x must be float32, got buffer format 'd'"):
        mod.matmul(x.astype(np.float64), packed, None, y, 3, 8, 32)
    with pytest.raises(TypeError, match="w must be float16"):
        mod.matmul(x, packed.astype(np.float32), None, y, 3, 8, 32)
    with pytest.raises(TypeError, match="y must be float32, got buffer format 'B'"):
        mod.matmul(x, packed, None, bytearray(384), 3, 8, 32)
    with pytest.raises(ValueError, match="contiguous"):
        mod.matmul(x, packed, None, y[:, ::2], 3, 8, 16)  # non-contiguous output


@needs_native
def test_kernel_edge_cases_from_review() -> None:
    mod = halfgemm._halfgemm
    assert mod.KERNEL_COMPILED
    packed = pack_panels(np.ones((8, 32), dtype=np.float32))
    bias = np.zeros(32, np.float32)
    # No rows: nothing is read or written, even with a bias.
    mod.matmul(np.empty((0, 8), np.float32), packed, bias, np.empty((0, 32), np.float32), 0, 8, 32)
    # The output may not overlap an input (it is written while they are read).
    shared = np.ones(3 * 32 + 24, dtype=np.float32)
    with pytest.raises(ValueError, match="y overlaps x"):
        mod.matmul(shared[:24], packed, None, shared[8 : 8 + 96], 3, 8, 32)
    # Byte counts that would overflow are rejected before any buffer is touched.
    with pytest.raises(OverflowError):
        mod.matmul(np.ones(1, np.float32), packed, bias, np.ones(1, np.float32), 0, 1, 2**62)
    # A padded output is contiguous (not a view into the wider buffer).
    w = np.random.default_rng(1).standard_normal((8, 20)).astype(np.float32)
    y = HalfDense(w)(np.ones((2, 8), np.float32))
    assert y.shape == (2, 20) and y.flags.c_contiguous


def test_weights_beyond_float16_stay_float32() -> None:
    big = np.eye(16, dtype=np.float32) * 1e5
    assert isinstance(make_dense(big, backend="auto"), FloatDense)
    x = np.ones((1, 16), dtype=np.float32)
    np.testing.assert_allclose(make_dense(big)(x), x @ big)
    if native_available():
        with pytest.raises(ValueError, match="beyond float16"):
            HalfDense(big)


def test_float_dense_owns_copies_of_its_weights() -> None:
    w = np.ones((16, 16), dtype=np.float32)
    b = np.zeros(16, dtype=np.float32)
    layer = FloatDense(w, b)
    w[0, 0] = 5.0  # the caller's arrays stay writable and changing them changes nothing
    b[:] = 1.0
    np.testing.assert_array_equal(layer(np.eye(16, dtype=np.float32)[:1]), np.ones((1, 16)))
    with pytest.raises(ValueError, match="bias shape"):
        FloatDense(w, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\(rows, 16\)"):
        layer(np.ones(16, np.float32))
    assert layer(np.ones((1, 16))).dtype == np.float32  # float64 input, float32 out


def test_unsupported_cpu_falls_back_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    if halfgemm._halfgemm is None:
        pytest.skip("extension not built")
    monkeypatch.setattr(halfgemm._halfgemm, "available", lambda: False)
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    assert not native_available()
    assert resolve_backend() == "numpy"
    assert isinstance(make_dense(np.eye(16, dtype=np.float32)), FloatDense)
    reason = halfgemm.unavailable_reason()
    assert "AVX2" in reason or "compiled" in reason
    with pytest.raises(ModelNotAvailableError, match="unavailable"):
        resolve_backend("native")
    assert resolve_backend("NUMPY") == "numpy"  # names are case-insensitive


def test_float_dense_is_plain_numpy() -> None:
    rng = np.random.default_rng(3)
    w = rng.standard_normal((10, 20)).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    x = rng.standard_normal((4, 10)).astype(np.float32)
    np.testing.assert_allclose(FloatDense(w, b)(x), x @ w + b, rtol=1e-6)
    np.testing.assert_allclose(FloatDense(w)(x), x @ w, rtol=1e-6)


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV, "numpy")
    assert resolve_backend() == "numpy"
    assert isinstance(make_dense(np.eye(16, dtype=np.float32)), FloatDense)
    assert resolve_backend("auto") == ("native" if native_available() else "numpy")
    monkeypatch.setenv(BACKEND_ENV, "fastest")
    with pytest.raises(InvalidConfigError, match=r"'fastest' \(from \$LATENTSCORE_DENSE\)") as info:
        resolve_backend()
    assert info.value.field == BACKEND_ENV and info.value.value == "fastest"
    monkeypatch.delenv(BACKEND_ENV)
    with pytest.raises(ValueError, match="'gpu'"):
        resolve_backend("gpu")  # type: ignore[arg-type]


def test_cli_reports_a_bad_backend_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from latentscore.cli import app
    from latentscore.models.base import clear_model_cache

    monkeypatch.setenv(BACKEND_ENV, "bogus")
    clear_model_cache()  # the fast model loads (and reads the variable) afresh
    try:
        result = CliRunner().invoke(app, ["config", "warm sunset"])
    finally:
        clear_model_cache()
    assert result.exit_code == 2
    assert "LATENTSCORE_DENSE" in result.output and "Traceback" not in result.output


def test_native_request_without_kernel_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(halfgemm, "_halfgemm", None)
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    assert resolve_backend() == "numpy"  # auto falls back quietly
    with pytest.raises(ModelNotAvailableError, match="not built"):
        resolve_backend("native")
    with pytest.raises(RuntimeError, match="FloatDense"):
        HalfDense(np.eye(16, dtype=np.float32))
