"""Named presets: hand-made MusicConfigs stored as JSON, one file per preset.

The files live in the repository's ``presets/configs/`` folder. A regular install ships that
folder as the package data ``latentscore._presetdata.configs``; an editable install (or a
plain checkout on ``sys.path``) reads the repository folder directly. Adding a preset is
dropping a complete MusicConfig JSON file into the folder; its stem is the preset name.
"""

from __future__ import annotations

import difflib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from latentscore.config import MusicConfig
from latentscore.errors import InvalidConfigError, PresetNotFoundError

_REPO_CONFIGS = Path(__file__).resolve().parent.parent / "presets" / "configs"


def _has_json(folder: Traversable) -> bool:
    try:
        return folder.is_dir() and any(p.name.endswith(".json") for p in folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return False


def configs_dir() -> Traversable:
    """The folder presets are read from (installed package data first, else the repo)."""
    try:
        packaged = resources.files("latentscore._presetdata") / "configs"
    except ModuleNotFoundError:
        packaged = None
    if packaged is not None and _has_json(packaged):
        return packaged
    if _has_json(_REPO_CONFIGS):
        return _REPO_CONFIGS
    raise PresetNotFoundError(
        "No preset folder found: expected the package data latentscore._presetdata.configs or "
        f"{_REPO_CONFIGS}. Reinstall latentscore (pip install latentscore) to restore it."
    )


def _files() -> dict[str, Traversable]:
    return {p.name[: -len(".json")]: p for p in configs_dir().iterdir() if p.name.endswith(".json")}


def list_presets() -> list[str]:
    """Names of all presets, sorted."""
    return sorted(_files())


def load(name: str) -> MusicConfig:
    """The MusicConfig of preset ``name`` (case and ``-``/space tolerant).

    Raises PresetNotFoundError listing the available names and the closest matches.
    """
    files = _files()
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in files:
        names = sorted(files)
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise PresetNotFoundError(
            f"Unknown preset {name!r}.{hint} Available presets: {', '.join(names)}"
        )
    try:
        return MusicConfig.from_json(files[key].read_text(encoding="utf-8"))
    except InvalidConfigError as exc:
        raise InvalidConfigError(
            f"preset {key!r} is not a valid MusicConfig: {exc}",
            field=exc.field,
            value=exc.value,
            allowed=exc.allowed,
        ) from None
