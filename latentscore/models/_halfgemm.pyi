"""Type stub for the C extension built from ``_halfgemm.c`` (see ``halfgemm.py``)."""

from typing import Any, TypeAlias

import numpy as np
from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

# Anything exporting a C-contiguous buffer; numpy arrays are listed because on Python 3.11
# their stubs do not declare __buffer__.
_Buf: TypeAlias = Buffer | np.ndarray[Any, Any]

#: True if the AVX2 kernel was compiled in (GCC/clang on x86-64, not Windows).
KERNEL_COMPILED: int

def available() -> bool:
    """True if this CPU can run the kernel (x86-64 AVX2 + FMA + F16C)."""

def matmul(x: _Buf, w: _Buf, bias: _Buf | None, y: _Buf, m: int, k: int, n: int, /) -> None:
    """``y[m, n] = x[m, k] @ W + bias`` with W packed as float16 panels (n/16, k, 16)."""
