"""``model=`` across render, stream, live and the async API, and the metadata a text render keeps.

The fast model runs for real here (no mocks): these tests pin what a user sees, such as
``audio.metadata.title`` and palettes, the same config for the same text whichever API
plays it, errors that name ``model`` at call time, and custom model objects honoured
everywhere. The async tests run a ticker task next to the call under test: if the model or
the engine ran on the event loop, the ticker would stall.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import numpy as np
import pytest

import latentscore as ls
from latentscore import GenerateResult, MusicConfig, MusicConfigUpdate, Step, Streamable, dx
from latentscore.live_stream import LiveStream
from latentscore.models.result import Palette, PaletteColor
from latentscore.render import RenderInfo, resolve_config
from latentscore.stream import StreamInfo

SR = 44100
TEXT = "rainy night in a jazz bar"
HEX = re.compile(r"^#[0-9a-f]{6}$")
FIXED_CONFIG = MusicConfig(tempo="very_fast", mode="minor", rhythm="soft_four", density=5)


def fixed_result(title: str = "Fixed Answer") -> GenerateResult:
    colors = tuple(PaletteColor(hex="#112233", weight=w) for w in ("xl", "lg", "md", "sm", "xs"))
    return GenerateResult(
        title=title,
        thinking="always the same",
        config=FIXED_CONFIG,
        palettes=(Palette(colors=colors),) * 3,
        model="fixed",
    )


class FixedModel:
    """A user's own model: answers every text with one GenerateResult and counts the calls."""

    name = "fixed"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.texts: list[str] = []
        self.threads: list[str] = []

    def generate(self, text: str) -> GenerateResult:
        self.texts.append(text)
        self.threads.append(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)  # a slow model: must never run on the event loop
        return fixed_result()


