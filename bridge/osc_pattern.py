"""OSC address patterns (OSC 1.0): ``?``, ``*``, ``[abc]``, ``[a-z]``, ``[!abc]`` and ``{a,b}``.

A pattern is compiled to an anchored regular expression once and cached. None of the
wildcards crosses a ``/``: ``/latentscore/*`` matches ``/latentscore/tempo`` but not
``/latentscore/tempo/step``. A malformed pattern (an unclosed ``[`` or ``{``) raises
:class:`PatternError`.
"""

from __future__ import annotations

import re
from functools import lru_cache

WILDCARDS = frozenset("?*[]{}")


class PatternError(ValueError):
    """An address pattern is not well formed."""


def is_pattern(address: str) -> bool:
    """True if ``address`` contains any OSC wildcard character."""
    return any(ch in WILDCARDS for ch in address)


@lru_cache(maxsize=512)  # bounded: senders cannot grow memory by sending new patterns
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regular expression matching exactly the addresses ``pattern`` names."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "?":
            out.append("[^/]")
        elif ch == "*":
            out.append("[^/]*")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise PatternError(f"unclosed '[' in address pattern {pattern!r}")
            out.append(_char_class(pattern[i + 1 : end], pattern))
            i = end
        elif ch == "{":
            end = pattern.find("}", i + 1)
            if end < 0:
                raise PatternError(f"unclosed '{{' in address pattern {pattern!r}")
            choices = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(re.escape(c) for c in choices) + ")")
            i = end
        elif ch in "]}":
            raise PatternError(f"unmatched {ch!r} in address pattern {pattern!r}")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _char_class(body: str, pattern: str) -> str:
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    if not body:
        raise PatternError(f"empty '[]' in address pattern {pattern!r}")
    parts: list[str] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            lo, hi = body[k], body[k + 2]
            if lo > hi:
                raise PatternError(f"bad range {lo}-{hi} in address pattern {pattern!r}")
            parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
            k += 3
        else:
            parts.append(re.escape(body[k]))
            k += 1
    # a negated class must still not cross a '/'
    return ("[^/" if negate else "[") + "".join(parts) + "]"


def matches(pattern: str, address: str) -> bool:
    """Does the OSC address pattern ``pattern`` match the concrete ``address``?"""
    if not is_pattern(pattern):
        return pattern == address
    return compile_pattern(pattern).match(address) is not None
