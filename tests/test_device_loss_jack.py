"""Losing the JACK server under a playing daemon, and getting it back, without a restart.

The CLI daemon plays on a private JACK server as its own process. The server is killed
(SIGKILL, as when it crashes) and later started again under the same name. Expected, as a
musician would see it: one clear log line, ``/latentscore/audio lost`` and an
``/latentscore/error`` to every controller, OSC still answering while the audio is gone,
then ``/latentscore/audio ok`` and music again on the new server, and finally a clean stop
(exit code 0). Twice in a row, so the second loss is handled like the first.

Must run (not skip) with CI=true.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks._jack import JackServer, JackUnavailable, Recorder
from tests.bridge_util import OscClient
from tests.jack import IN_CI

pytestmark = pytest.mark.jack
ROOT = Path(__file__).resolve().parent.parent
LATENTSCORE = ROOT / ".venv" / "bin" / "latentscore"
P = "/latentscore"
SKIP_CODE = 77


def _daemon(server: JackServer) -> tuple[subprocess.Popen[str], int]:
    exe = str(LATENTSCORE) if LATENTSCORE.exists() else "latentscore"
    cmd = [
        exe, "bridge", "--no-zeroconf", "--no-oscquery", "--osc-port", "0", "--seed", "5",
        "--preset", "deep_space",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=server.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = 0
    for line in proc.stdout:
        if "OSC in" in line:
            port = int(line.split("127.0.0.1:")[1].split()[0])
        if "Ctrl-C" in line:
            return proc, port
    proc.kill()
    raise AssertionError(proc.stderr.read() if proc.stderr else "the daemon did not start")


def _hear(server: JackServer, seconds: float = 1.0) -> float:
    """Peak level of the daemon's output over ``seconds``, recorded by a fresh client."""
    with Recorder(server, seconds=5.0) as rec:
        ports = rec.wait_for_output_ports(client="LatentScore", timeout=10.0)
        rec.connect_inputs(ports)
        start = rec.now_frame() + rec.period * 2
        rec.wait_captured(start + round(seconds * rec.rate), timeout=seconds + 5)
        return float(np.max(np.abs(rec.take(start, start + round(seconds * rec.rate)).mono())))


def test_daemon_survives_the_jack_server_going_away_and_coming_back() -> None:
    # In a fresh interpreter: this one has the session's JACK server open (and maybe
    # PortAudio on it), and libjack mixes up ports when one process talks to two servers.
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "import tests.test_device_loss_jack as t; t.scenario()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    if done.returncode == SKIP_CODE:
        pytest.skip(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def scenario() -> None:
    """The whole test, run in its own interpreter (see above)."""
    server = JackServer()
    try:
        server.start()
    except JackUnavailable as exc:
        if IN_CI:
            raise AssertionError(f"JACK is required in CI: {exc}") from None
        print(f"skipped: {exc}")
        raise SystemExit(SKIP_CODE) from None
    proc, port = _daemon(server)
    client = OscClient(port)
    try:
        client.send(f"{P}/subscribe")
        client.wait(f"{P}/level")
        assert _hear(server) > 0.01
        for round_ in range(2):
            client.clear()
            server.kill()
            client.wait(f"{P}/audio", lambda m: m.args == ("lost",), timeout=3.0)
            assert "audio output lost" in str(client.wait(f"{P}/error").args[0])
            client.send(f"{P}/brightness", 0.25 + 0.5 * round_)
            state = client.state()
            assert state[f"{P}/brightness"][0] == pytest.approx(0.25 + 0.5 * round_)
            assert proc.poll() is None, "the daemon died with the server"
            server.start()
            client.wait(f"{P}/audio", lambda m: m.args == ("ok",), timeout=5.0)
            assert _hear(server) > 0.01, f"silent after the server came back (round {round_})"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err[-1500:]
        assert err.count("audio output lost") == 2, err[-1500:]
        assert err.count("audio output is back") == 2, err[-1500:]
        assert "Cannot connect to server" not in err  # libjack's noise goes to the debug log
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.stop()