class AsyncFixedModel(FixedModel):
    """A model with a native async path (like an LLM client), awaited on the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.awaited = 0

    async def agenerate(self, text: str) -> GenerateResult:
        self.awaited += 1
        await asyncio.sleep(0.05)
        return fixed_result("Awaited Answer")


# --- render metadata ---------------------------------------------------------------------------
def test_text_render_metadata_carries_the_models_answer() -> None:
    audio = ls.render(TEXT, duration=0.5, seed=1, model="fast")
    info = audio.metadata
    assert isinstance(info, RenderInfo)
    assert info.config == ls.vibe_to_config(TEXT) == resolve_config(TEXT, model="fast")
    assert info.result == ls.vibe_to_result(TEXT)
    assert info.title and len(info.title.split()) <= 6
    assert info.thinking == "" and info.model == "fast" and info.source
    assert len(info.palettes) == 3
    for palette in info.palettes:
        assert len(palette.colors) == 5
        assert all(HEX.match(c.hex) for c in palette.colors)
        assert {c.weight for c in palette.colors} == {"xs", "sm", "md", "lg", "xl"}


def test_config_render_metadata_is_empty_and_update_changes_only_the_config() -> None:
    info = ls.render(MusicConfig(), duration=0.25, seed=1).metadata
    assert (info.result, info.title, info.thinking, info.palettes) == (None, "", "", ())
    assert (info.model, info.source) == ("", "")
    step = MusicConfigUpdate(tempo=Step(1))
    stepped = ls.render(TEXT, duration=0.25, seed=1, update=step).metadata
    assert stepped.config == step.apply_to(ls.vibe_to_config(TEXT))
    assert stepped.result is not None and stepped.result.config == ls.vibe_to_config(TEXT)


def test_a_generate_result_renders_like_its_text() -> None:
    result = ls.vibe_to_result(TEXT)
    a = ls.render(result, duration=0.5, seed=4)
    b = ls.render(TEXT, duration=0.5, seed=4)
    assert np.array_equal(a.samples, b.samples) and a.metadata == b.metadata


# --- determinism across APIs -------------------------------------------------------------------
def test_same_text_same_config_in_render_stream_and_live() -> None:
    want = ls.vibe_to_config(TEXT)
    assert ls.render(TEXT, duration=0.25, seed=2).metadata.config == want
    info = ls.stream(MusicConfig(), TEXT, duration=0.5, seed=2).collect().metadata
    assert isinstance(info, StreamInfo)
    assert info.results[0] is None and info.results[1] is not None
    assert info.results[1].config == want
    assert info.titles == ("", ls.vibe_to_result(TEXT).title)
    with dx.live([TEXT], duration=0.5, seed=2) as live:
        live.collect()
    assert [c.cue.config for c in live.cues] == [want]
    assert live.cues[0].cue.result == ls.vibe_to_result(TEXT)


# --- unknown models fail at call time, naming `model` ------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda m: ls.render(MusicConfig(), duration=0.1, model=m),  # even without text
        lambda m: ls.render(TEXT, duration=0.1, model=m),
        lambda m: resolve_config(TEXT, model=m),
        lambda m: ls.vibe_to_config(TEXT, model=m),
        lambda m: ls.stream(TEXT, duration=0.5, model=m),  # before iterating
        lambda m: dx.live(iter([TEXT]), model=m),  # before the generator is touched
        lambda m: LiveStream([TEXT], model=m),
        lambda m: asyncio.run(ls.arender(TEXT, duration=0.1, model=m)),
        lambda m: ls.astream(TEXT, model=m),  # not even awaited yet
        lambda m: ls.astream(iter([TEXT]), model=m),
    ],
)
@pytest.mark.parametrize("bad", ["fastt", 42])
def test_unknown_model_raises_naming_model(call: Callable[[Any], object], bad: object) -> None:
    with pytest.raises(ls.InvalidConfigError, match="model") as err:
        call(bad)
    assert err.value.field == "model"


# --- custom model objects ----------------------------------------------------------------------
def test_custom_model_is_honoured_by_render_and_arender() -> None:
    model = FixedModel()
    audio = ls.render("anything at all", duration=0.25, seed=1, model=model)
    assert audio.metadata.config == FIXED_CONFIG and audio.metadata.title == "Fixed Answer"
    assert audio.metadata.model == "fixed" and model.texts == ["anything at all"]
    again = asyncio.run(ls.arender("  anything   at all ", duration=0.25, seed=1, model=model))
    assert np.array_equal(again.samples, audio.samples)
    assert model.texts[-1] == "anything at all"  # cleaned before the model sees it


def test_custom_model_is_honoured_by_stream_and_live() -> None:
    model = FixedModel()
    info = ls.stream("one", Streamable("two", duration=0.3), duration=0.3, model=model, seed=1)
    assert [r.config for r in info.collect().metadata.results] == [FIXED_CONFIG] * 2
    assert model.texts == ["one", "two"]

    def scenes() -> Iterator[object]:
        yield "three"
        yield Streamable("four", duration=0.3)

    with dx.live(scenes(), duration=0.3, model=model, seed=1) as live:
        live.collect()
    assert [c.cue.config for c in live.cues] == [FIXED_CONFIG] * 2
    assert model.texts[2:] == ["three", "four"]
    assert all(t.startswith("ItemFeed") for t in model.threads[2:])  # off the audio path


def test_custom_model_is_honoured_by_astream() -> None:
    model = FixedModel()

    async def scenes() -> AsyncIterator[object]:
        yield "five"
        yield Streamable("six", duration=0.25)

    async def main() -> int:
        stream = ls.astream(scenes(), chunk_seconds=0.1, duration=0.25, model=model, seed=1)
        return sum([len(c) async for c in stream])

    assert asyncio.run(main()) == round(0.5 * SR)
    assert model.texts == ["five", "six"]


def test_astream_awaits_a_models_native_async_path() -> None:
    model = AsyncFixedModel()

    async def main() -> int:
        stream = ls.astream(iter(["a", "b"]), duration=0.25, model=model, seed=1)
        return sum([len(c) async for c in stream])

    assert asyncio.run(main()) == round(0.5 * SR)
    assert model.awaited == 2 and model.texts == []


# --- the event loop keeps running --------------------------------------------------------------
async def with_ticker(work: Awaitable[Any]) -> tuple[Any, int, float]:
    """Run ``work`` beside a 10 ms ticker; returns its result, the ticks and the longest gap."""
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        result = await work
    finally:
        ticker.cancel()
    gaps = np.diff(ticks) if len(ticks) > 1 else np.array([0.0])
    return result, len(ticks), float(gaps.max())


def test_avibe_to_config_does_not_block_a_running_loop() -> None:
    async def main() -> None:
        config, _, _ = await with_ticker(ls.avibe_to_config(TEXT))
        assert config == ls.vibe_to_config(TEXT)
        slow = FixedModel(delay=0.6)
        config, ticks, gap = await with_ticker(ls.avibe_to_config(TEXT, model=slow))
        assert config == FIXED_CONFIG
        assert ticks >= 10 and gap < 0.4  # the 0.6 s model call ran beside the ticker

    asyncio.run(main())


def test_astream_with_vibe_items_does_not_block_a_running_loop() -> None:
    slow = FixedModel(delay=0.6)  # on the loop, it would stall the ticker for 0.6 s

    async def consume(stream: AsyncIterator[np.ndarray]) -> int:
        return sum([len(c) async for c in stream])

    async def main() -> None:
        fast = ls.astream([TEXT], chunk_seconds=0.25, duration=1.0, seed=5)
        n, ticks, gap = await with_ticker(consume(fast))
        assert n == SR and gap < 0.4
        mine = ls.astream(iter(["x", "y"]), chunk_seconds=0.25, duration=0.5, model=slow, seed=5)
        n, ticks, gap = await with_ticker(consume(mine))
        assert n == SR and ticks >= 20 and gap < 0.4

    asyncio.run(main())
