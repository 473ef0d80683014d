"""BPM as a first-class value: the ``bpm`` config override, ``--bpm`` and ``/latentscore/bpm``.

Config and CLI checks run in-process; the OSC checks talk to a real daemon over UDP
(``--no-audio``: the real-time null output) and read what the engine was handed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import latentscore as ls
from bridge.daemon import BridgeDaemon
from latentscore.cli import app, parse_sets
from latentscore.config import MusicConfig, MusicConfigUpdate, Step
from latentscore.errors import InvalidConfigError
from latentscore.params import to_synth_params
from synth.params import BPM_RANGE, SynthParams, bpm_to_tempo, tempo_to_bpm
from tests.bridge_util import OscClient, running_daemon, wait_for

P = "/latentscore"


# --- the engine's tempo axis --------------------------------------------------------------
def test_tempo_axis_reaches_every_bpm_in_range_and_inverts() -> None:
    for bpm in (40.0, 50.0, 56.0, 61.5, 70.0, 88.0, 120.0, 132.0, 140.0, 174.0, 200.0):
        position = bpm_to_tempo(bpm)
        assert tempo_to_bpm(position) == pytest.approx(bpm)
        assert SynthParams(tempo=position).clamped().bpm == pytest.approx(bpm)
    assert SynthParams(tempo=9.0).clamped().bpm == pytest.approx(BPM_RANGE[1])
    assert SynthParams(tempo=-9.0).clamped().bpm == pytest.approx(BPM_RANGE[0])
    assert SynthParams(tempo=0.25).bpm == 70.0  # labels keep their anchors


# --- MusicConfig / MusicConfigUpdate ------------------------------------------------------
def test_a_number_wins_over_the_tempo_label_which_names_the_nearest() -> None:
    config = MusicConfig(tempo="very_slow", bpm=126)
    assert config.bpm == 126.0 and config.tempo == "very_fast"
    assert to_synth_params(config).clamped().bpm == pytest.approx(126.0)
    assert MusicConfig.from_json(config.to_json()) == config
    assert "bpm" not in MusicConfig().model_dump()  # unset: dumps as before
    assert json.loads(MusicConfig(bpm="96 bpm").to_json())["bpm"] == 96.0


def test_updates_set_keep_and_clear_the_exact_bpm() -> None:
    exact = MusicConfigUpdate(bpm=95).apply_to(MusicConfig())
    assert (exact.bpm, exact.tempo) == (95.0, "medium")
    kept = MusicConfigUpdate(mode="dorian").apply_to(exact)
    assert kept.bpm == 95.0  # other fields leave it alone
    stepped = MusicConfigUpdate(tempo=Step(1)).apply_to(exact)
    assert (stepped.bpm, stepped.tempo) == (None, "fast")  # a Step moves from the nearest label
    label = MusicConfigUpdate(tempo="slow").apply_to(exact)
    assert label.bpm is None and to_synth_params(label).bpm == 70.0
    both = MusicConfigUpdate(tempo="slow", bpm=150).apply_to(MusicConfig())
    assert both.bpm == 150.0 and both.tempo == "very_fast"
    assert MusicConfigUpdate.model_validate_json('{"bpm": 90}').changes() == {"bpm": 90.0}


@pytest.mark.parametrize("bad", [True, "fast", 39.9, 200.5, float("nan"), float("inf"), [120]])
def test_bad_bpm_is_an_error_naming_field_value_and_range(bad: object) -> None:
    for make in (lambda: MusicConfig(bpm=bad), lambda: MusicConfigUpdate(bpm=bad)):
        with pytest.raises(InvalidConfigError, match=r"bpm: .* 40 to 200") as info:
            make()
        assert info.value.field == "bpm"


# --- the Python API and the CLI -----------------------------------------------------------
def test_a_written_bpm_is_played_exactly_whatever_the_model() -> None:
    config = ls.vibe_to_config("dark warehouse techno at 128 bpm")  # the fast model
    assert config.bpm == 128.0 and config.tempo == "very_fast"
    assert ls.vibe_to_config("slow rain on a tin roof").bpm is None
    assert ls.vibe_to_config("a 300 bpm blur").bpm is None  # outside 40..200: a label only

    class Fixed:  # a user's own model (any object with generate)
        name = "fixed"

        def generate(self, text: str) -> ls.GenerateResult:
            return ls.vibe_to_result("calm", model="fast")

    assert ls.vibe_to_config("calm at 72 BPM", model=Fixed()).bpm == 72.0  # type: ignore[arg-type]


def test_render_plays_the_exact_bpm_and_writes_it_to_the_midi_file(tmp_path: Path) -> None:
    config = MusicConfig(rhythm="soft_four", human="robotic", bpm=123.0)
    audio = ls.render(config, duration=4.0, seed=3)
    assert audio.tempo_bpm == pytest.approx(123.0)
    hits = [n.start_sample / audio.sample_rate for n in audio.notes if n.layer == "rhythm"]
    assert len(hits) >= 4
    grid = 15.0 / 123.0  # (a sixteenth)
    for t in hits:  # every hit (sample time) on the 123 BPM sixteenth grid, within 2 ms
        off = t % grid
        assert min(off, grid - off) < 0.002, t

    import mido

    path = tmp_path / "exact.mid"
    audio.save_midi(path)
    tempos = [m.tempo for t in mido.MidiFile(path).tracks for m in t if m.type == "set_tempo"]
    assert tempos and mido.tempo2bpm(tempos[0]) == pytest.approx(123.0, abs=0.01)


def test_cli_bpm_and_set_bpm(tmp_path: Path) -> None:
    assert parse_sets(["bpm=88.5", "mode=major"]).changes() == {"mode": "major", "bpm": 88.5}
    runner = CliRunner()
    out = tmp_path / "x.mid"
    result = runner.invoke(
        app, ["render", "--preset", "lofi_study", "--bpm", "97", "-d", "3", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    import mido

    tempos = [m.tempo for t in mido.MidiFile(out).tracks for m in t if m.type == "set_tempo"]
    assert mido.tempo2bpm(tempos[0]) == pytest.approx(97.0, abs=0.01)
    bad = runner.invoke(app, ["render", "--bpm", "500", "-d", "1", "-o", str(tmp_path / "y.wav")])
    assert bad.exit_code == 2
    assert "bpm" in bad.output and "40 to 200" in bad.output
    worse = runner.invoke(app, ["render", "--set", "bpm=fast", "-o", str(tmp_path / "z.wav")])
    assert worse.exit_code == 2 and "'fast' is not a tempo in BPM" in worse.output


# --- the bridge ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def daemon() -> Iterator[BridgeDaemon]:
    with running_daemon(bpm=140.0) as d:
        yield d


def engine_bpm(daemon: BridgeDaemon) -> float:
    return daemon.performance.performer.params.bpm


def test_daemon_starts_at_its_bpm_option(daemon: BridgeDaemon, client: OscClient) -> None:
    state = client.state()
    assert state[f"{P}/bpm"] == (pytest.approx(140.0),)
    assert state[f"{P}/tempo"] == (1.0,)  # the fader shows its top; the exact value is bpm
    assert state[f"{P}/label/tempo"] == ("very_fast",)
    wait_for(lambda: abs(engine_bpm(daemon) - 140.0) < 1e-6, what="engine at 140 BPM")


def test_osc_bpm_sets_the_exact_tempo_and_feeds_back(
    daemon: BridgeDaemon, client: OscClient
) -> None:
    listener = OscClient(daemon.osc_port, bind="127.0.0.2")  # another host: gets echoes
    try:
        listener.send(f"{P}/subscribe")
        listener.wait(f"{P}/bpm")  # the state sent on subscribing
        listener.clear()
        client.send(f"{P}/transition", 0.0)
        client.send(f"{P}/bpm", 92.5)
        got = listener.wait(f"{P}/bpm", predicate=lambda m: m.args[0] == pytest.approx(92.5))
        assert got is not None
        listener.wait(f"{P}/label/tempo", predicate=lambda m: m.args == ("medium",))
        wait_for(lambda: abs(engine_bpm(daemon) - 92.5) < 0.01, what="engine at 92.5 BPM")
        client.send(f"{P}/bpm", 174)  # an int is a BPM too
        wait_for(lambda: abs(engine_bpm(daemon) - 174.0) < 0.01, what="engine at 174 BPM")

        listener.clear()
        client.send(f"{P}/tempo", 0.25)  # the fader takes over: a position again
        listener.wait(f"{P}/bpm", predicate=lambda m: m.args[0] == pytest.approx(70.0))
        client.send(f"{P}/config", json.dumps({"bpm": 111}))
        assert client.state()[f"{P}/bpm"] == (pytest.approx(111.0),)
        wait_for(lambda: abs(engine_bpm(daemon) - 111.0) < 0.01, what="engine at 111 BPM")
        client.send(f"{P}/config", json.dumps({"tempo": "slow"}))
        assert client.state()[f"{P}/bpm"] == (pytest.approx(70.0),)
    finally:
        listener.close()
        client.send(f"{P}/transition", 3.0)


def test_osc_bpm_out_of_range_is_rejected_with_a_reason(
    daemon: BridgeDaemon, client: OscClient
) -> None:
    before = client.state()[f"{P}/bpm"]
    client.clear()
    client.send(f"{P}/bpm", 300.0)
    error = client.wait(f"{P}/error")
    assert error is not None and "/latentscore/bpm" in str(error.args[0])
    assert "40..200" in str(error.args[0])
    assert client.state()[f"{P}/bpm"] == before


def test_oscquery_describes_bpm_in_bpm(daemon: BridgeDaemon) -> None:
    import urllib.request

    assert daemon.oscquery is not None
    url = f"http://127.0.0.1:{daemon.oscquery.port}{P}/bpm"
    with urllib.request.urlopen(url, timeout=5) as reply:
        node = json.load(reply)
    assert node["TYPE"] == "f"
    assert node["UNIT"] == ["time.bpm"]
    assert node["RANGE"] == [{"MIN": 40.0, "MAX": 200.0}]
