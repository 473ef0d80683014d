"""Code written for latentscore 0.1.8: its names, keywords, custom models and JSON still work.

One test (or a few) per compatibility item of issue 16; the README's own blocks run in
tests/test_readme_018.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

import latentscore as ls
from latentscore import MusicConfig, MusicConfigUpdate, Step, Streamable
from latentscore.audio import Audio
from latentscore.errors import InvalidConfigError, ModelNotAvailableError
from latentscore.models.llm_repair import parse_answer
from latentscore.models.result import GenerateResult, PaletteColor
from tests.llm_fakes import good_answer

SR = 44100
CALM = MusicConfig(tempo="slow", human="robotic", density=3)
GROOVE = MusicConfig(tempo="medium", mode="major", root="d", rhythm="soft_four")

# every name in latentscore 0.1.8's __all__ except its spinner UI helpers
NAMES_018 = (
    "SAMPLE_RATE",
    "AccentStyle",
    "AttackStyle",
    "BassStyle",
    "BrightnessLabel",
    "DensityLevel",
    "EchoLabel",
    "GenerateResult",
    "GrainStyle",
    "HumanFeelLabel",
    "MelodyStyle",
    "ModeName",
    "MotionLabel",
    "MusicConfig",
    "MusicConfigUpdate",
    "ModelSpec",
    "Palette",
    "PaletteColor",
    "ModelForGeneratingMusicConfig",
    "ExternalModelSpec",
    "PadStyle",
    "RhythmStyle",
    "RootNote",
    "SpaceLabel",
    "StereoLabel",
    "StreamEvent",
    "StreamHooks",
    "Streamable",
    "TextureStyle",
    "TempoLabel",
    "ModelLoadRole",
    "RenderHooks",
    "Audio",
    "AudioStream",
    "LiveStream",
    "Playlist",
    "Track",
    "arender",
    "live",
    "astream",
    "astream_raw",
    "prefetch",
    "render",
    "render_raw",
    "save_wav",
    "stream",
    "stream_raw",
    "stream_configs",
    "stream_texts",
    "stream_updates",
)


# --- 1. top-level names ---------------------------------------------------------------------
def test_every_018_name_imports_from_the_top_level() -> None:
    missing = [name for name in NAMES_018 if not hasattr(ls, name)]
    assert missing == []
    assert ls.SAMPLE_RATE == 44100
    namespace: dict[str, object] = {}
    exec("from latentscore import LiveStream, ExternalModelSpec, MusicConfigUpdate", namespace)
    assert namespace["LiveStream"] is ls.LiveStream


def test_ls_live_is_the_live_entry_point_and_dx_live_remains() -> None:
    assert callable(ls.live) and ls.live is ls.dx.live
    with ls.live(iter([Streamable(CALM, duration=0.3)]), seed=1) as live:
        assert isinstance(live, ls.LiveStream)
        assert len(live.collect()) == round(0.3 * SR)


# --- 2. names and keywords ------------------------------------------------------------------
def test_render_config_keyword() -> None:
    plain = ls.render(CALM, duration=0.5, seed=3)
    by_keyword = ls.render(config=CALM, duration=0.5, seed=3)
    assert np.array_equal(plain.samples, by_keyword.samples)
    # an update positionally applies to config= (0.1.8's base config)
    update = MusicConfigUpdate(brightness=Step(+2))
    based = ls.render(update, config=CALM, duration=0.5, seed=3)
    assert based.metadata.config == update.apply_to(CALM)
    with pytest.raises(InvalidConfigError, match="given twice"):
        ls.render(GROOVE, config=CALM, duration=0.5)


def test_transition_seconds_is_accepted_everywhere() -> None:
    a = ls.stream(CALM, GROOVE, duration=0.5, transition=0.2, seed=2).collect()
    b = ls.stream(CALM, GROOVE, duration=0.5, transition_seconds=0.2, seed=2).collect()
    assert np.array_equal(a.samples, b.samples)
    live = ls.live([CALM, GROOVE], duration=0.5, transition_seconds=0.2, seed=2).collect()
    assert np.array_equal(a.samples, live.samples)
    with pytest.raises(InvalidConfigError, match="disagree"):
        ls.stream(CALM, transition=1.0, transition_seconds=2.0)


def test_live_chunks_seconds_and_audio_to_numpy() -> None:
    def endless() -> Iterator[object]:
        while True:
            yield Streamable(MusicConfigUpdate(brightness=Step(1)), duration=0.25)

    with ls.live(endless(), chunk_seconds=0.1, seed=4) as live:
        chunks = list(live.chunks(seconds=0.35))
    assert sum(len(c) for c in chunks) == round(0.35 * SR)
    audio = ls.render(CALM, duration=0.2, seed=1)
    arr = audio.to_numpy()
    assert arr.dtype == np.float32 and np.array_equal(arr, np.asarray(audio))


def test_step_delta() -> None:
    step = Step(+2)
    assert step.delta == 2 == step.n
    assert Step(delta=-1).delta == -1
    assert repr(Step(3)) == "Step(+3)"
    with pytest.raises(InvalidConfigError):
        Step(1.5)  # type: ignore[arg-type]


def test_playlist_and_track() -> None:
    playlist = ls.Playlist(
        tracks=(
            ls.Track(content=CALM, duration=0.6, transition=0.1, name="intro"),
            ls.Track(content=MusicConfigUpdate(tempo=Step(1)), duration=0.4, transition=0.2),
        )
    )
    audio = playlist.render(seed=5)
    assert len(audio) == SR and audio.metadata.boundaries == (0, round(0.6 * SR))
    # a Track is the same as the Streamable it stands for
    same = ls.stream(
        Streamable(CALM, duration=0.6, transition_duration=0.1),
        Streamable(MusicConfigUpdate(tempo=Step(1)), duration=0.4, transition_duration=0.2),
        seed=5,
    ).collect()
    assert np.array_equal(audio.samples, same.samples)


def test_raw_functions_give_the_same_music_as_arrays() -> None:
    raw = ls.render_raw(CALM, duration=0.4, seed=6)
    assert isinstance(raw, np.ndarray) and raw.dtype == np.float32
    assert np.array_equal(raw, ls.render(CALM, duration=0.4, seed=6).samples)
    items = [Streamable(CALM, duration=0.3), Streamable(GROOVE, duration=0.3)]
    chunks = list(ls.stream_raw(items, chunk_seconds=0.1, transition_seconds=0.1, seed=6))
    expected = ls.stream(*items, transition=0.1, seed=6).collect().samples
    assert np.array_equal(np.concatenate(chunks), expected)
    configs = np.concatenate(list(ls.stream_configs([CALM, GROOVE], duration=0.3, seed=6)))
    assert len(configs) == round(0.6 * SR)
    updates = list(
        ls.stream_updates(
            [{"tempo": "fast"}, MusicConfigUpdate(space=Step(1))], duration=0.2, seed=1
        )
    )
    assert sum(len(c) for c in updates) == round(0.4 * SR)
    with pytest.raises(InvalidConfigError):
        ls.stream_texts("not a list of texts")
    with pytest.raises(InvalidConfigError, match="items\\[1\\]"):
        ls.stream_configs([CALM, "text"])

    async def drain() -> int:
        return sum([len(c) async for c in ls.astream_raw(items, 0.1, 0.1, seed=6)])

    assert asyncio.run(drain()) == round(0.6 * SR)


def test_render_hooks_fire_in_order() -> None:
    seen: list[str] = []
    hooks = ls.RenderHooks(
        on_start=lambda: seen.append("start"),
        on_synth_start=lambda: seen.append("synth_start"),
        on_synth_end=lambda: seen.append("synth_end"),
        on_end=lambda: seen.append("end"),
        on_error=lambda exc: seen.append(f"error:{type(exc).__name__}"),
    )
    ls.render(CALM, duration=0.2, hooks=hooks)
    assert seen == ["start", "synth_start", "synth_end", "end"]
    seen.clear()
    with pytest.raises(InvalidConfigError):
        ls.render({"tempo": "warp"}, duration=0.2, hooks=hooks)
    assert seen == ["start", "error:InvalidConfigError"]


def test_stream_hooks_report_events_for_stream_and_live() -> None:
    def run(make: object) -> None:
        events: list[ls.StreamEvent] = []
        starts: list[int] = []
        hooks = ls.StreamHooks(
            on_event=events.append, on_item_resolve_success=lambda i, _item: starts.append(i)
        )
        make(hooks).collect()  # type: ignore[operator]
        kinds = [e.kind for e in events]
        assert kinds[0] == "stream_start" and kinds[-1] == "stream_end"
        assert kinds.count("item_resolve_success") == 2 and starts == [0, 1]
        assert kinds.count("first_audio_chunk") == 1 and "first_config_ready" in kinds

    for make in (
        lambda hooks: ls.stream(CALM, GROOVE, duration=0.3, hooks=hooks, seed=1),
        lambda hooks: ls.live(iter([CALM, GROOVE]), duration=0.3, hooks=hooks, seed=1),
    ):
        run(make)


def test_save_wav_writes_16_bit_pcm(tmp_path: Path) -> None:
    audio = ls.render(CALM, duration=0.3, seed=2)
    path = ls.save_wav(str(tmp_path / "a.wav"), audio.samples)
    assert isinstance(path, str) and sf.info(path).subtype == "PCM_16"
    chunked = ls.save_wav(str(tmp_path / "b.wav"), iter(np.array_split(audio.samples, 3)))
    a, _ = sf.read(path, dtype="float32")
    b, _ = sf.read(chunked, dtype="float32")
    assert np.array_equal(a, b) and np.max(np.abs(a - audio.samples)) <= 1 / 2**14


def test_wav_default_is_16_bit_pcm_and_float_on_request(tmp_path: Path) -> None:
    audio = ls.render(CALM, duration=0.2, seed=2)
    assert sf.info(str(audio.save(tmp_path / "x.wav"))).subtype == "PCM_16"
    assert sf.info(str(audio.save(tmp_path / "y.wav", subtype="FLOAT"))).subtype == "FLOAT"
    assert sf.info(str(audio.save(tmp_path / "z.wav", subtype="PCM_24"))).subtype == "PCM_24"


def test_model_spec_and_retired_models_say_what_to_use() -> None:
    assert ls.ModelSpec is not None and ls.ModelForGeneratingMusicConfig is ls.VibeModel
    with pytest.raises(ModelNotAvailableError, match="model='fast'"):
        ls.render("muffled bass through a wall", model="fast_heavy")
    with pytest.raises(ModelNotAvailableError, match="expressive"):
        ls.prefetch("local")


def test_demo_output_saves_without_playing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from latentscore.cli import app

    played: list[object] = []
    monkeypatch.setattr("latentscore.audio_device.check_output_device", lambda *_a: None)
    monkeypatch.setattr(Audio, "play", lambda *a, **k: played.append(a))
    out = tmp_path / "ambient.wav"
    result = CliRunner().invoke(
        app, ["demo", "--preset", "deep_space", "--duration", "0.5", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and sf.info(str(out)).subtype == "PCM_16"
    assert played == [] and "Playing" not in result.output


# --- custom models (0.1.8's protocol) ---------------------------------------------------------
class AsyncConfigModel:
    """0.1.8's documented shape: ``async def generate(vibe) -> MusicConfig``."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def generate(self, vibe: str) -> MusicConfig:
        self.asked.append(vibe)
        await asyncio.sleep(0)
        return GROOVE if "groove" in vibe else CALM


