"""tune_malloc: glibc allocator settings that keep a long-running daemon's memory flat.

The daemon renders notes of every size on several threads (composer, render worker, vibe
worker) and its voice caches evict and refill all the time. With glibc's defaults that
pattern fragments the heap:

* glibc raises its mmap threshold each time a large block is freed, after which blocks of
  that size come from the heap and are never returned: under a stream of style changes the
  daemon grew by about 200 MB a minute (a fixed 128 KB threshold made it 40 MB in 45 s).
* Freed blocks between 16 KB and 128 KB (cache entries, note slices) leave holes that blocks
  of other sizes cannot reuse, and each thread gets its own arena (up to 8 per core) with
  its own holes.

Measured with in-process probes of the soak traffic (100 msgs/s, 30 % style changes, a
vibe every 15 s), RSS growth over the first 90 s after warm-up: a fixed 128 KB threshold
+37 MB; a 32 KB threshold +18 MB; one arena +20 MB; a 16 KB threshold and two arenas
+14 MB. But a low threshold costs an ``mmap``/``munmap`` pair (page faults, TLB flushes on
every core) for every block above it, and the engine builds allocate thousands: in the
10-minute JACK soak (``benchmarks/soak.py``) the 16 KB threshold gave 458 underruns and a
249 ms render stall. Two-minute soaks: no tuning, 0 underruns but +18.6 % RSS; a 128 KB
threshold with ``malloc_trim`` every 2 s, 25 underruns and +2.5 %; glibc's own threshold
with trimming, 0 and +9.5 %; a 1 MB threshold with trimming, 2 and +6.9 % (warm-up
included). So: a 1 MB threshold (whole notes of a few seconds still get their own mapping
and go back at once), two arenas, and :func:`start_trimmer` handing freed heap pages back
every 5 s. ``LATENTSCORE_MMAP_THRESHOLD`` (bytes; 0 leaves glibc's) and
``LATENTSCORE_TRIM_SECONDS`` (0: off) override them, and ``LATENTSCORE_MALLOC_TUNING=0``
turns the tuning off.

A no-op where the C library has no ``mallopt`` (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time

M_ARENA_MAX = -8  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD_BYTES = int(os.environ.get("LATENTSCORE_MMAP_THRESHOLD", 1024 * 1024))
ARENAS = 2
TRIM_SECONDS = float(os.environ.get("LATENTSCORE_TRIM_SECONDS", 5.0))
ENABLED = os.environ.get("LATENTSCORE_MALLOC_TUNING", "1") != "0"
_trimmer: threading.Thread | None = None  # one per process: the heap is the process's


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD_BYTES, arenas: int = ARENAS) -> bool:
    """Fix glibc's mmap threshold and cap its arenas; True if the C library took them.

    Call before the daemon starts its threads (arenas already made stay). Does nothing with
    ``LATENTSCORE_MALLOC_TUNING=0``.
    """
    if not ENABLED:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    ok = mmap_threshold <= 0 or bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold))
    return bool(mallopt(M_ARENA_MAX, arenas)) and ok


def start_trimmer(seconds: float = TRIM_SECONDS) -> bool:
    """Return freed heap memory to the system every ``seconds`` (glibc ``malloc_trim``).

    One daemon thread per process, however many daemons start; True if it runs.
    """
    global _trimmer
    if _trimmer is not None:
        return True
    if seconds <= 0:
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False

    def run() -> None:
        while True:
            time.sleep(seconds)
            trim(0)

    _trimmer = threading.Thread(target=run, name="malloc-trim", daemon=True)
    _trimmer.start()
    return True
