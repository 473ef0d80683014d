"""Environment checks behind ``latentscore doctor``.

Each check reports what it found and, when something is missing, the command or setting
that fixes it. Checks never raise: a broken audio or MIDI stack is exactly what the user is
trying to diagnose, so every failure becomes a row in the report.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

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
    "python-osc",
    "typer",
    "rich",
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
            "pip install -e '.[dev]' (or make venv)",
        )
    return Check("packages", "ok", detail)


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


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C libraries (ALSA prints to fd 2) while probing; our report says it better."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_midi() -> Check:
    with _quiet_stderr():
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
    check_query_kernel,
)


def run_checks() -> list[Check]:
    """Run every check; a check that crashes is reported, not raised."""
    results: list[Check] = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as exc:
            results.append(
                Check(check.__name__.removeprefix("check_"), "warn", f"check failed: {exc}")
            )
    return results