class SyncConfigModel:
    def generate(self, vibe: str) -> MusicConfig:
        return GROOVE


class AsyncResultModel:
    name = "mine"

    async def generate(self, vibe: str) -> GenerateResult:
        return ls.vibe_to_result("x", model=SyncConfigModel()).model_copy(
            update={"title": "My Own Title", "model": ""}
        )


class BrokenModel:
    def generate(self, vibe: str) -> dict[str, str]:
        return {"tempo": "slow"}


def test_async_model_returning_a_music_config() -> None:
    model = AsyncConfigModel()
    audio = ls.render("a slow groove at night", model=model, duration=0.3, seed=1)
    assert model.asked == ["a slow groove at night"]
    info = audio.metadata
    assert info.config == GROOVE and info.title == "A Slow Groove at Night"
    assert len(info.palettes) == 3 and all(len(p.colors) == 5 for p in info.palettes)
    assert info.model == "AsyncConfigModel"
    # palettes follow the music: the same config, the same colours; another, others
    again = ls.vibe_to_result("groove", model=model)
    assert again.palettes == info.palettes
    assert ls.vibe_to_result("calm", model=model).palettes != info.palettes


def test_custom_models_in_every_entry_point() -> None:
    sync = ls.vibe_to_result("anything", model=SyncConfigModel())
    assert sync.config == GROOVE and sync.title == "Anything"
    named = ls.vibe_to_result("anything", model=AsyncResultModel())
    assert named.title == "My Own Title" and named.model == "mine"

    async def from_async_code() -> tuple[GenerateResult, ls.Audio]:
        result = await ls.avibe_to_result("a groove", model=AsyncConfigModel())
        # a sync render called inside a running loop still runs the async model
        audio = ls.render("a groove", model=AsyncConfigModel(), duration=0.2, seed=1)
        return result, audio

    result, audio = asyncio.run(from_async_code())
    assert result.config == GROOVE and audio.metadata.config == GROOVE
    stream = ls.stream("calm", "groove", model=AsyncConfigModel(), duration=0.3, seed=1)
    assert stream.collect().metadata.titles == ("Calm", "Groove")


