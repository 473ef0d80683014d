"""The numpy MiniLM encoder equals sentence-transformers, stays offline, light and deterministic.

Why: the "fast" vibe model answers queries with :class:`MiniLMEncoder` (no torch, so the cold
CLI stays fast) while the shipped library embeddings may come from sentence-transformers; the
two must agree or retrieval silently degrades. The reference is computed once per module
(sentence-transformers costs ~4 s to import) with networking blocked.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from latentscore.models.halfgemm import native_available
from latentscore.models.minilm import (
    EMBEDDING_DIM,
    MAX_SEQ_LENGTH,
    MODEL_DIR_ENV,
    MiniLMEncoder,
    default_model_dir,
    read_safetensors,
)

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_ADJ = [
    "warm",
    "cold",
    "misty",
    "bright",
    "dark",
    "gentle",
    "stormy",
    "quiet",
    "vast",
    "tiny",
    "ancient",
    "neon",
    "golden",
]
_NOUN = [
    "sunset",
    "forest",
    "river",
    "city",
    "cathedral",
    "desert",
    "harbour",
    "meadow",
    "subway",
    "glacier",
]
_PLACE = ["over water", "in the rain", "at midnight", "under the stars", "by the sea", "in a cave"]
_MUSIC = [
    "slow tempo",
    "very fast",
    "minor key",
    "no drums",
    "dub echo",
    "walking bass",
    "in D dorian",
    "allegro",
    "pitch black",
    "vast cathedral reverb",
    "lo-fi tape hiss",
    "808 kick",
]
_FOREIGN = [
    "coucher de soleil chaleureux sur l'eau",
    "café au lait, très doux, à Noël",
    "noche lluviosa en la ciudad, señor",
    "Gemütlicher Abend am Kamin, schöne Grüße",
    "夕焼けの海辺でゆっくり",
    "雨の夜の東京",
    "安静的森林早晨",
    "비 오는 밤의 서울",
    "тёплый закат над морем",
    "غروب الشمس فوق الماء",
    "Ζεστό ηλιοβασίλεμα",
    "🌅🌊 chill vibes 🎶",
    "🔥🔥🔥",
    "naïve façade, coöperate, Ångström",
]


def _typo(word: str, rng: random.Random) -> str:
    """Delete, swap or double one character: the kind of noise users type."""
    if len(word) < 3:
        return word
    i = rng.randrange(len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i] + word[i:]


def _sentences() -> list[str]:
    """A deterministic, varied test set (~300 texts) built from the word lists above."""
    rng = random.Random(20240611)
    out: list[str] = ["a", "", " ", "!", "?!...", "A", "x", "music", "   warm   sunset   "]
    scenes = [f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_PLACE)}" for _ in range(120)]
    out += scenes[:60]
    out += [s.upper() for s in scenes[60:80]]
    out += [s.title() + rng.choice([".", "!", "?", "...", " :)", ""]) for s in scenes[:30]]
    out += [" ".join(_typo(w, rng) for w in s.split()) for s in scenes[80:100]]
    out += [
        f"{s}, {rng.choice(_MUSIC)}!!! ({rng.choice(_MUSIC)}) -- {rng.randint(40, 180)} bpm"
        for s in scenes[100:120]
    ]
    out += [f"{rng.choice(_MUSIC)}; {rng.choice(_MUSIC)}" for _ in range(20)]
    out += _FOREIGN
    out += [f"{f} — {rng.choice(scenes)}" for f in _FOREIGN]
    out += [
        "".join(rng.choice(".,;:!?-'\"()[]{}…") for _ in range(rng.randint(1, 12)))
        for _ in range(10)
    ]
    # Long paragraphs: some just under the 256-token limit, most well over (truncation).
    for n_words in (60, 200, 240, 300, 700):
        words = [rng.choice(_ADJ + _NOUN + _MUSIC) for _ in range(n_words)]
        out.append(" ".join(words))
    out.append("unbelievably " * 300)
    out.append("雨" * 400)
    out += [
        " ".join(rng.choice(_ADJ + _NOUN) for _ in range(rng.randint(4, 30))) for _ in range(80)
    ]
    return out


SENTENCES = _sentences()
_HF_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")

_BLOCK_NET = """
import socket
attempts = []
def refuse(*a, **k):
    attempts.append(repr(a)[:200])
    raise OSError("blocked")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
"""


def _run(code: str, env_drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (repo root as cwd); it prints one JSON line."""
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@contextmanager
def _network_blocked() -> Iterator[list[str]]:
    """Make every outgoing connection (and DNS lookup) fail, recording each attempt."""
    attempts: list[str] = []
    saved = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.create_connection,
        socket.getaddrinfo,
    )

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[1:] or args)[:200])
        raise OSError("network access blocked by test_minilm")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    try:
        yield attempts
    finally:
        (
            socket.socket.connect,
            socket.socket.connect_ex,
            socket.create_connection,
            socket.getaddrinfo,
        ) = saved  # type: ignore[method-assign]


