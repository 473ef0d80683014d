"""The latentscore CLI: commands, user-facing errors (exit 2, one line), console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import mido
import pytest
import soundfile as sf
from typer.testing import CliRunner

import latentscore as ls
from latentscore import presets
from latentscore.audio import Audio
from latentscore.cli import app
from latentscore.config import FIELDS, MusicConfig
from latentscore.errors import AudioDeviceError
from tests.jack import jack_server  # noqa: F401  (fixture)

runner = CliRunner()


def test_help_teaches_with_examples() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("config", "render", "demo", "doctor", "presets", "schema", "--preset", "--set"):
        assert word in result.output


def test_no_args_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "Usage" in result.output


def test_presets_lists_every_preset() -> None:
    result = runner.invoke(app, ["presets"])
    assert result.exit_code == 0
    assert result.output.split() == presets.list_presets()


def test_schema_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert set(json.loads(result.output)["properties"]) == {*FIELDS, "bpm"}


def test_render_preset_with_sets_and_midi(tmp_path: Path) -> None:
    wav, mid = tmp_path / "a.wav", tmp_path / "a.mid"
    args = ["render", "--preset", "neon_city", "--set", "tempo=-1", "-s", "mode=major"]
    result = runner.invoke(
        app, [*args, "-d", "1.5", "--seed", "7", "-o", str(wav), "--midi", str(mid)]
    )
    assert result.exit_code == 0, result.output
    assert str(wav) in result.output and "seed 7" in result.output
    data, sr = sf.read(str(wav), dtype="float32")
    assert sr == 44100 and data.shape == (round(1.5 * 44100),)
    assert mido.MidiFile(str(mid)).type == 1


def test_render_config_file_to_flac(tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"tempo": "fast", "mode": "dorian"}))
    out = tmp_path / "c.flac"
    result = runner.invoke(app, ["render", "-c", str(cfg), "-d", "0.5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sf.info(str(out)).format == "FLAC"


def test_render_straight_to_midi(tmp_path: Path) -> None:
    out = tmp_path / "n.mid"
    result = runner.invoke(app, ["render", "-d", "2", "--seed", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(mido.MidiFile(str(out)).tracks) >= 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "tempo=warp"], "very_slow"),
        (["--set", "tempo"], "field=label"),
        (["--set", "volume=11"], "volume"),
        (["--set", "mode=+1"], "mode"),
        (["--preset", "midnite_jaz"], "midnight_jazz"),
        (["--config", "/nonexistent/cfg.json"], "cannot read"),
        (["--preset", "deep_space", "--config", "x.json"], "not both"),
        (["-d", "-1"], "duration"),
        (["-o", "out.mp3"], ".wav"),
        (["--midi", "notes.txt"], ".mid"),
    ],
)
def test_user_errors_exit_2_with_one_clear_line(
    args: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["render", "-d", "0.2", *args])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:")
    assert list(tmp_path.iterdir()) == []  # nothing written


# --- vibe text: `config`, `render TEXT`, --model ----------------------------------------------
def test_config_prints_the_vibes_config_as_json() -> None:
    result = runner.invoke(app, ["config", "rainy night in a jazz bar"])
    assert result.exit_code == 0, result.output
    config = MusicConfig.model_validate(json.loads(result.stdout))
    assert config == ls.vibe_to_config("rainy night in a jazz bar")
    same = runner.invoke(app, ["config", "rainy night in a jazz bar", "--model", "fast"])
    assert same.stdout == result.stdout


def test_config_full_prints_the_whole_answer() -> None:
    result = runner.invoke(app, ["config", "warm sunset over water", "--full"])
    assert result.exit_code == 0, result.output
    answer = ls.GenerateResult.model_validate(json.loads(result.stdout))
    assert answer == ls.vibe_to_result("warm sunset over water")
    assert answer.title and answer.model == "fast" and len(answer.palettes) == 3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["config", "   "], "empty"),
        (["config", ""], "empty"),
        (["config", "calm", "--model", "fastt"], "model"),
        (["render", "   ", "-d", "0.2"], "empty"),
        (["render", "calm", "-d", "0.2", "-m", "fastt"], "model"),
        (["render", "calm", "--preset", "deep_space"], "not both"),
        (["render", "{tempo: fast", "-d", "0.2"], "not valid JSON"),
        (["demo", "calm", "--preset", "deep_space"], "not both"),
    ],
)
def test_vibe_user_errors_exit_2(
    args: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and result.stderr.startswith("error:")
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_render_text_uses_the_model_and_names_the_piece(tmp_path: Path) -> None:
    out = tmp_path / "v.wav"
    args = ["render", "warm sunset over water", "-d", "0.5", "--seed", "3", "-o", str(out)]
    result = runner.invoke(app, [*args, "--model", "fast", "--set", "tempo=+1"])
    assert result.exit_code == 0, result.output
    title = ls.vibe_to_result("warm sunset over water").title
    assert title in result.output and "model fast" in result.output
    data, _ = sf.read(str(out), dtype="float32")
    want = ls.render("warm sunset over water", duration=0.5, seed=3, update={"tempo": ls.Step(1)})
    # .wav is 16-bit PCM: equal to the render within one quantisation step
    assert data.shape == want.samples.shape and float(abs(data - want.samples).max()) <= 2**-15


def test_render_positional_preset_and_json_are_configs(tmp_path: Path) -> None:
    out = tmp_path / "p.wav"
    result = runner.invoke(
        app, ["render", "deep_space", "-d", "0.3", "--seed", "1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Vibe:" not in result.output  # a preset, not text for the model
    expected = ls.render(presets.load("deep_space"), duration=0.3, seed=1)
    assert float(abs(sf.read(str(out), dtype="float32")[0] - expected.samples).max()) <= 2**-15
    inline = runner.invoke(app, ["render", '{"tempo": "fast"}', "-d", "0.3", "-o", str(out)])
    assert inline.exit_code == 0 and "Vibe:" not in inline.output


def test_config_cli_imports_no_torch_or_transformers() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "latentscore.cli", "config", "warm sunset"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    MusicConfig.model_validate(json.loads(proc.stdout))
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    heavy = {"torch", "sentence_transformers", "transformers", "litellm"}
    assert not {name.split(".")[0] for name in imported} & heavy


def test_invalid_json_config_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{tempo: fast")
    result = runner.invoke(app, ["render", "-c", str(bad), "-o", str(tmp_path / "x.wav")])
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


def test_demo_saves_file_without_audio_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_device(*_: object, **__: object) -> None:
        raise AudioDeviceError("No audio output device available")

    # whatever this machine has (a JACK server may be up for other tests), no output here
    monkeypatch.setattr("latentscore.audio_device.check_output_device", no_device)
    monkeypatch.setattr(Audio, "play", no_device)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "-d", "0.5", "--preset", "arctic_drift"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo.wav").exists()
    assert "demo.wav" in result.output

    out = tmp_path / "mine.ogg"
    result = runner.invoke(app, ["demo", "-d", "0.5", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and str(out) in result.output

    vibe = tmp_path / "vibe.wav"  # the default and a given vibe go through the fast model
    result = runner.invoke(app, ["demo", "neon city at midnight", "-d", "0.5", "-o", str(vibe)])
    assert result.exit_code == 0, result.output
    assert vibe.exists()


@pytest.mark.jack
@pytest.mark.usefixtures("jack_server")
def test_demo_plays_when_a_device_exists(tmp_path: Path) -> None:
    # a real output (JACK dummy driver): the demo plays and writes no fallback file
    done = subprocess.run(
        [_console_script(), "demo", "-d", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Playing" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_doctor_reports_every_check() -> None:
    # In a subprocess: doctor loads PortAudio, and a PortAudio JACK client left in this
    # process (a JACK server may be up for other tests) would outlive the check.
    done = subprocess.run(
        [_console_script(), "doctor"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    for name in (
        "python",
        "packages",
        "portaudio",
        "audio output",
        "jack",
        "midi",
        "fast model",
        "query kernel",
        "extra [external]",
        "extra [expressive]",
        "extra [zeroconf]",
        "extra [link]",
        "expressive weights",
    ):
        assert name in done.stdout


def _console_script() -> str:
    script = Path(sys.executable).with_name("latentscore")
    if script.exists():
        return str(script)
    found = shutil.which("latentscore")
    if found is None:
        pytest.skip("latentscore console script is not installed (pip install -e .)")
    return found


def test_console_script_renders_a_file(tmp_path: Path) -> None:
    out = tmp_path / "two.wav"
    proc = subprocess.run(
        [_console_script(), "render", "-d", "2", "--seed", "5", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "seed 5" in proc.stdout
    assert sf.info(str(out)).frames == 2 * 44100


def test_console_script_bad_set_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            _console_script(),
            "render",
            "--set",
            "brightness=blinding",
            "-o",
            str(tmp_path / "x.wav"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert (
        "brightness" in proc.stderr and "blinding" in proc.stderr and "very_bright" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"latentscore {ls.__version__}"


def test_help_shows_no_type_after_plain_flags() -> None:
    for command in (["config"], ["bridge"], ["render"]):
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0
        assert "<bool>" not in result.output
    bridge_help = runner.invoke(app, ["bridge", "--help"], env={"COLUMNS": "160"}).output
    assert "<float>" in bridge_help  # options that take a value keep their type


def test_unwritable_output_names_the_users_path(tmp_path: Path) -> None:
    target = tmp_path / "missing_dir" / "x.wav"
    result = runner.invoke(app, ["render", "-d", "0.5", "--seed", "1", "-o", str(target)])
    assert result.exit_code == 2
    assert str(target) in result.stderr
    assert ".tmp" not in result.stderr


def test_device_errors_suggest_cli_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from latentscore.audio_device import check_output_device
    from latentscore.cli import DEVICE_FIX_CLI, guarded

    class NoDevices:
        class PortAudioError(Exception):
            pass

        def query_devices(self, *_: object, **__: object) -> dict[str, object]:
            raise ValueError("Error querying device -1")

    with pytest.raises(AudioDeviceError) as caught:
        check_output_device(NoDevices())  # type: ignore[arg-type]
    assert "audio.play(device=" in str(caught.value)  # Python users get Python advice
    assert "audio.play" not in caught.value.problem

    def play() -> None:
        raise caught.value

    captured: list[str] = []
    monkeypatch.setattr("latentscore.cli.err.print", lambda msg, **_: captured.append(msg))
    with pytest.raises(Exception) as exited:
        guarded(play)
    assert getattr(exited.value, "exit_code", None) == 2
    assert DEVICE_FIX_CLI in captured[0] and "audio.play" not in captured[0]
    assert "--no-audio" in DEVICE_FIX_CLI and "--device" in DEVICE_FIX_CLI


@pytest.mark.parametrize("command", ["render", "demo"])
def test_ctrl_c_prints_one_line_and_exits_130(command: str, tmp_path: Path) -> None:
    import os
    import signal

    out = tmp_path / "long.wav"
    proc = subprocess.Popen(
        [_console_script(), command, "--preset", "deep_space", "-d", "3600", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        # rich draws the progress bar only on a terminal; this says stdout is one, so the
        # first progress output tells the test the hour-long render has started.
        env={**os.environ, "TTY_COMPATIBLE": "1", "COLUMNS": "80"},
        # A test run started in the background has SIGINT ignored, and children inherit
        # that; the CLI must get SIGINT as a terminal would deliver it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    assert proc.stdout.read(1), "no progress output"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip() == "Interrupted."
    assert list(tmp_path.iterdir()) == []  # no partial file, no temp file


def test_midi_probing_prints_nothing_on_stderr() -> None:
    # Whatever this machine has (no /dev/snd/seq, no JACK server, or both), the C libraries'
    # own diagnostics must not reach the terminal; the listing says what is missing.
    done = subprocess.run(
        [_console_script(), "bridge", "--midi-list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "controller maps" in done.stdout
    assert done.stderr == ""
