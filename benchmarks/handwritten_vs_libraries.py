"""Our OSC codec and loudness meter against python-osc and pyloudnorm (issue 19's question).

Prints, for the OSC codec: how each decoder treats 20,000 corrupted bridge packets (accepted,
rejected with its own error type, or some other exception), and per-packet decode/encode
times; for the loudness meter: integrated loudness of 30 s of a preset and the time taken.
The reasons to keep both, written from these figures, are in the docstrings of
``bridge/osc_codec.py`` and ``synth/loudness.py``. Needs the dev extra (python-osc,
pyloudnorm):

    python benchmarks/handwritten_vs_libraries.py
"""

from __future__ import annotations

import collections
import logging
import random
import time
from collections.abc import Callable

import numpy as np

from bridge.osc_codec import (
    OscDecodeError,
    decode_packet,
    encode_bundle,
    encode_message,
    unix_to_timetag,
)


def _per_call_us(fn: Callable[[], object], n: int = 50_000) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def _corrupt(rng: random.Random, packet: bytes) -> bytes:
    data = bytearray(packet)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if op < 0.5 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op < 0.75 and data:
            del data[rng.randrange(len(data)) :]
        else:
            data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


def osc() -> None:
    from pythonosc.osc_message_builder import OscMessageBuilder
    from pythonosc.osc_packet import OscPacket, ParseError

    logging.getLogger().setLevel(logging.ERROR)  # python-osc warns on the root logger
    messages = [
        encode_message("/latentscore/brightness", [0.7]),
        encode_message("/latentscore/vibe", ["warm sunset over water"]),
        encode_message("/latentscore/config", ["tempo", "fast", 3, 1.5, b"\x00\x01blob"]),
    ]
    bundle = encode_bundle(unix_to_timetag(time.time() + 0.5), messages)
    rng = random.Random(7)
    ours: collections.Counter[str] = collections.Counter()
    theirs: collections.Counter[str] = collections.Counter()
    n = 20_000
    for _ in range(n):
        data = _corrupt(rng, rng.choice([*messages, bundle]))
        try:
            decode_packet(data)
            ours["accepted"] += 1
        except OscDecodeError:
            ours["OscDecodeError"] += 1
        except Exception as exc:
            ours[type(exc).__name__] += 1
        try:
            OscPacket(data)
            theirs["accepted"] += 1
        except ParseError:
            theirs["ParseError"] += 1
        except Exception as exc:
            theirs[type(exc).__name__] += 1
    print(f"OSC: {n} corrupted packets: ours {dict(ours)}; python-osc {dict(theirs)}")
    for name, data in (("one-float message", messages[0]), ("3-message bundle", bundle)):
        a = _per_call_us(lambda d=data: decode_packet(d))  # type: ignore[misc]
        b = _per_call_us(lambda d=data: OscPacket(d))  # type: ignore[misc]
        print(f"OSC decode {name}: ours {a:.1f} us, python-osc {b:.1f} us")

    def build() -> bytes:
        builder = OscMessageBuilder("/latentscore/brightness")
        builder.add_arg(0.7)
        return builder.build().dgram

    a = _per_call_us(lambda: encode_message("/latentscore/brightness", [0.7]))
    print(f"OSC encode one-float message: ours {a:.1f} us, python-osc {_per_call_us(build):.1f} us")


def loudness() -> None:
    import pyloudnorm

    import latentscore as ls
    from synth.loudness import integrated_loudness

    x = np.asarray(ls.render(ls.presets.load("deep_space"), duration=30, seed=1), dtype=np.float64)
    start = time.perf_counter()
    ours = integrated_loudness(x, 44100)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    theirs = pyloudnorm.Meter(44100).integrated_loudness(x)
    t_theirs = time.perf_counter() - start
    print(
        f"loudness, 30 s deep_space: ours {ours:.2f} LUFS in {t_ours * 1000:.0f} ms; "
        f"pyloudnorm {theirs:.2f} LUFS in {t_theirs * 1000:.0f} ms; "
        f"pyloudnorm true peak: {'true_peak' in dir(pyloudnorm)}"
    )


if __name__ == "__main__":
    osc()
    loudness()
