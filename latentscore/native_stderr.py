"""Silence what C libraries print on file descriptor 2 while we probe them.

Why: asking python-rtmidi (ALSA sequencer, JACK) or PortAudio whether a system is there
makes the C libraries print their own diagnostics straight to fd 2 ("ALSA lib
seq_hw.c:466: ... open /dev/snd/seq failed", "jack server is not running or cannot be
started", "JackShmReadWritePtr::~JackShmReadWritePtr ..."), bypassing Python. Those lines are
noise to a user who did not ask for MIDI, and our own message (``MidiUnavailable``, the
doctor row) already says what is missing and how to fix it.

The redirection is process-wide while it lasts, so it is kept to the probe itself; Python's
own ``sys.stderr`` is flushed first so nothing written before is lost.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["silenced_native_stderr"]


@contextlib.contextmanager
def silenced_native_stderr() -> Iterator[None]:
    """Point fd 2 at ``/dev/null`` for the duration of the block (a no-op if fd 2 cannot
    be duplicated, e.g. under some embedders)."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
