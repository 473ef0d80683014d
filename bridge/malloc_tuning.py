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
+14 MB. (The rest was the voices' note-length envelope caches, now bounded by bytes in
:data:`synth.sample_cache.SAMPLES`: with both, +3 MB over 2.5 minutes.) The cost is an
``mmap`` per block of 16 KB or more, none of which the render worker allocates per block.

A no-op where the C library has no ``mallopt`` (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes

M_ARENA_MAX = -8  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD_BYTES = 16 * 1024
ARENAS = 2


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD_BYTES, arenas: int = ARENAS) -> bool:
    """Fix glibc's mmap threshold and cap its arenas; True if the C library took them.

    Call before the daemon starts its threads (arenas already made stay).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold))
    return bool(mallopt(M_ARENA_MAX, arenas)) and ok
