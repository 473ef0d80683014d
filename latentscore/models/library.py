"""The shipped vibe library: scene texts, their configs, titles, palettes and embeddings.

Files live in ``presets/library/`` (installed as ``latentscore._presetdata/library``) and
are written by ``python -m presets.build.build_library``:

* ``index.npz``: unit-length float16 embeddings (N x 384, kept as float16 in memory),
  each row's label indices per field (int8, N x fields, in
  :data:`latentscore.config.FIELDS` order), byte offsets of the rows in ``rows.jsonl``,
  and the word table: for each whole word the embedding
  model knows, its closest lexicon phrase (index in ``cues.json`` order) and their cosine
  (kept when >= 0.6), used for look-alike cues;
* ``rows.jsonl``: text, title and palettes, read one line at a time on demand (the
  config is the row of ``labels``);
* ``cues.json``: the lexicon for :mod:`latentscore.models.cues`;
* ``meta.json``: row count, field order, build checksum.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from latentscore.config import FIELDS, MusicConfig
from latentscore.errors import ModelNotAvailableError
from latentscore.models.halfgemm import Dense, make_dense


def library_dir() -> Path:
    """Where the shipped library lives (inside the installed package)."""
    return Path(str(files("latentscore._presetdata"))) / "library"


@dataclass(frozen=True)
class LibraryRow:
    """One library entry, as read from rows.jsonl."""

    id: int
    text: str
    title: str
    config: MusicConfig
    palettes: list[list[str]]  # three lists of five hex colours, most to least prominent


class VibeLibrary:
    """Embeddings and label table in memory; row details read lazily by offset."""

    def __init__(
        self,
        directory: Path,
        embeddings: np.ndarray,
        labels: np.ndarray,
        offsets: np.ndarray,
        word_table: dict[str, tuple[int, float]],
    ) -> None:
        self.directory = directory
        self.word_table = word_table
        #: Unit-length scene embeddings (N x 384) as shipped (float16).
        self.embeddings = embeddings
        # Cosine with every scene is one (1 x 384) @ (384 x N) product: in the float16 C
        # kernel when built (9 MB, exact since the embeddings ship as float16), else BLAS on
        # a float32 copy (18 MB).
        self._scorer: Dense = make_dense(embeddings.T)
        self.labels = labels
        self.offsets = offsets
        self._rows_path = directory / "rows.jsonl"
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path | None = None) -> VibeLibrary:
        directory = directory or library_dir()
        index = directory / "index.npz"
        if not index.exists():
            raise ModelNotAvailableError(
                f"the fast model's vibe library is missing ({index}); reinstall latentscore "
                "or rebuild it with `python -m presets.build.build_library`"
            )
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        if meta.get("fields") != list(FIELDS):
            raise ModelNotAvailableError(
                f"the vibe library in {directory} was built for fields {meta.get('fields')}, "
                f"but this version has {list(FIELDS)}; rebuild it with "
                "`python -m presets.build.build_library`"
            )
        with np.load(index) as data:
            embeddings = data["embeddings"]
            labels = data["labels"]
            offsets = data["offsets"]
            words = dict(
                zip(
                    data["words"].tolist(),
                    zip(data["word_phrase"].tolist(), data["word_sim"].tolist(), strict=True),
                    strict=True,
                )
            )
        return cls(directory, embeddings, labels, offsets, words)

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine of the unit vector ``query`` (384,) with every scene: float32 (N,)."""
        return self._scorer(query.reshape(1, -1))[0]

    def __len__(self) -> int:
        return int(self.embeddings.shape[0])

    def row(self, i: int) -> LibraryRow:
        """Row ``i`` (one seek and one line read)."""
        with self._lock, self._rows_path.open("rb") as f:
            f.seek(int(self.offsets[i]))
            data = json.loads(f.readline())
        return LibraryRow(
            id=int(data["id"]),
            text=data["text"],
            title=data["title"],
            config=self.config(i),
            palettes=data["palettes"],
        )

    def config(self, i: int) -> MusicConfig:
        """Row ``i``'s MusicConfig, from its label indices."""
        labels: dict[str, Any] = {
            name: spec.labels[int(j)]
            for (name, spec), j in zip(FIELDS.items(), self.labels[i], strict=True)
        }
        return MusicConfig(**labels)

    def rows(self) -> list[LibraryRow]:
        """Every row (tests and tools; parses the whole file)."""
        with self._rows_path.open("rb") as f:
            return [
                LibraryRow(d["id"], d["text"], d["title"], self.config(i), d["palettes"])
                for i, d in enumerate(map(json.loads, f))
            ]
