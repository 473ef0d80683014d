"""Architecture boundaries: synth stays pure, importing the library stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "litellm", "mido", "sounddevice")
# Loaded on use only (CLI, progress bars, file I/O), so `import latentscore` stays fast.
LAZY = ("rich", "typer", "soundfile", "rtmidi")


def _modules_after_import(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    return set(proc.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import synth",
        "import synth.engine",
        "import latentscore",
        "import latentscore as ls; ls.presets.list_presets(); ls.MusicConfig()",
    ],
)
def test_import_does_not_pull_heavy_modules(statement: str) -> None:
    loaded = _modules_after_import(statement)
    leaked = sorted(m for m in loaded if m.split(".")[0] in (*HEAVY, *LAZY))
    assert not leaked, f"{statement!r} imported {leaked}"


def test_synth_does_not_import_latentscore_or_bridge_at_runtime() -> None:
    loaded = _modules_after_import("import synth, synth.engine")
    assert not any(m.split(".")[0] in ("latentscore", "bridge") for m in loaded)


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_synth_sources_never_import_latentscore_or_bridge() -> None:
    sources = sorted((ROOT / "synth").rglob("*.py"))
    assert sources
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imported_roots(p) & {"latentscore", "bridge"})
        for p in sources
        if _imported_roots(p) & {"latentscore", "bridge"}
    }
    assert not offenders


def test_latentscore_sources_never_import_bridge() -> None:
    # The CLI may start the bridge later, via a lazy import inside a function.
    sources = [p for p in (ROOT / "latentscore").rglob("*.py") if p.name != "cli.py"]
    assert not [str(p) for p in sources if "bridge" in _imported_roots(p)]


def test_latentscore_and_its_cli_do_not_load_the_bridge() -> None:
    loaded = _modules_after_import("import latentscore, latentscore.cli")
    assert not any(m.split(".")[0] in ("bridge", "websockets", "zeroconf") for m in loaded)


def test_bridge_stays_free_of_ml_and_midi_at_import() -> None:
    loaded = _modules_after_import("import bridge.daemon, bridge.cli")
    leaked = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not leaked, leaked
