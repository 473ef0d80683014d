"""OSC codec, address patterns, TCP framing and the registry, without sockets."""

from __future__ import annotations

import struct
import time

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY as PY_IMMEDIATELY
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.framing import FramingError, StreamDeframer, frame_size_prefixed, frame_slip
from bridge.osc_codec import (
    IMMEDIATELY,
    OscBundle,
    OscDecodeError,
    OscMessage,
    decode_packet,
    encode_bundle,
    encode_message,
    iter_messages,
    timetag_to_unix,
    unix_to_timetag,
)
from bridge.osc_pattern import PatternError, matches
from bridge.registry import Access, BadValue, build_registry
from latentscore.config import FIELDS


def test_messages_round_trip_and_match_python_osc() -> None:
    args = (1, -5, 0.25, "hé", b"\x01\x02\x03", True, False, None, 2**40)
    data = encode_message("/a/b", args)
    decoded = decode_packet(data)
    assert isinstance(decoded, OscMessage)
    assert decoded.type_tags == "iifsbTFNh"
    assert decoded.args == args
    builder = OscMessageBuilder("/latentscore/brightness")  # an independent encoder agrees
    builder.add_arg(0.5)
    builder.add_arg("bright")
    assert encode_message("/latentscore/brightness", (0.5, "bright")) == builder.build().dgram
    assert decode_packet(builder.build().dgram) == OscMessage(
        "/latentscore/brightness", (0.5, "bright"), "fs"
    )


def test_bundles_nest_and_carry_timetags() -> None:
    when = time.time() + 2.0
    tag = unix_to_timetag(when)
    assert timetag_to_unix(tag) == pytest.approx(when, abs=1e-6)
    inner = encode_bundle(IMMEDIATELY, [encode_message("/x", (1,))])
    packet = decode_packet(encode_bundle(tag, [encode_message("/y", (2.0,)), inner]))
    assert isinstance(packet, OscBundle) and packet.timetag == tag
    # an "immediately" bundle inside a timed one takes its parent's time
    assert [(t, m.address) for t, m in iter_messages(packet)] == [(tag, "/y"), (tag, "/x")]
    py = OscBundleBuilder(PY_IMMEDIATELY)
    msg = OscMessageBuilder("/z")
    msg.add_arg(3)
    py.add_content(msg.build())
    decoded = decode_packet(py.build().dgram)
    assert isinstance(decoded, OscBundle) and decoded.immediate
    assert decoded.elements == (OscMessage("/z", (3,), "i"),)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"/a\x00",  # not a multiple of 4 (3 bytes)
        b"/a\x00\x00,i\x00\x00",  # int missing
        b"/a\x00\x00,s\x00\x00abcd",  # string without NUL
        b"/a\x00\x00,b\x00\x00\x00\x00\x00\x10",  # blob longer than the packet
        b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 3) + b"abc\x00",
        b"/a\x00\x00i\x00\x00\x00",  # tags without ','
        b"/a\x00\x00,[\x00\x00",  # arrays are not taken
    ],
)
def test_malformed_packets_raise_one_error_type(data: bytes) -> None:
    with pytest.raises(OscDecodeError):
        decode_packet(data)


def test_string_limit_and_deep_nesting() -> None:
    with pytest.raises(OscDecodeError, match="limit"):
        decode_packet(encode_message("/a", ("x" * 100,)), max_string=50)
    packet = encode_message("/a")
    for _ in range(20):
        packet = encode_bundle(IMMEDIATELY, [packet])
    with pytest.raises(OscDecodeError, match="nested"):
        decode_packet(packet)


@pytest.mark.parametrize(
    ("pattern", "address", "expected"),
    [
        ("/latentscore/*", "/latentscore/tempo", True),
        ("/latentscore/*", "/latentscore/tempo/step", False),
        ("/latentscore/*/step", "/latentscore/tempo/step", True),
        ("/latentscore/te?po", "/latentscore/tempo", True),
        ("/latentscore/te?po", "/latentscore/teempo", False),
        ("/latentscore/[bs]pace", "/latentscore/space", True),
        ("/latentscore/[!s]pace", "/latentscore/space", False),
        ("/latentscore/[a-c]ass", "/latentscore/bass", True),
        ("/latentscore/{tempo,mode}", "/latentscore/mode", True),
        ("/latentscore/{tempo,mode}", "/latentscore/root", False),
        ("/latentscore/tempo", "/latentscore/tempo", True),
        ("/latentscore/t*", "/latentscore/texture", True),
        ("/latentscore/*e*e*", "/latentscore/texture", True),
        ("/latentscore/*e*e*x", "/latentscore/texture", False),
        ("/latentscore/**o", "/latentscore/tempo", True),
        ("/latentscore/{te,t}{mpo,empo}", "/latentscore/tempo", True),
        ("/latentscore/t{,e}mpo", "/latentscore/tmpo", True),
        ("/latentscore/*[0-9]", "/latentscore/tempo", False),
        ("/latentscore/?*?", "/latentscore/ab", True),
        ("/latentscore/?*?", "/latentscore/a", False),
    ],
)
def test_address_patterns(pattern: str, address: str, expected: bool) -> None:
    assert matches(pattern, address) is expected


