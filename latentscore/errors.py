"""Exceptions raised by the public LatentScore API.

Every error a user can cause by passing bad input derives from :class:`LatentScoreError`, so
applications can catch one type; each message names the offending field and value and, where
it helps, the values that would have been accepted.
"""

from __future__ import annotations

from collections.abc import Sequence


class LatentScoreError(Exception):
    """Base class for all LatentScore errors."""


class InvalidConfigError(LatentScoreError, ValueError):
    """A MusicConfig / MusicConfigUpdate field, label or value is not valid.

    Attributes:
        field: the field name (``None`` when the problem is not tied to one field).
        value: the rejected value.
        allowed: the accepted labels or a description of the accepted range.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: object = None,
        allowed: Sequence[object] | str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed = allowed


class ModelNotAvailableError(LatentScoreError):
    """A vibe model (text -> config) was requested that is not installed or configured."""


class AudioDeviceError(LatentScoreError):
    """Playback was requested but no usable audio output (PortAudio / device) exists.

    ``str()`` is the whole message for Python users (what went wrong and how to fix it with
    the API); :attr:`problem` is only what went wrong, so the command line can add its own
    advice (``--device``, ``--no-audio``) instead of ``audio.play(device=...)``.
    """

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem or message


class PresetNotFoundError(LatentScoreError, KeyError):
    """A named preset does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else "preset not found"