@pytest.fixture(scope="module", params=["native", "numpy"])
def encoder(request: pytest.FixtureRequest) -> MiniLMEncoder:
    """The encoder on each dense backend: the float16 C kernel and float32 numpy must both
    match sentence-transformers (the kernel must be built when CI=true)."""
    backend = request.param
    if backend == "native" and not native_available() and not IN_CI:
        pytest.skip("C kernel not built or unsupported here")
    with _network_blocked() as attempts:
        enc = MiniLMEncoder.load(dense=backend)
        enc.encode("warm up")
    assert attempts == []
    assert enc.backend == backend
    return enc


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """sentence-transformers embeddings of SENTENCES, computed once in a fresh interpreter
    with networking blocked and no Hugging Face offline switches inherited, so this also
    proves :func:`reference_encode` is offline on its own (one ~4 s import for the module)."""
    work = tmp_path_factory.mktemp("minilm_ref")
    (work / "texts.json").write_text(json.dumps(SENTENCES), encoding="utf-8")
    result = _run(
        _BLOCK_NET
        + f"""
import json
from pathlib import Path
import numpy as np
from latentscore.models.minilm import reference_encode
work = Path({str(work)!r})
texts = json.loads((work / "texts.json").read_text(encoding="utf-8"))
# Small batches: sentence-transformers pads each batch to its longest text.
np.save(work / "ref.npy", reference_encode(texts, batch_size=8))
print(json.dumps({{"attempts": attempts}}))
""",
        env_drop=_HF_OFFLINE_VARS,
    )
    assert result["attempts"] == [], f"sentence-transformers tried the network: {result}"
    return np.load(work / "ref.npy")


@pytest.fixture(scope="module")
def ours(encoder: MiniLMEncoder) -> np.ndarray:
    return encoder.encode(SENTENCES)


def test_test_set_is_varied(encoder: MiniLMEncoder) -> None:
    assert len(SENTENCES) >= 300
    lengths = [encoder.token_count(s) for s in SENTENCES]
    assert sum(n > MAX_SEQ_LENGTH for n in lengths) >= 4  # truncation is exercised
    assert min(lengths) == 2  # [CLS] [SEP] only (empty / whitespace)


def test_matches_sentence_transformers(ours: np.ndarray, reference: np.ndarray) -> None:
    assert ours.shape == reference.shape == (len(SENTENCES), EMBEDDING_DIM)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = np.sum(ours * reference, axis=1) / np.linalg.norm(reference, axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= 0.9999, f"cosine {cos.min():.6f} for {SENTENCES[worst]!r}"
    assert np.abs(ours - reference).max() < 1e-3


def test_truncates_like_sentence_transformers(encoder: MiniLMEncoder) -> None:
    long_text = "unbelievably " * 300
    assert encoder.is_truncated(long_text)
    assert encoder.token_count(long_text) > MAX_SEQ_LENGTH
    assert not encoder.is_truncated("warm sunset")
    assert encoder.token_count("warm sunset") == 4
    # Everything past the limit is ignored.
    np.testing.assert_allclose(
        encoder.encode(long_text), encoder.encode(long_text + " thunderous drums"), atol=1e-6
    )


def test_deterministic_and_batch_invariant(encoder: MiniLMEncoder, ours: np.ndarray) -> None:
    sample = SENTENCES[::7]
    idx = list(range(0, len(SENTENCES), 7))
    again = encoder.encode(sample)
    np.testing.assert_array_equal(again, encoder.encode(sample))
    np.testing.assert_allclose(again, ours[idx], atol=1e-5)
    solo = np.vstack([encoder.encode(s) for s in sample])
    np.testing.assert_allclose(solo, again, atol=1e-5)
    shuffled = list(reversed(sample))
    np.testing.assert_allclose(encoder.encode(shuffled, batch_size=5)[::-1], again, atol=1e-5)
    np.testing.assert_allclose(encoder.encode(sample, batch_size=1), again, atol=1e-5)


def test_single_string_and_empty_input(encoder: MiniLMEncoder) -> None:
    one = encoder.encode("warm sunset over water")
    assert one.shape == (1, EMBEDDING_DIM)
    assert encoder.encode([]).shape == (0, EMBEDDING_DIM)
    with pytest.raises(ValueError):
        encoder.encode(["a"], batch_size=0)


def test_thread_safe(encoder: MiniLMEncoder, ours: np.ndarray) -> None:
    picks = list(range(0, 120, 3))
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in picks[offset::4]:
                results[i] = encoder.encode(SENTENCES[i])[0]
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in picks:
        np.testing.assert_allclose(results[i], ours[i], atol=1e-5)


def test_safetensors_reader_matches_library() -> None:
    from safetensors.numpy import load_file

    path = default_model_dir() / "model.safetensors"
    ours = read_safetensors(path)
    theirs = load_file(str(path))
    assert ours.keys() == theirs.keys()
    for name, arr in theirs.items():
        assert ours[name].dtype == arr.dtype and ours[name].shape == arr.shape, name
        np.testing.assert_array_equal(ours[name], arr, err_msg=name)
        assert not ours[name].flags.writeable


def test_model_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = default_model_dir()
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    assert default_model_dir() == tmp_path
    with pytest.raises(FileNotFoundError):
        MiniLMEncoder.load()
    for name in ("tokenizer.json", "model.safetensors"):
        (tmp_path / name).symlink_to(real / name)
    enc = MiniLMEncoder.load()
    assert enc.model_dir == tmp_path
    assert enc.encode("x").shape == (1, EMBEDDING_DIM)


def test_light_path_imports_no_torch_and_stays_offline() -> None:
    result = _run(
        _BLOCK_NET
        + """
import json, sys
from latentscore.models.minilm import MiniLMEncoder
emb = MiniLMEncoder.load().encode(["warm sunset over water", "雨の夜"])
heavy = [m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules]
print(json.dumps({"heavy": heavy, "attempts": attempts, "shape": list(emb.shape)}))
"""
    )
    assert result == {"heavy": [], "attempts": [], "shape": [2, EMBEDDING_DIM]}


def test_reference_runs_offline_from_a_clean_environment(reference: np.ndarray) -> None:
    """The fixture ran sentence-transformers with sockets blocked and no offline switches set;
    reaching here means it neither tried the network nor failed."""
    assert reference.shape == (len(SENTENCES), EMBEDDING_DIM)
    np.testing.assert_allclose(np.linalg.norm(reference, axis=1), 1.0, atol=1e-5)