def test_pattern_matching_is_linear_not_backtracking() -> None:
    # A backtracking regex takes exponential time on these (the old matcher froze the
    # daemon for 8.7 s on 14 stars); the position-set matcher takes microseconds.
    address = "/latentscore/" + "a" * 60
    for stars in (14, 30, 200):
        pattern = "/latentscore/" + "*a" * stars + "b"
        started = time.perf_counter()
        assert matches(pattern, address) is False
        assert time.perf_counter() - started < 0.05, stars
    long_address = "/x/" + "ab" * 400  # linear in the address length, too
    started = time.perf_counter()
    assert matches("/x/" + "*a?" * 100 + "c", long_address) is False
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("bad", ["/a/[bc", "/a/{b,c", "/a/b]", "/a/[]", "/a/[z-a]"])
def test_malformed_patterns(bad: str) -> None:
    with pytest.raises(PatternError):
        matches(bad, "/a/b")


def test_stream_framings_split_anywhere() -> None:
    packets = [encode_message("/a", (1,)), encode_message("/b", (b"\xc0\xdb\xc0",)), b"/c\x00\x00"]
    for framed in (
        b"".join(frame_size_prefixed(p) for p in packets),
        b"".join(frame_slip(p) for p in packets),  # blob bytes need SLIP escaping
        b"".join(frame_slip(p)[1:] for p in packets),  # single-END style
    ):
        for step in (1, 3, len(framed)):
            deframer = StreamDeframer(1024)
            out: list[bytes] = []
            for i in range(0, len(framed), step):
                out.extend(deframer.feed(framed[i : i + step]))
            assert out == packets, (framed[:8], step)


def test_framing_limits() -> None:
    with pytest.raises(FramingError):
        StreamDeframer(100).feed(struct.pack(">i", 101) + b"x" * 101)
    with pytest.raises(FramingError):
        StreamDeframer(100).feed(b"\xc0" + b"/" * 200)
    with pytest.raises(FramingError):
        StreamDeframer(100).feed(b"\xc0/ab\xdb\x01")


def test_registry_is_generated_from_the_schema() -> None:
    registry = build_registry()
    for name, spec in FIELDS.items():
        param = registry[name]
        assert param.path == f"/latentscore/{name}"
        assert param.access == Access.READ_WRITE and spec.description in param.description
        assert registry[f"{name}/index"].path == f"/latentscore/index/{name}"
        if spec.ordered:
            assert param.type_tag == "f" and (param.minimum, param.maximum) == (0.0, 1.0)
            assert registry[f"{name}/step"].path == f"/latentscore/step/{name}"
            assert registry[f"{name}/label"].path == f"/latentscore/label/{name}"
            assert registry[f"{name}/label"].values == spec.labels
            for old in ("step", "label"):  # pre-0.2 addresses: input aliases
                assert registry.resolve(f"/latentscore/{name}/{old}") == registry[f"{name}/{old}"]
                assert registry.by_path(f"/latentscore/{name}/{old}") is None
        else:
            assert param.type_tag == "s" and param.values == spec.labels
            with pytest.raises(KeyError):
                registry[f"{name}/step"]
    assert registry["brightness"].parse("f", [0.3]).position == pytest.approx(0.3)
    assert registry["brightness"].parse("s", ["Very Bright"]).label == "very_bright"
    # any number on a fader is a position: ints and bools from node-osc, sclang, JS
    assert registry["brightness"].parse("i", [1]).position == 1.0
    assert registry["brightness"].parse("i", [1]).label == "very_bright"
    assert registry["density"].parse("i", [1]).position == 1.0
    assert registry["density"].parse("T", [True]).position == 1.0
    assert registry["density"].parse("F", [False]).position == 0.0
    with pytest.raises(BadValue, match=r"outside 0\.\.1"):
        registry["tempo"].parse("i", [2])
    assert registry["density/label"].parse("i", [3]).label == 3
    assert registry["brightness/index"].parse("i", [1]).label == "dark"
    assert registry["brightness/label"].parse("s", ["dark"]).label == "dark"
    assert registry["root"].parse("i", [1]).label == "c#"
    with pytest.raises(BadValue, match="bool"):
        registry["root"].parse("T", [True])
    assert registry["play"].parse("", []) is True and registry["play"].parse("f", [0.0]) is False
    assert registry["play"].parse("T", [True]) is True and registry["play"].parse("I", [None])
    with pytest.raises(BadValue, match="read-only"):
        registry["title"].parse("s", ["x"])


def test_patterns_reach_values_never_commands() -> None:
    registry = build_registry()
    names = {spec.name for spec in registry.match("/latentscore/*")}
    assert "tempo" in names and "volume" in names
    assert not names & {"play", "stop", "state", "vibe", "subscribe", "unsubscribe", "config"}
    assert {s.name for s in registry.match("/latentscore/step/*")} == {
        f"{n}/step" for n, f in FIELDS.items() if f.ordered
    }
