"""Atomic file writes: write to a temporary sibling, then rename over the target.

A crash or an exception half-way through a save must never leave a truncated file under the
user's chosen name (or clobber a good file that was there before). ``os.replace`` within one
directory is atomic on POSIX and Windows, hence the temporary file lives next to the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces ``path``.

    On any exception the temporary file is removed and the exception propagates; ``path`` is
    left untouched.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _naming(exc, target) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; give the result the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename in (str(tmp), tmp):
            raise _naming(exc, target) from None
        raise


def _naming(exc: OSError, target: Path) -> OSError:
    """The same error about ``target``: the user never chose the hidden temporary name, so a
    message quoting it (``.x.wav.54rv9qkj.tmp``) would not say which file failed."""
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, str(target))
