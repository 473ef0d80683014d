"""A private JACK server for tests: ``jackd --no-realtime -d dummy`` under a unique name.

The dummy backend runs the JACK graph in real time without a sound card, so playback and
JACK MIDI ports behave as on a musician's machine. The server is a
:class:`benchmarks._jack.JackServer`: its name is unique to this test session
(``ls-<pid>-<n>``), so parallel runs never share a server and a developer's own JACK server
(the default one included) is never used or touched. ``JACK_DEFAULT_SERVER`` is exported into
``os.environ`` for the session, so every subprocess the tests start (PortAudio, rtmidi) finds
this server, and ``JACK_NO_START_SERVER`` stops libjack from starting another one if it is gone.

When CI=true the fixture fails instead of skipping if JACK is missing: those tests must run
in CI.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from benchmarks._jack import JackServer, JackUnavailable

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"JACK is required in CI: {reason}")
    pytest.skip(reason)


_server: JackServer | None = None  # one per test process, however many modules import the fixture


@pytest.fixture(scope="session")
def jack_server() -> Iterator[JackServer]:
    """The session's own JACK dummy server (44.1 kHz, 256-frame periods), already running.

    Each test module imports this fixture, and pytest sets up an imported session fixture
    once per module, so the server itself is kept here and started only once per process.
    """
    global _server
    if _server is None:
        server = JackServer()
        try:
            server.start()
        except JackUnavailable as exc:
            _unavailable(str(exc))
        os.environ.update(server.env({}))
        # Stopped at interpreter exit, not at fixture teardown: if this process loaded
        # PortAudio while the server was up, PortAudio's own exit hook (registered later, so
        # run earlier) must still find the server, or its JACK backend aborts the process.
        atexit.register(server.stop)
        _server = server
    elif not _server.running:  # a test stopped or killed it (device loss) and did not restore
        _server.start()
    yield _server