def test_anything_else_is_a_clear_error() -> None:
    with pytest.raises(InvalidConfigError, match=r"must return a latentscore\.MusicConfig"):
        ls.render("x", model=BrokenModel(), duration=0.2)


# --- 3. data ---------------------------------------------------------------------------------
def test_step_json_both_ways() -> None:
    update = MusicConfigUpdate(brightness=Step(2), tempo=Step(-1), mode="major")
    dumped = json.loads(update.model_dump_json(exclude_none=True))
    assert dumped == {"tempo": {"delta": -1}, "brightness": {"delta": 2}, "mode": "major"}
    assert MusicConfigUpdate.model_validate_json(update.model_dump_json()) == update
    assert MusicConfigUpdate.model_validate(update.model_dump()) == update
    for form in ({"delta": 2}, {"step": 2}, {"n": 2}):
        assert MusicConfigUpdate.model_validate({"brightness": form}).brightness == Step(2)
    assert update.model_dump_jsonable()["brightness"] == {"step": 2}  # the bridge's OSC form
    assert MusicConfigUpdate.model_validate(update.model_dump_jsonable()) == update
    with pytest.raises(InvalidConfigError, match="ordered"):
        MusicConfigUpdate.model_validate({"mode": {"delta": 1}})
    with pytest.raises(InvalidConfigError):
        MusicConfigUpdate.model_validate({"tempo": {"delta": 1.5}})


