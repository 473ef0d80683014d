"""BERT uncased WordPiece tokenisation, as the ``tokenizers`` package does it for MiniLM.

Why not the ``tokenizers`` package: it is the right tool, but it brings huggingface-hub,
hf-xet, httpx, fsspec, pyyaml and friends, about 45 MB of the core install (measured with
``benchmarks/install_size.py``: 375 MB with it, the target is 300), and the fast model uses
none of that: only the vocabulary lookup of one fixed tokenizer. The algorithm is small and
fully specified by the model's ``tokenizer.json`` (``BertNormalizer`` with lowercasing,
``BertPreTokenizer``, ``WordPiece`` with ``##`` continuations, ``[CLS] ... [SEP]``), so it is
re-implemented here, following the Rust source of ``tokenizers`` (not the older Python BERT
code, which lowercases before stripping accents). ``tests/test_wordpiece.py`` checks every
Unicode code point and the whole vibe library against ``tokenizers`` (a dev dependency) id
for id, and ``tests/test_minilm.py`` the embeddings against sentence-transformers. One known
difference: ``tokenizers`` classifies characters with Unicode 9 tables and we use Python's
``unicodedata``, so about 450 characters assigned or recategorised since (e.g. U+0890,
U+0898) may be dropped here where ``tokenizers`` yields ``[UNK]``; the model knows none of
them, and everything older matches exactly.

Steps, in the order ``tokenizers`` applies them:

1. special tokens (``[CLS]``, ``[SEP]``, ``[MASK]``, ...) written in the raw text stay whole;
2. clean: drop NUL, U+FFFD, control, format and private-use characters, whitespace to a space;
3. put spaces around CJK ideographs;
4. NFD, then drop non-spacing marks (accents);
5. lowercase, character by character (so a final sigma stays sigma, as in Rust);
6. split on whitespace and around every punctuation character;
7. WordPiece: longest vocabulary prefix first, the rest with ``##``; a word with an
   unmatched piece, or longer than 100 characters, becomes ``[UNK]``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

__all__ = ["WordPieceTokenizer"]

# Rust's char::is_whitespace (the Unicode White_Space property); other characters of
# category C* are removed by the cleaning step before this matters.
_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Removed by cleaning (control, format, private use); unassigned code points (Cn) stay.
_REMOVED = frozenset(("Cc", "Cf", "Co", "Cs"))
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# CJK ranges of tokenizers' BertNormalizer (is_chinese_char), copied as written there.
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK)


def _is_punct(ch: str) -> bool:
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def _clean_char(ch: str) -> str:
    """Step 2-3 for one character: "", " ", the character, or it spaced (CJK)."""
    cp = ord(ch)
    if ch in "\t\n\r":
        return " "
    if cp == 0 or cp == 0xFFFD or unicodedata.category(ch) in _REMOVED:
        return ""
    if ch in _WHITESPACE:
        return " "
    if cp >= 0x3400 and _is_cjk(cp):
        return f" {ch} "
    return ch


def normalize(text: str) -> str:
    """Steps 2-5: clean, space CJK, strip accents, lowercase."""
    if text.isascii():
        # Plain ASCII (most queries): only control characters need care, and NFD and
        # lowercasing are per character anyway.
        return "".join(
            " " if ch in "\t\n\r" else ch for ch in text if " " <= ch < "\x7f" or ch in "\t\n\r"
        ).lower()
    cleaned = "".join(_clean_char(ch) for ch in text)
    decomposed = unicodedata.normalize("NFD", cleaned)
    return "".join(ch.lower() for ch in decomposed if unicodedata.category(ch) != "Mn")


def pre_tokenize(text: str) -> Iterator[str]:
    """Step 6: words split on whitespace, each punctuation character a word of its own."""
    word: list[str] = []
    for ch in text:
        if ch in _WHITESPACE:
            if word:
                yield "".join(word)
                word = []
        elif _is_punct(ch):
            if word:
                yield "".join(word)
                word = []
            yield ch
        else:
            word.append(ch)
    if word:
        yield "".join(word)


class WordPieceTokenizer:
    """The MiniLM tokenizer: text to ids with ``[CLS]``/``[SEP]``, truncated on request.

    Safe to share between threads: the vocabulary is never changed, and the word cache only
    gains entries (single dict stores, atomic under the GIL).
    """

    def __init__(
        self,
        vocab: dict[str, int],
        special: list[str],
        unk: str = "[UNK]",
        prefix: str = "##",
        max_word_chars: int = 100,
    ) -> None:
        self._vocab = dict(vocab)
        self._unk = self._vocab[unk]
        self._cls = self._vocab["[CLS]"]
        self._sep = self._vocab["[SEP]"]
        self._prefix = prefix
        self._max_word_chars = max_word_chars
        # Longest first, so a longer special token wins where two would match.
        ordered = sorted(special, key=len, reverse=True)
        self._special = {s: self._vocab[s] for s in special}
        self._special_re = re.compile("|".join(re.escape(s) for s in ordered)) if special else None
        self._cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        """Read a ``tokenizers`` ``tokenizer.json`` holding a BERT WordPiece model.

        Raises ``ValueError`` for any other kind of tokenizer, rather than tokenising wrongly.
        """
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        model = spec.get("model") or {}
        normalizer = spec.get("normalizer") or {}
        expected = (
            model.get("type") == "WordPiece"
            and normalizer.get("type") == "BertNormalizer"
            and normalizer.get("lowercase") is True
            and normalizer.get("strip_accents") in (None, True)
            and (spec.get("pre_tokenizer") or {}).get("type") == "BertPreTokenizer"
        )
        if not expected:
            raise ValueError(f"{path}: not a lowercasing BERT WordPiece tokenizer")
        special = [
            t["content"]
            for t in spec.get("added_tokens", [])
            if t.get("special") and not t.get("normalized")
        ]
        return cls(
            model["vocab"],
            special,
            unk=model.get("unk_token", "[UNK]"),
            prefix=model.get("continuing_subword_prefix", "##"),
            max_word_chars=int(model.get("max_input_chars_per_word", 100)),
        )

    def get_vocab(self) -> dict[str, int]:
        """Token string -> id (a copy), as ``tokenizers.Tokenizer.get_vocab()``."""
        return dict(self._vocab)

    def tokens(self, text: str) -> list[int]:
        """The ids of ``text`` without ``[CLS]``/``[SEP]`` and without truncation."""
        ids: list[int] = []
        for segment, special in self._segments(text):
            if special:
                ids.append(self._special[segment])
                continue
            for word in pre_tokenize(normalize(segment)):
                ids.extend(self._word(word))
        return ids

    def encode(self, text: str, max_length: int | None = None) -> list[int]:
        """``[CLS] tokens [SEP]``, keeping the first tokens so the total is <= ``max_length``."""
        ids = self.tokens(text)
        if max_length is not None:
            del ids[max(max_length - 2, 0) :]
        return [self._cls, *ids, self._sep]

    def _segments(self, text: str) -> Iterator[tuple[str, bool]]:
        """The raw text split into (piece, is_special_token), special tokens matched as is."""
        if self._special_re is None:
            yield text, False
            return
        start = 0
        for match in self._special_re.finditer(text):
            if match.start() > start:
                yield text[start : match.start()], False
            yield match.group(), True
            start = match.end()
        if start < len(text):
            yield text[start:], False

    def _word(self, word: str) -> tuple[int, ...]:
        """Step 7 for one word (memoised: vibe texts repeat words)."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if len(word) > self._max_word_chars:
            pieces: tuple[int, ...] = (self._unk,)
        else:
            found: list[int] = []
            start = 0
            while start < len(word):
                end = len(word)
                while end > start:
                    piece = word[start:end] if start == 0 else self._prefix + word[start:end]
                    token = self._vocab.get(piece)
                    if token is not None:
                        found.append(token)
                        break
                    end -= 1
                else:
                    found = [self._unk]
                    break
                start = end
            pieces = tuple(found)
        if len(self._cache) < 65536:  # bounded: a library build sees many distinct words
            self._cache[word] = pieces
        return pieces
