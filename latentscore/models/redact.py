"""Keep API keys out of every message LatentScore writes: logs, warnings, exception text.

Provider errors sometimes quote the key they were given ("Incorrect API key provided:
sk-..."), and LiteLLM's debug logging can echo request parameters. Anything an LLM-backed
model logs or raises therefore goes through a :class:`Redactor` first, which replaces

* the secrets it was given (``ExternalModelSpec.api_key``, secret-looking ``litellm_kwargs``),
* the values of environment variables whose names say they hold a secret (``*_API_KEY``,
  ``*_TOKEN``, ``*_SECRET*``, ``*PASSWORD*``), which is where LiteLLM reads keys from,
* and anything shaped like a common key format (``sk-...``, ``AIza...``, ``Bearer ...``)

with ``[REDACTED]``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 8
"""Shorter values are not treated as secrets: replacing them would garble ordinary text."""

_SECRET_NAME = re.compile(
    r"(api[_-]?key|token|secret|password|passwd|credential|authori[sz]ation)", re.I
)
_KEY_SHAPES = re.compile(
    r"(\bsk-[A-Za-z0-9_\-]{6,}|\bsk_[A-Za-z0-9_\-]{10,}|\bAIza[0-9A-Za-z_\-]{10,}"
    r"|(?<=Bearer )[A-Za-z0-9._\-]{8,}|\bhf_[A-Za-z0-9]{10,})"
)


def is_secret_name(name: str) -> bool:
    """Whether a parameter or variable name says its value is a credential."""
    return bool(_SECRET_NAME.search(name))


def secret_values(mapping: Mapping[str, object]) -> list[str]:
    """String values under secret-looking keys, searched recursively (e.g. extra_headers)."""
    found: list[str] = []
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            found += secret_values(value)
        elif isinstance(value, str) and is_secret_name(str(key)):
            found.append(value)
    return found


def mask_mapping(mapping: Mapping[str, object]) -> dict[str, object]:
    """A copy with secret-looking values replaced, for ``repr`` and serialisation."""
    out: dict[str, object] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            out[key] = mask_mapping(value)
        elif is_secret_name(str(key)) and value is not None:
            out[key] = "**********"
        else:
            out[key] = value
    return out


class Redactor:
    """Replaces known secrets (and key-shaped strings) in text with ``[REDACTED]``."""

    def __init__(self, secrets: Iterable[str] = (), *, include_environment: bool = True) -> None:
        values = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_CHARS}
        if include_environment:
            values |= {
                v for k, v in os.environ.items() if is_secret_name(k) and len(v) >= MIN_SECRET_CHARS
            }
        # Longest first, so a key that contains another is removed whole.
        self._secrets = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _KEY_SHAPES.sub(REDACTED, text)


_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secrets(values: Iterable[str]) -> None:
    """Remember keys in use in this process, so :class:`RedactingFilter` can remove them."""
    with _registered_lock:
        _registered.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_CHARS)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts records before any handler formats them.

    Installed on LiteLLM's loggers, so its own debug output cannot leak a key either. It
    redacts every registered key and the secret environment variables as they are now.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix; let logging report it
            return True
        with _registered_lock:
            redact = Redactor(_registered)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_filter(logger_names: Iterable[str]) -> None:
    """Add one :class:`RedactingFilter` to each named logger (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