def test_config_json_round_trip() -> None:
    config = MusicConfig(tempo="fast", root="f#", density=6, accent="bells")
    assert MusicConfig.model_validate_json(config.model_dump_json()) == config
    assert MusicConfig.model_validate(json.loads(config.model_dump_json())) == config


def test_palette_weight_xxl_is_valid_in_an_llm_answer() -> None:
    assert PaletteColor(hex="#112233", weight="xxl").weight == "xxl"
    answer = good_answer()
    answer["palettes"][0]["colors"][0]["weight"] = "xxl"
    result = parse_answer(json.dumps(answer), model="external:test", vibe="harbour")
    assert result.palettes[0].colors[0].weight == "xxl"
    assert result.title == "Harbour Lights At Dusk"  # the answer was used, not a fallback


# --- 4. one performance path -----------------------------------------------------------------
ITEMS: list[object] = [
    Streamable(CALM, duration=1.2),
    MusicConfigUpdate(brightness=Step(1), tempo=Step(-1)),
    {"space": Step(2)},
    Streamable(GROOVE, duration=0.9, transition_duration=0.4),
    "rain on a tin roof",
]


def test_stream_and_live_collect_are_identical() -> None:
    kwargs = {"duration": 0.7, "chunk_seconds": 0.25, "seed": 11}
    streamed = ls.stream(*ITEMS, transition=0.3, **kwargs).collect()  # type: ignore[arg-type]
    lived = ls.live(iter(ITEMS), transition=0.3, **kwargs).collect()  # type: ignore[arg-type]
    assert np.array_equal(streamed.samples, lived.samples)
    assert streamed.notes == lived.notes and streamed.notes
    assert streamed.metadata == lived.metadata
    assert streamed.tempo_bpm == lived.tempo_bpm and streamed.seed == lived.seed == 11
    # every note starts inside the audio, for both
    assert max(n.start_sample for n in lived.notes) < len(lived)

    # and an async generator of the same items is the same performance
    async def agen() -> AsyncIterator[object]:
        for item in ITEMS:
            await asyncio.sleep(0)
            yield item

    from_async = ls.live(agen(), transition=0.3, **kwargs).collect()  # type: ignore[arg-type]
    assert np.array_equal(from_async.samples, streamed.samples)
    assert from_async.metadata == streamed.metadata


