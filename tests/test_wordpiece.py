"""Our WordPiece tokenizer gives the ids ``tokenizers`` gives, for every code point and text.

Why: the fast model's encoder tokenises with :mod:`latentscore.models.wordpiece` so the core
install does not need ``tokenizers`` (and its ~45 MB of hub dependencies); a single id of
difference would move an embedding, so equality is checked exhaustively over Unicode and on
the whole vibe library, against ``tokenizers`` reading the same ``tokenizer.json``.
"""

from __future__ import annotations

import json
import random
import sys
import unicodedata
from pathlib import Path

import pytest

from latentscore.models.minilm import BUNDLED_MODEL_DIR, MAX_SEQ_LENGTH
from latentscore.models.wordpiece import WordPieceTokenizer

tokenizers = pytest.importorskip("tokenizers")

TOKENIZER_JSON = BUNDLED_MODEL_DIR / "tokenizer.json"


@pytest.fixture(scope="module")
def ours() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_file(TOKENIZER_JSON)


@pytest.fixture(scope="module")
def theirs() -> tokenizers.Tokenizer:
    tok = tokenizers.Tokenizer.from_file(str(TOKENIZER_JSON))
    tok.no_padding()
    tok.no_truncation()
    return tok


def _assert_same(ours: WordPieceTokenizer, theirs: tokenizers.Tokenizer, texts: list[str]) -> None:
    expected = [e.ids for e in theirs.encode_batch(texts)]
    for text, ids in zip(texts, expected, strict=True):
        assert ours.encode(text) == ids, f"{text!r}: {ours.encode(text)} != {ids}"


def _stable(cp: int) -> bool:
    """Whether the code point's category is the same in Unicode 3.2 and in this Python.

    ``tokenizers`` classifies characters with tables from Unicode 9 (its
    ``unicode_categories`` crate) and we with Python's ``unicodedata`` (Unicode 14 in
    Python 3.11), so characters assigned or recategorised since then can differ (about 450;
    the model knows none of them: ``[UNK]`` either way or dropped by us)."""
    ch = chr(cp)
    old, new = unicodedata.ucd_3_2_0.category(ch), unicodedata.category(ch)
    # Letters, digits, symbols, spacing marks and unassigned points are all "part of a
    # word" to both tokenizers, so a change among them makes no difference.
    return old == new or not ({old, new} & _SPECIAL or {old[0], new[0]} & {"P", "Z"})


_SPECIAL = {"Mn", "Cc", "Cf", "Co", "Cs"}


def test_every_code_point(ours: WordPieceTokenizer, theirs: tokenizers.Tokenizer) -> None:
    # Each character alone and between letters (so cleaning, whitespace, punctuation, CJK
    # spacing and accent stripping are all seen in context), over every plane in use.
    points = [cp for cp in range(0x32000) if not 0xD800 <= cp <= 0xDFFF]
    points += [*range(0xE0000, 0xE0080), 0xF0000, 0x10FFFD]
    stable = [cp for cp in points if _stable(cp)]
    assert len(stable) > 0.9 * len(points)
    texts = [t for cp in stable for t in (chr(cp), f"a{chr(cp)}b")]
    _assert_same(ours, theirs, texts)


def test_sentences_and_the_vibe_library(
    ours: WordPieceTokenizer, theirs: tokenizers.Tokenizer
) -> None:
    from latentscore.models.library import library_dir

    rows = (library_dir() / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(row)["text"] for row in rows]
    rng = random.Random(19)
    alphabet = "aeiou xyzÀéîõüßØçñ漢字かなКириллица,.!?'-[]()#@ \t\n"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(2000)]
    texts += [
        "",
        "   ",
        "[CLS] warm [SEP] sunset[MASK]x [cls]",
        "ΣΊΣΥΦΟΣ final sigma",
        "İstanbul at dusk",
        "x" * 99 + " " + "y" * 101,
        "unbelievably " * 300,
        "naïve café, Straße, Ærøskøbing, 東京の雨",
    ]
    _assert_same(ours, theirs, texts)


def test_truncation_keeps_the_first_tokens(ours: WordPieceTokenizer) -> None:
    long_text = "warm " * 400
    ids = ours.encode(long_text, max_length=MAX_SEQ_LENGTH)
    assert len(ids) == MAX_SEQ_LENGTH
    assert ids[0] == ours.get_vocab()["[CLS]"] and ids[-1] == ours.get_vocab()["[SEP]"]
    assert len(ours.tokens(long_text)) == 400
    assert ours.encode("warm sunset") == ours.encode("warm sunset", max_length=MAX_SEQ_LENGTH)


def test_rejects_other_tokenizers(tmp_path: Path) -> None:
    spec = json.loads(TOKENIZER_JSON.read_text(encoding="utf-8"))
    spec["normalizer"]["lowercase"] = False
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(ValueError, match="not a lowercasing BERT WordPiece"):
        WordPieceTokenizer.from_file(path)


def test_core_path_does_not_import_tokenizers() -> None:
    import subprocess

    code = (
        "import sys; from latentscore.models.minilm import MiniLMEncoder; "
        "MiniLMEncoder.load().encode('warm sunset'); print('tokenizers' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"
