"""Every Python block of latentscore 0.1.8's documentation runs against this library.

The documents are verbatim copies in ``tests/data/latentscore_0_1_8/`` (see SOURCES.md there):
0.1.8's README, the library guide it links, and the earlier README whose ``LiveStream``
examples issue 16 quotes. Each block runs in a fresh interpreter, as a user would paste it,
with three adjustments and nothing else:

* durations are shortened: literal ones by text substitution (``duration=45`` ->
  ``duration=1.0``, ``asyncio.sleep(10)`` -> ``asyncio.sleep(0.5)``), and the default ones
  (``ls.render("...")`` with no duration) by lowering the functions' defaults to 1 s in a
  prelude, so the calls stay exactly as written;
* the README's own omissions are filled by a header: blocks that continue an earlier block
  use ``ls`` or ``AudioStream`` without importing them, and one calls an undefined
  ``process(samples)``;
* blocks that call ``.play()`` play in real time to the test session's JACK server (a fresh
  interpreter started with ``JACK_DEFAULT_SERVER`` set finds it through PortAudio).

A few blocks name what this library deliberately does not have (0.1.8's ``fast_heavy`` CLAP
model) or needs weights a test machine does not have (``expressive``); those must fail with
:class:`ModelNotAvailableError` saying what to do instead. External-LLM blocks run too: with
no network or a placeholder key, the model falls back to ``fast`` with a warning, as documented.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "latentscore_0_1_8"
DOCS = ("README.md", "library.md", "README_0.1.2.md")

SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    (r"duration=(10\.0|45|60|30)\b", "duration=1.0"),
    (r"asyncio\.sleep\((10|5)\)", "asyncio.sleep(0.5)"),
)

HEADER = """\
import latentscore as ls                # omissions: continuation blocks use these names
from latentscore import AudioStream
def process(samples): pass              # the README's placeholder for "your code"
# shortened defaults (1 s instead of 30 s per render, 60 s per stream/live item)
ls.render.__defaults__ = ls.arender.__defaults__ = (None, 1.0, None, None)
for _f in (ls.stream, ls.live, ls.astream):
    _f.__kwdefaults__["duration"] = 1.0
"""


@dataclass(frozen=True)
class Expect:
    """What a block must do: run cleanly (and leave ``files``), or fail with ``error``."""

    error: str = ""
    message: str = ""
    files: tuple[str, ...] = ()
    prints: bool = False
    why: str = ""


MISSING_EXPRESSIVE = Expect(
    "ModelNotAvailableError",
    r"latentscore download expressive|latentscore\[expressive\]",
    why="no expressive weights on a test machine: the error says how to get them",
)
NO_FAST_HEAVY = Expect(
    "ModelNotAvailableError",
    "model='fast'",
    why="0.1.8's CLAP model is deliberately not part of this library",
)

EXPECT: dict[tuple[str, int], Expect] = {
    ("README.md", 1): Expect(files=("output.wav",)),
    ("library.md", 0): Expect(files=("cave.wav",)),
    ("library.md", 7): Expect(prints=True),
    ("library.md", 8): NO_FAST_HEAVY,
    ("library.md", 9): MISSING_EXPRESSIVE,
    ("library.md", 10): NO_FAST_HEAVY,
    ("library.md", 11): Expect(prints=True),
    ("README_0.1.2.md", 1): Expect(files=("output.wav",)),
    ("README_0.1.2.md", 2): Expect(files=("session.wav",)),
    ("README_0.1.2.md", 8): Expect(files=("rain_to_thunder.wav",)),
    ("README_0.1.2.md", 11): Expect(files=("neon.wav",)),
    ("README_0.1.2.md", 16): Expect(prints=True),
    ("README_0.1.2.md", 18): MISSING_EXPRESSIVE,
}


@dataclass(frozen=True)
class Block:
    doc: str
    index: int
    code: str = field(repr=False)

    @property
    def plays(self) -> bool:
        return ".play()" in self.code


def blocks() -> list[Block]:
    found: list[Block] = []
    for doc in DOCS:
        text = (DATA / doc).read_text(encoding="utf-8")
        for i, code in enumerate(re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)):
            found.append(Block(doc, i, code))
    return found


def shortened(code: str) -> str:
    for pattern, replacement in SUBSTITUTIONS:
        code = re.sub(pattern, replacement, code)
    return code


ALL = blocks()


def test_the_documents_have_the_blocks_we_expect() -> None:
    counts = {doc: sum(1 for b in ALL if b.doc == doc) for doc in DOCS}
    assert counts == {"README.md": 4, "library.md": 13, "README_0.1.2.md": 19}
    live = [b for b in ALL if "LiveStream" in b.code or "ls.live(" in b.code]
    assert len(live) == 3  # the two dx.live examples and 0.1.8's ls.live example


@pytest.mark.parametrize("block", ALL, ids=[f"{b.doc}#{b.index}" for b in ALL])
def test_block_runs_in_a_fresh_interpreter(
    block: Block, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if block.plays:
        request.getfixturevalue("jack_server")  # skips without JACK, fails in CI
    expect = EXPECT.get((block.doc, block.index), Expect())
    done = subprocess.run(
        [sys.executable, "-c", HEADER + shortened(block.code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if expect.error:
        assert done.returncode != 0, f"expected {expect.error}: {expect.why}"
        last = done.stderr.strip().splitlines()[-1]
        assert expect.error in last and re.search(expect.message, last), done.stderr[-2000:]
        return
    assert done.returncode == 0, done.stderr[-3000:]
    for name in expect.files:
        assert (tmp_path / name).stat().st_size > 1000, name
    if expect.prints:
        assert done.stdout.strip()


from tests.jack import jack_server  # noqa: E402, F401  (fixture, requested by play blocks)
