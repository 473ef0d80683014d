"""The package as a user gets it: sdist -> wheel -> fresh venv, core only, renders offline.

Why: the dev venv has every extra installed, so it cannot show what ``pip install
latentscore`` pulls in or whether the wheel has everything it needs. Here ``python -m build``
makes the sdist and, from it, the wheel (so the sdist is proven complete); the wheel goes
into a fresh venv without extras, which must hold no torch (nor transformers,
sentence-transformers, tokenizers or CUDA packages) and still turn text into music with
the network blocked. Slow (a build and an install, a few minutes), and run in CI all the same.

``LATENTSCORE_TEST_WHEEL=path/to.whl`` reuses a wheel instead of building one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HEAVY = ("torch", "transformers", "sentence-transformers", "tokenizers", "huggingface-hub")

# Runs in the fresh venv: refuse every connection, render from text, report what was loaded.
_RENDER_OFFLINE = """
import json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args)[:120])
    raise OSError("network blocked by test_install")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import latentscore as ls
audio = ls.render("warm sunset", duration=5, seed=3)
heavy = [m for m in ("torch", "transformers", "sentence_transformers", "tokenizers",
                     "huggingface_hub", "litellm") if m in sys.modules]
print(json.dumps({"n": len(audio), "model": audio.metadata.model, "file": ls.__file__,
                  "heavy": heavy, "attempts": attempts}))
"""


def _run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=900)
    assert done.returncode == 0, f"{cmd[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the sdist and the wheel built from it (``python -m build``)."""
    given = os.environ.get("LATENTSCORE_TEST_WHEEL", "").strip()
    if given:
        return Path(given).parent
    try:
        import build  # noqa: F401
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("needs the 'build' package (pip install -e '.[dev]')")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "-o", str(out), str(ROOT)])
    return out


@pytest.fixture(scope="module")
def core_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed, no extras; its python."""
    (wheel,) = dist.glob("latentscore-*.whl")
    venv = tmp_path_factory.mktemp("core") / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)])
    return python


def test_sdist_holds_everything(dist: Path) -> None:
    (sdist,) = dist.glob("latentscore-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "setup.py",
        "MANIFEST.in",
        "latentscore/models/_halfgemm.c",
        "latentscore/models/minilm_data/model.safetensors",
        "latentscore/models/minilm_data/tokenizer.json",
        "latentscore/models/minilm_data/NOTICE.md",
        "presets/library/index.npz",
        "presets/build/build_library.py",
        "presets/build/export_minilm.py",
        "presets/build/lexicon/adjective.txt",
        "presets/controllers/generic.toml",
        "tests/conftest.py",
        "benchmarks/install_size.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.endswith((".so", ".pyc"))]


def test_wheel_ships_weights_and_licences_not_build_tools(dist: Path) -> None:
    (wheel,) = dist.glob("latentscore-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "latentscore/models/minilm_data/model.safetensors" in names
    assert "latentscore/models/minilm_data/LICENSE" in names
    assert any(n.endswith("dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "latentscore/_presetdata/build/"))]


def test_core_install_has_no_torch(core_venv: Path) -> None:
    installed = json.loads(
        _run(
            [
                str(core_venv),
                "-c",
                "import json; from importlib.metadata import distributions; "
                "print(json.dumps([d.metadata['Name'].lower() for d in distributions()]))",
            ]
        )
    )
    assert "latentscore" in installed
    assert not [n for n in installed if n in HEAVY or n.startswith("nvidia")], installed


def test_core_install_renders_text_offline(core_venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LATENTSCORE_"))}
    report = json.loads(_run([str(core_venv), "-c", _RENDER_OFFLINE], cwd=tmp_path, env=env))
    assert report["n"] == 5 * 44100
    assert report["model"] == "fast"
    assert report["heavy"] == [] and report["attempts"] == []
    assert str(core_venv.parents[1]) in report["file"]  # the installed copy, not the checkout


def test_wheel_builds_without_a_c_compiler(dist: Path, tmp_path: Path) -> None:
    """The kernel is optional: with no working compiler the sdist still gives a wheel."""
    (sdist,) = dist.glob("latentscore-*.tar.gz")
    env = {**os.environ, "CC": "false", "LDSHARED": "false"}
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(sdist)],
        env=env,
    )
    (wheel,) = tmp_path.glob("latentscore-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "latentscore/models/_halfgemm.c" in names
    assert not [n for n in names if n.endswith(".so")]
