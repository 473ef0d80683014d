"""A real JACK server for tests: ``jackd --no-realtime -d dummy`` started and stopped by a fixture.

The dummy backend runs the JACK graph in real time without a sound card, so playback and
(later) JACK MIDI ports behave as on a musician's machine. When CI=true the fixture fails
instead of skipping if JACK is missing: those tests must run in CI.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _server_running() -> bool:
    lsp = shutil.which("jack_lsp")
    if lsp is None:
        return False
    probe = subprocess.run([lsp], capture_output=True, text=True, timeout=10, check=False)
    return probe.returncode == 0 and "system:" in probe.stdout


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"JACK is required in CI: {reason} (apt-get install jackd2)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def jack_server() -> Iterator[None]:
    """Yield while a JACK dummy server (44.1 kHz, 256-frame periods) is running."""
    jackd = shutil.which("jackd")
    if jackd is None:
        _unavailable("jackd not found")
    if _server_running():  # reuse a developer's running server
        yield
        return
    proc = subprocess.Popen(
        [jackd, "--no-realtime", "-d", "dummy", "-r", "44100", "-p", "256"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 15
    while not _server_running():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read() if proc.stderr else ""
            _unavailable(f"jackd did not start: {err.strip()[-300:]}")
        time.sleep(0.2)
    # Stopped at interpreter exit, not at fixture teardown: if this process loaded PortAudio
    # while the server was up, PortAudio's own exit hook (registered later, so run earlier)
    # must still find the server, or its JACK backend aborts the process.
    atexit.register(_stop, proc)
    yield


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
