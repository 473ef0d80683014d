"""OSC address patterns (OSC 1.0): ``?``, ``*``, ``[abc]``, ``[a-z]``, ``[!abc]`` and ``{a,b}``.

None of the wildcards crosses a ``/``: ``/latentscore/*`` matches ``/latentscore/tempo`` but
not ``/latentscore/step/tempo``. A malformed pattern (an unclosed ``[`` or ``{``) raises
:class:`PatternError`.

Why no regular expressions: a pattern such as ``/a/**************x`` compiled to nested
``[^/]*`` makes a backtracking regex engine take exponential time (one 28-byte packet froze
the daemon for seconds). Here a pattern is split into ``/`` segments, each compiled to a
list of tokens, and a segment is matched by advancing the *set* of reachable positions in
the address segment token by token (a Thompson-style simulation). The cost is at most
(tokens x segment length x alternatives), linear in the address length for a given
pattern, whatever the number of stars; runs of ``*`` collapse into one token.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

WILDCARDS = frozenset("?*[]{}")
MAX_PATTERN = 1024  # characters; the bridge's longest address is well under 64


class PatternError(ValueError):
    """An address pattern is not well formed."""


@dataclass(frozen=True)
class _Star:
    """``*``: any run of characters (never ``/``; segments are matched separately)."""


@dataclass(frozen=True)
class _AnyChar:
    """``?``: exactly one character."""


@dataclass(frozen=True)
class _CharClass:
    """``[...]``: one character in (or, negated, not in) a set of characters and ranges."""

    chars: frozenset[str]
    ranges: tuple[tuple[str, str], ...]
    negate: bool

    def accepts(self, ch: str) -> bool:
        inside = ch in self.chars or any(lo <= ch <= hi for lo, hi in self.ranges)
        return inside != self.negate


@dataclass(frozen=True)
class _Choice:
    """``{a,b,c}``: one of the literal strings (a plain literal is a one-choice ``_Choice``)."""

    options: tuple[str, ...]


Token = _Star | _AnyChar | _CharClass | _Choice
_STAR, _ANY = _Star(), _AnyChar()


def is_pattern(address: str) -> bool:
    """True if ``address`` contains any OSC wildcard character."""
    return any(ch in WILDCARDS for ch in address)


@lru_cache(maxsize=512)  # bounded: senders cannot grow memory by sending new patterns
def compile_pattern(pattern: str) -> tuple[tuple[Token, ...], ...]:
    """The pattern as token lists, one per ``/`` segment (raises :class:`PatternError`)."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"address pattern of {len(pattern)} characters (limit {MAX_PATTERN})")
    return tuple(_compile_segment(seg, pattern) for seg in pattern.split("/"))


def _compile_segment(segment: str, pattern: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    literal: list[str] = []

    def push(token: Token) -> None:
        if literal:
            tokens.append(_Choice(("".join(literal),)))
            literal.clear()
        if token is _STAR and tokens and tokens[-1] is _STAR:
            return  # '**' means the same as '*'
        tokens.append(token)

    i, n = 0, len(segment)
    while i < n:
        ch = segment[i]
        if ch == "?":
            push(_ANY)
        elif ch == "*":
            push(_STAR)
        elif ch == "[":
            end = segment.find("]", i + 1)
            if end < 0:
                raise PatternError(f"unclosed '[' in address pattern {_quote(pattern)}")
            push(_char_class(segment[i + 1 : end], pattern))
            i = end
        elif ch == "{":
            end = segment.find("}", i + 1)
            if end < 0:
                raise PatternError(f"unclosed '{{' in address pattern {_quote(pattern)}")
            push(_Choice(tuple(segment[i + 1 : end].split(","))))
            i = end
        elif ch in "]}":
            raise PatternError(f"unmatched {ch!r} in address pattern {_quote(pattern)}")
        else:
            literal.append(ch)
        i += 1
    if literal:
        tokens.append(_Choice(("".join(literal),)))
    return tuple(tokens)


def _char_class(body: str, pattern: str) -> _CharClass:
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    if not body:
        raise PatternError(f"empty '[]' in address pattern {_quote(pattern)}")
    chars: set[str] = set()
    ranges: list[tuple[str, str]] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            lo, hi = body[k], body[k + 2]
            if lo > hi:
                raise PatternError(f"bad range {lo}-{hi} in address pattern {_quote(pattern)}")
            ranges.append((lo, hi))
            k += 3
        else:
            chars.add(body[k])
            k += 1
    return _CharClass(frozenset(chars), tuple(ranges), negate)


def _quote(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 80 else pattern[:77] + "...")


def _match_segment(tokens: tuple[Token, ...], text: str) -> bool:
    """Does one compiled segment match one address segment? (position-set simulation)."""
    n = len(text)
    positions = {0}
    for token in tokens:
        if not positions:
            return False
        if token is _STAR:
            positions = set(range(min(positions), n + 1))
        elif token is _ANY:
            positions = {p + 1 for p in positions if p < n}
        elif isinstance(token, _CharClass):
            positions = {p + 1 for p in positions if p < n and token.accepts(text[p])}
        else:
            assert isinstance(token, _Choice)
            positions = {
                p + len(option)
                for p in positions
                for option in token.options
                if text.startswith(option, p)
            }
    return n in positions


def matches_compiled(compiled: tuple[tuple[Token, ...], ...], address: str) -> bool:
    """Does a pattern compiled by :func:`compile_pattern` match the concrete ``address``?"""
    segments = address.split("/")
    if len(segments) != len(compiled):
        return False
    return all(_match_segment(t, s) for t, s in zip(compiled, segments, strict=True))


def matches(pattern: str, address: str) -> bool:
    """Does the OSC address pattern ``pattern`` match the concrete ``address``?"""
    if not is_pattern(pattern):
        return pattern == address
    return matches_compiled(compile_pattern(pattern), address)