def test_live_collect_in_parts_clips_notes_to_each_part() -> None:
    live = ls.live(iter(ITEMS[:2]), duration=1.0, seed=3)
    first = live.collect(seconds=0.8)
    rest = live.collect()
    whole = ls.stream(*ITEMS[:2], duration=1.0, seed=3).collect()
    assert np.array_equal(np.concatenate([first.samples, rest.samples]), whole.samples)
    assert all(0 <= n.start_sample < len(first) for n in first.notes)
    assert all(0 <= n.start_sample < len(rest) for n in rest.notes)
    assert len(first.notes) + len(rest.notes) == len(whole.notes)
    assert first.metadata.boundaries == (0,) and rest.metadata.boundaries == (
        round(1.2 * SR) - round(0.8 * SR),
    )


# --- partial configs and 0.1.8-only fields ---------------------------------------------------
def test_018_defaults_are_available_for_porters() -> None:
    from latentscore.compat import DEFAULTS_018

    ours = MusicConfig()
    assert all(getattr(ours, k) != v for k, v in DEFAULTS_018.items())  # only the differences
    as_018 = MusicConfig(**{**DEFAULTS_018, "mode": "dorian"})
    assert as_018.tempo == "medium" and as_018.accent == "bells" and as_018.mode == "dorian"


def test_018_only_fields_say_they_are_not_part_of_this_library() -> None:
    with pytest.raises(InvalidConfigError, match="fine-grained") as err:
        MusicConfig(tempo="slow", depth=True)
    assert err.value.field == "depth"
    with pytest.raises(InvalidConfigError, match="fine-grained"):
        MusicConfigUpdate.model_validate({"swing": "light"})


def test_download_fast_succeeds_without_network() -> None:
    from latentscore.cli import app

    result = CliRunner().invoke(app, ["download", "fast"])
    assert result.exit_code == 0, result.output
    assert "ships with the package" in result.output


def test_render_hooks_with_text_sync_and_async_in_the_same_order() -> None:
    def record(seen: list[str]) -> ls.RenderHooks:
        return ls.RenderHooks(
            on_start=lambda: seen.append("start"),
            on_model_start=lambda _m: seen.append("model_start"),
            on_model_end=lambda _m: seen.append("model_end"),
            on_synth_start=lambda: seen.append("synth_start"),
            on_synth_end=lambda: seen.append("synth_end"),
            on_end=lambda: seen.append("end"),
        )

    order = ["start", "model_start", "model_end", "synth_start", "synth_end", "end"]
    seen: list[str] = []
    sync = ls.render("groove", model=AsyncConfigModel(), duration=0.2, seed=1, hooks=record(seen))
    assert seen == order
    seen_async: list[str] = []
    audio = asyncio.run(
        ls.arender(
            "groove", model=AsyncConfigModel(), duration=0.2, seed=1, hooks=record(seen_async)
        )
    )
    assert seen_async == order and np.array_equal(audio.samples, sync.samples)
    based = asyncio.run(ls.arender(MusicConfigUpdate(tempo=Step(1)), config=CALM, duration=0.2))
    assert based.metadata.config == MusicConfigUpdate(tempo=Step(1)).apply_to(CALM)


def test_stream_raw_pulls_a_generator_lazily_and_matches_a_list() -> None:
    pulled: list[int] = []

    def items() -> Iterator[object]:
        for i, config in enumerate((CALM, GROOVE)):
            pulled.append(i)
            yield Streamable(config, duration=0.5)

    chunks = ls.stream_raw(items(), chunk_seconds=0.1, transition_seconds=0.2, seed=8)
    assert pulled == []  # nothing is pulled before the first chunk is asked for
    got = np.concatenate(list(chunks))
    listed = ls.stream_raw(
        [Streamable(CALM, duration=0.5), Streamable(GROOVE, duration=0.5)],
        chunk_seconds=0.1,
        transition_seconds=0.2,
        seed=8,
    )
    assert pulled == [0, 1] and np.array_equal(got, np.concatenate(list(listed)))
