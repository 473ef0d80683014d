"""JackOutput: play straight into a JACK graph as a client named "LatentScore".

Why not PortAudio's JACK host API? Measured here (jackd dummy driver, PortAudio 19.6):
when the JACK server goes away, PortAudio's stream can neither be closed nor PortAudio be
re-initialised (both hang), and its exit hook then aborts the process
(``pa_jack.c: Terminate: Assertion `err == 0' failed``). A plain JACK client (JACK-Client,
over libjack) gets a shutdown callback, is closed without hanging, and a new client is
opened when the server returns; it also shows up in the graph under our own name with
ports a DAW user recognises (``LatentScore:out_1``), auto-connected to the system outputs.

The process callback runs on JACK's real-time thread and only calls the output loop's
block callback (a ring copy), as PortAudio's would. Its block size is JACK's period.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from latentscore.audio_device import BlockCallback
from latentscore.errors import AudioDeviceError

log = logging.getLogger(__name__)

CLIENT_NAME = "LatentScore"


def _quiet_libjack(jack: Any) -> None:
    """Route libjack's own messages to our debug log: while the watchdog polls for a server
    that is gone, libjack would print five lines to stderr per attempt."""
    jack.set_error_function(lambda message: log.debug("libjack: %s", message))
    jack.set_info_function(lambda message: log.debug("libjack: %s", message))


def jack_server_running(server: str | None = None) -> bool:
    """A JACK server answers (``server`` or $JACK_DEFAULT_SERVER / the default one)."""
    try:
        import jack
    except (ImportError, OSError):  # JACK-Client missing, or libjack not installed
        return False
    _quiet_libjack(jack)
    try:
        client = jack.Client("latentscore-probe", no_start_server=True, servername=server)
    except jack.JackError as exc:
        log.debug("no JACK server %s: %s", server or "(default)", exc)
        return False
    client.close()
    return True


class JackOutput:
    """An :class:`~latentscore.audio_device.OutputBackend` that is a JACK client.

    Args:
        name: the client name (JACK appends ``-01`` if it is taken).
        server: the JACK server name (default: $JACK_DEFAULT_SERVER or "default").
        connect: connect the output port to the system's physical playback ports.
    """

    clocked = True  # JACK calls back every period: silence means the server is gone

    def __init__(
        self, name: str = CLIENT_NAME, server: str | None = None, connect: bool = True
    ) -> None:
        self.name = name
        self.server = server or os.environ.get("JACK_DEFAULT_SERVER") or None
        self.connect = connect
        self.device_xruns = 0

    def rescan(self) -> None:
        """Nothing to re-scan: every :meth:`open` asks the server afresh."""

    def open(
        self,
        *,
        sample_rate: int,
        block_size: int,
        callback: BlockCallback,
        finished: Callable[[], None],
        device: int | str | None,
    ) -> _JackHandle:
        try:
            import jack
        except (ImportError, OSError) as exc:
            raise AudioDeviceError(f"JACK output unavailable ({exc})") from None
        _quiet_libjack(jack)
        try:
            client = jack.Client(self.name, no_start_server=True, servername=self.server)
        except jack.JackError as exc:
            raise AudioDeviceError(f"no JACK server to play on ({exc})") from None
        if client.samplerate != sample_rate:
            client.close()
            raise AudioDeviceError(
                f"the JACK server runs at {client.samplerate} Hz, LatentScore at {sample_rate} "
                "Hz: restart jackd with -r 44100, or play through another device"
            )
        return _JackHandle(self, client, callback, finished)


class _JackHandle:
    """One JACK client with one output port, fed by the block callback."""

    def __init__(
        self, owner: JackOutput, client: Any, callback: BlockCallback, finished: Callable[[], None]
    ) -> None:
        self._owner, self._client = owner, client
        self._callback, self._finished = callback, finished
        self._done = False  # the callback said playback is over: play silence from now on
        self._ended = threading.Event()
        self.port = client.outports.register("out_1")
        self.block_size = int(client.blocksize)
        client.set_process_callback(self._process)
        client.set_shutdown_callback(self._shutdown)
        client.set_xrun_callback(self._xrun)

    @property
    def port_name(self) -> str:
        return str(self.port.name)

    def _process(self, frames: int) -> None:
        out: np.ndarray = self.port.get_array()
        if self._done:
            out[:] = 0.0
            return
        if not self._callback(out):
            self._done = True
            self._end()

    def _xrun(self, delay_usecs: float) -> None:
        self._owner.device_xruns += 1

    def _shutdown(self, status: Any, reason: str) -> None:
        log.debug("JACK shut our client down: %s", reason)
        self._end()

    def _end(self) -> None:
        if not self._ended.is_set():
            self._ended.set()
            self._finished()

    def start(self) -> None:
        client = self._client
        client.activate()
        if not self._owner.connect:
            return
        playback = client.get_ports(is_physical=True, is_input=True, is_audio=True)
        for target in playback[:2]:  # mono: the same signal on the first two outputs
            try:
                client.connect(self.port, target)
            except Exception as exc:  # the user may have wired it already
                log.debug("connecting %s to %s failed: %s", self.port_name, target.name, exc)

    def stop(self) -> None:
        try:
            self._client.deactivate()
        except Exception:  # the server may be gone
            log.debug("JACK deactivate failed", exc_info=True)
        self._end()

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:
            log.debug("JACK close failed", exc_info=True)
