"""Steer a running `latentscore bridge` from Python with python-osc, and listen to it.

    pip install python-osc                          # the client side only
    latentscore bridge --preset deep_space          # in one terminal
    python examples/osc_client.py                   # in another

It subscribes for feedback, sweeps brightness like a fader, steps tempo, sends a partial
config and a vibe, schedules a change one second ahead with a timed bundle, and prints
what the daemon sends back (titles, errors, beats, levels).
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import ThreadingOSCUDPServer

P = "/latentscore"


def listen(port: int) -> ThreadingOSCUDPServer:
    """Print what the bridge sends to ``port`` (levels only every 30th, they come at 30 Hz)."""
    counter = {"level": 0}

    def show(address: str, *args: object) -> None:
        if address == f"{P}/level":
            counter["level"] += 1
            if counter["level"] % 30:
                return
        print(f"  <- {address} {args}")

    dispatcher = Dispatcher()
    dispatcher.set_default_handler(show)
    server = ThreadingOSCUDPServer(("127.0.0.1", port), dispatcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed_bundle(seconds_ahead: float, address: str, value: object) -> OscBundle:
    builder = OscBundleBuilder(time.time() + seconds_ahead)  # python-osc takes Unix time
    message = OscMessageBuilder(address)
    message.add_arg(value)
    builder.add_content(message.build())
    return builder.build()


class Bridge:
    """Sends to the bridge from the listening server's socket (python-osc messages)."""

    def __init__(self, server: ThreadingOSCUDPServer, target: tuple[str, int]) -> None:
        self.sock, self.target = server.socket, target

    def send_message(self, address: str, value: object) -> None:
        message = OscMessageBuilder(address)
        for arg in value if isinstance(value, list) else [value]:
            message.add_arg(arg)
        self.send(message.build())

    def send(self, packet: OscBundle | OscMessage) -> None:
        self.sock.sendto(packet.dgram, self.target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--listen", type=int, default=9001, help="port for feedback")
    args = parser.parse_args()

    server = listen(args.listen)
    # Send from the listening socket: error replies go to the port a message came from, and
    # the bridge never echoes our own fader moves back to us (it knows they are ours).
    bridge = Bridge(server, (args.host, args.port))
    bridge.send_message(f"{P}/subscribe", [])  # feedback to this (our listening) address

    print("sweeping brightness 0 -> 1 over 3 s (a fader: one float per message)")
    for i in range(61):
        bridge.send_message(f"{P}/brightness", i / 60)
        time.sleep(0.05)
    print("tempo one label up, then a partial config")
    bridge.send_message(f"{P}/step/tempo", 1)
    bridge.send_message(f"{P}/config", json.dumps({"bass": "walking", "rhythm": "brush"}))
    time.sleep(2)
    print("a vibe (needs the daemon's model); the title comes back")
    bridge.send_message(f"{P}/vibe", "misty harbour at dawn")
    time.sleep(3)
    print("a change scheduled 1 s ahead with a timed bundle")
    bridge.send(timed_bundle(1.0, f"{P}/space", "vast"))
    time.sleep(2)
    print("a mistake, to see the error reply")
    bridge.send_message(f"{P}/brightness", 7.0)
    time.sleep(1)
    bridge.send_message(f"{P}/unsubscribe", [])
    server.shutdown()


if __name__ == "__main__":
    main()
