"""What installing LatentScore costs: venv size, biggest packages, install and start-up time.

Builds the sdist and, from it, the wheel (``python -m build``; ``--wheel`` reuses one), then
for each variant (the core and each extra; ``--variants``) creates a fresh venv under
``--workdir``, installs the wheel and prints:

- venv size (``du`` of the whole venv, pip and setuptools included) and the size of what
  the install added (site-packages minus the venv's own pip/setuptools);
- the five biggest installed distributions, and whether torch or any ``nvidia-*`` package
  is present;
- install time with a warm pip cache (a ``pip download`` of the same requirement first);
- ``import latentscore`` time and the first ``ls.render("warm sunset", duration=5)``
  (a text render: fast model + synth) in a fresh process, median of ``--runs``, wall clock
  of the whole process including interpreter start-up.

``--baseline 0.1.8`` (the default) measures ``pip install latentscore==0.1.8`` the same way,
side by side; ``--baseline ''`` skips it. Targets (issue 19): core venv <= 300 MB with no
torch/nvidia packages; first text render in a fresh process <= 2.5 s.

    python benchmarks/install_size.py [--variants core,external,zeroconf,expressive]
        [--wheel dist/latentscore-*.whl] [--baseline 0.1.8] [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VARIANTS = ("core", "external", "zeroconf", "expressive")
CORE_TARGET_MB = 300.0
RENDER_TARGET_S = 2.5
#: pip and setuptools come with every venv; they are not what LatentScore installs.
VENV_OWN = ("pip", "setuptools", "wheel")

# Run inside the measured venv: size per installed distribution, from each RECORD.
_SIZES_SCRIPT = """
import json, sys
from importlib.metadata import distributions
from pathlib import Path
sizes = {}
for dist in distributions():
    total = 0
    for f in dist.files or ():
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
    sizes[dist.metadata["Name"]] = total
print(json.dumps(sizes))
"""
_IMPORT_SCRIPT = (
    "import time; t = time.perf_counter(); import latentscore; print(time.perf_counter() - t)"
)
# No check on the result: 0.1.8's Audio has no len(); a failed render exits non-zero anyway.
_RENDER_SCRIPT = "import latentscore as ls; ls.render('warm sunset', duration=5)"


@dataclass
class Figures:
    """Everything measured for one venv."""

    variant: str
    requirement: str
    venv_mb: float = 0.0
    added_mb: float = 0.0
    biggest: list[tuple[str, float]] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)
    install_s: float = 0.0
    import_s: float = 0.0
    render_s: float = 0.0
    error: str = ""


def build_wheel(out: Path) -> Path:
    """``python -m build`` (sdist, then the wheel built from the sdist); the wheel's path."""
    subprocess.run(
        [sys.executable, "-m", "build", "-o", str(out), str(REPO_ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (wheel,) = out.glob("latentscore-*.whl")
    return wheel


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _median_wall(python: Path, script: str, runs: int, cwd: Path) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(python), "-c", script], check=True, cwd=cwd, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(variant: str, requirement: str, workdir: Path, runs: int) -> Figures:
    """Install ``requirement`` into a fresh venv ``workdir/variant`` and measure it."""
    fig = Figures(variant, requirement)
    venv = workdir / variant
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    try:
        with tempfile.TemporaryDirectory() as warm:  # fills the pip cache; not timed
            subprocess.run([*pip, "download", "-d", warm, requirement], check=True)
        start = time.perf_counter()
        subprocess.run([*pip, "install", requirement], check=True)
        fig.install_s = time.perf_counter() - start
    except subprocess.CalledProcessError as exc:
        fig.error = f"install failed ({exc.returncode})"
        return fig
    fig.venv_mb = _du(venv) / 1e6
    sizes: dict[str, int] = json.loads(
        subprocess.run(
            [str(python), "-c", _SIZES_SCRIPT], check=True, capture_output=True, text=True
        ).stdout
    )
    fig.added_mb = sum(v for k, v in sizes.items() if k.lower() not in VENV_OWN) / 1e6
    ranked = sorted(sizes.items(), key=lambda kv: -kv[1])
    fig.biggest = [(name, size / 1e6) for name, size in ranked[:5]]
    fig.heavy = sorted(n for n in sizes if n.lower() == "torch" or n.lower().startswith("nvidia"))
    # A neutral working directory: the repo checkout must not shadow the installed package.
    with tempfile.TemporaryDirectory() as cwd:
        try:
            fig.import_s = statistics.median(
                float(
                    subprocess.run(
                        [str(python), "-c", _IMPORT_SCRIPT],
                        check=True,
                        capture_output=True,
                        text=True,
                        cwd=cwd,
                    ).stdout
                )
                for _ in range(runs)
            )
            fig.render_s = _median_wall(python, _RENDER_SCRIPT, runs, Path(cwd))
        except subprocess.CalledProcessError as exc:
            fig.error = f"run failed: {(exc.stderr or b'')[-300:]!r}"
    return fig


def report(figures: list[Figures]) -> None:
    """Print the table, the biggest packages and the verdicts against the targets."""
    print(
        f"{'variant':<18} {'venv MB':>8} {'added MB':>9} {'install s':>10} "
        f"{'import s':>9} {'render s':>9}  torch/nvidia"
    )
    for f in figures:
        heavy = ", ".join(f.heavy[:3]) + (" ..." if len(f.heavy) > 3 else "") or "none"
        print(
            f"{f.variant:<18} {f.venv_mb:>8.0f} {f.added_mb:>9.0f} {f.install_s:>10.1f} "
            f"{f.import_s:>9.2f} {f.render_s:>9.2f}  {heavy}"
            + (f"  ERROR {f.error}" if f.error else "")
        )
    print()
    for f in figures:
        biggest = ", ".join(f"{name} {mb:.0f}" for name, mb in f.biggest)
        print(f"{f.variant}: five biggest (MB): {biggest}")
    core = next((f for f in figures if f.variant == "core"), None)
    if core is not None and not core.error:
        ok_size = core.venv_mb <= CORE_TARGET_MB and not core.heavy
        ok_time = core.render_s <= RENDER_TARGET_S
        print()
        print(
            f"core venv {core.venv_mb:.0f} MB, no torch/nvidia: {not core.heavy} "
            f"(target <= {CORE_TARGET_MB:.0f} MB): {'OK' if ok_size else 'MISSED'}"
        )
        print(
            f"first text render, fresh process {core.render_s:.2f} s "
            f"(target <= {RENDER_TARGET_S} s): {'OK' if ok_time else 'MISSED'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    parser.add_argument("--wheel", type=Path, default=None, help="skip the build")
    parser.add_argument("--baseline", default="0.1.8", help="PyPI version to compare ('' = no)")
    parser.add_argument("--workdir", type=Path, default=None, help="venvs go here (kept)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="latentscore-install-"))
    workdir.mkdir(parents=True, exist_ok=True)
    wheel = args.wheel or build_wheel(workdir / "dist")
    print(f"wheel: {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB); venvs in {workdir}")
    figures = []
    for variant in filter(None, args.variants.split(",")):
        extra = "" if variant == "core" else f"[{variant}]"
        figures.append(
            measure(variant, f"latentscore{extra} @ {wheel.resolve().as_uri()}", workdir, args.runs)
        )
    if args.baseline:
        figures.append(
            measure(f"{args.baseline} (PyPI)", f"latentscore=={args.baseline}", workdir, args.runs)
        )
    report(figures)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2))
    return 1 if any(f.error for f in figures if f.variant == "core") else 0


if __name__ == "__main__":
    raise SystemExit(main())
