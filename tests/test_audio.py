"""Audio: array contract, file formats, atomic saves, MIDI export and playback errors."""

from __future__ import annotations

import _thread
import importlib.abc
import signal
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
import soundfile as sf

from latentscore import Audio, InvalidConfigError
from latentscore.errors import AudioDeviceError
from latentscore.midi_layout import LAYER_MIDI
from synth.events import NoteEvent

SR = 44100


def tone(seconds: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)


def test_contract() -> None:
    audio = Audio(tone(0.5))
    arr = np.asarray(audio)
    assert arr.dtype == np.float32 and arr.shape == (22050,)
    assert audio.sample_rate == 44100
    assert len(audio) == 22050
    assert audio.duration == pytest.approx(0.5)
    assert audio.metadata is None and audio.notes == () and audio.seed is None


def test_array_protocol_dtype_and_copy() -> None:
    audio = Audio(tone(0.1))
    assert np.asarray(audio) is audio.samples  # no copy unless asked
    copied = np.array(audio, copy=True)
    assert copied is not audio.samples and np.array_equal(copied, audio.samples)
    as64 = np.asarray(audio, dtype=np.float64)
    assert as64.dtype == np.float64
    with pytest.raises(ValueError):
        np.array(audio, dtype=np.float64, copy=False)


def test_rejects_non_mono() -> None:
    with pytest.raises(ValueError, match="mono"):
        Audio(np.zeros((10, 2), dtype=np.float32))


def test_notes_are_sorted_by_onset() -> None:
    late = NoteEvent("pad", 2.0, 1.0, 60.0, 0.5, start_sample=2000)
    early = NoteEvent("bass", 0.0, 1.0, 36.0, 0.5, start_sample=0)
    assert Audio(tone(0.1), notes=[late, early]).notes == (early, late)


@pytest.mark.parametrize(
    ("ext", "subtype", "expected_subtype", "tolerance"),
    [
        (".wav", None, "PCM_16", 1.0 / 2**14),  # the default, as in 0.1.8
        (".wav", "FLOAT", "FLOAT", 0.0),
        (".wav", "pcm_24", "PCM_24", 1.0 / 2**22),
        (".flac", None, "PCM_24", 1.0 / 2**22),
        (".ogg", None, "VORBIS", None),
    ],
)
def test_save_round_trip(
    tmp_path: Path, ext: str, subtype: str | None, expected_subtype: str, tolerance: float | None
) -> None:
    samples = tone(0.5)
    path = tmp_path / f"out{ext}"
    written = Audio(samples).save(path, subtype=subtype)
    assert written == path
    info = sf.info(str(path))
    assert info.samplerate == SR and info.channels == 1
    assert info.subtype == expected_subtype
    data, sr = sf.read(str(path), dtype="float32")
    assert sr == SR
    if tolerance is None:  # lossy: compare energy, not samples
        assert abs(len(data) - len(samples)) < 2048
        assert np.sqrt(np.mean(data**2)) == pytest.approx(np.sqrt(np.mean(samples**2)), rel=0.1)
    else:
        assert data.shape == samples.shape
        assert np.max(np.abs(data - samples)) <= tolerance
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left


def test_pcm_save_clips_instead_of_wrapping(tmp_path: Path) -> None:
    path = tmp_path / "loud.wav"
    Audio(np.array([1.5, -1.5, 0.25], dtype=np.float32)).save(path, subtype="PCM_16")
    data, _ = sf.read(str(path), dtype="float32")
    assert data[0] > 0.99 and data[1] < -0.99 and data[2] == pytest.approx(0.25, abs=1e-4)


def test_unknown_extension_lists_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigError) as info:
        Audio(tone(0.1)).save(tmp_path / "out.mp3")
    message = str(info.value)
    for ext in (".wav", ".flac", ".ogg", ".mid"):
        assert ext in message
    assert list(tmp_path.iterdir()) == []


def test_bad_subtype_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigError, match="subtype"):
        Audio(tone(0.1)).save(tmp_path / "out.wav", subtype="PCM_99")


def test_failed_save_leaves_no_temp_file_and_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keep.wav"
    path.write_bytes(b"previous contents")

    def broken_write(self: sf.SoundFile, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")  # after the header of the temp file was written

    monkeypatch.setattr(sf.SoundFile, "write", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):
        Audio(tone(0.1)).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]
    assert path.read_bytes() == b"previous contents"


def _notes() -> list[NoteEvent]:
    spb = SR * 60 / 100  # 100 BPM
    notes = []
    for beat in range(8):
        notes.append(NoteEvent("bass", float(beat), 1.0, 36.0, 0.8, round(beat * spb)))
        notes.append(NoteEvent("rhythm", float(beat), 0.25, 42.0, 0.5, round(beat * spb)))
    for beat in (0, 4):
        for pitch in (60.0, 63.0, 67.0):
            notes.append(NoteEvent("pad", float(beat), 4.0, pitch, 0.4, round(beat * spb)))
    # Overlapping same-pitch melody notes must still pair on/off cleanly.
    notes.append(NoteEvent("melody", 1.0, 3.0, 72.0, 0.6, round(1 * spb)))
    notes.append(NoteEvent("melody", 2.0, 1.0, 72.0, 0.7, round(2 * spb)))
    return notes


def test_midi_round_trip(tmp_path: Path) -> None:
    notes = _notes()
    path = tmp_path / "notes.mid"
    Audio(tone(4.8), notes=notes, tempo_bpm=100.0).save(path)  # 8 beats: every note
    midi = mido.MidiFile(str(path))
    assert midi.type == 1

    tempos = [m.tempo for m in midi.tracks[0] if m.type == "set_tempo"]
    assert tempos and mido.tempo2bpm(tempos[0]) == pytest.approx(100.0)

    tracks = {
        next(m.name for m in track if m.type == "track_name"): track for track in midi.tracks[1:]
    }
    assert set(tracks) == {"bass", "pad", "melody", "rhythm"}
    for layer, track in tracks.items():
        channel = LAYER_MIDI[layer].channel_index
        messages = [m for m in track if m.type in ("note_on", "note_off")]
        assert {m.channel for m in messages} == {channel}
        sounding: dict[int, int] = {}
        ons = 0
        for m in messages:
            if m.type == "note_on" and m.velocity > 0:
                assert sounding.get(m.note, 0) == 0, f"{layer}: note {m.note} retriggered"
                sounding[m.note] = 1
                ons += 1
            else:
                assert sounding.get(m.note, 0) == 1, f"{layer}: unmatched note-off {m.note}"
                sounding[m.note] = 0
        assert not any(sounding.values()), f"{layer}: notes left hanging"
        expected = len([n for n in notes if n.layer == layer])
        assert ons == expected

    assert LAYER_MIDI["rhythm"].channel_index == 9  # GM drums
    # The first bass note lasts exactly one beat.
    bass = [m for m in tracks["bass"] if m.type in ("note_on", "note_off")]
    assert bass[1].type == "note_off" and bass[1].time == midi.ticks_per_beat


def test_midi_file_is_4_4_in_key_and_ends_with_the_audio(tmp_path: Path) -> None:
    import latentscore as ls
    from latentscore.config import MusicConfig

    notes = _notes()  # 8 beats at 100 BPM; the audio holds 5 of them (3 s)
    path = tmp_path / "short.mid"
    Audio(tone(3.0), notes=notes, tempo_bpm=100.0).save(path)
    midi = mido.MidiFile(str(path))
    signature = [m for m in midi.tracks[0] if m.type == "time_signature"]
    assert [(m.numerator, m.denominator) for m in signature] == [(4, 4)]
    end = 5 * midi.ticks_per_beat
    for track in midi.tracks:  # every track ends where the audio does
        assert sum(m.time for m in track) == end
    assert midi.length == pytest.approx(3.0, abs=0.01)
    ons = [m for t in midi.tracks for m in t if m.type == "note_on" and m.velocity > 0]
    assert len(ons) == len([n for n in notes if n.start_beat < 5])  # none after the end

    audio = ls.render(MusicConfig(root="e", mode="major"), duration=3.0, seed=2)
    audio.save(tmp_path / "render.mid")
    midi = mido.MidiFile(str(tmp_path / "render.mid"))
    assert [m.key for m in midi.tracks[0] if m.type == "key_signature"] == ["E"]
    assert midi.length == pytest.approx(3.0, abs=0.01)


def test_midi_tempo_is_estimated_from_notes_when_unknown(tmp_path: Path) -> None:
    path = tmp_path / "est.mid"
    Audio(tone(0.1), notes=_notes()).save(path)
    tempo = next(m.tempo for m in mido.MidiFile(str(path)).tracks[0] if m.type == "set_tempo")
    assert mido.tempo2bpm(tempo) == pytest.approx(100.0, rel=1e-3)


def test_midi_of_silence_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "empty.midi"
    Audio(tone(0.1)).save(path)
    assert len(mido.MidiFile(str(path)).tracks) == 1


# --- playback --------------------------------------------------------------------------


class _PortAudioMissing(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


def test_play_without_portaudio_raises_audio_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_PortAudioMissing(), *sys.meta_path])
    with pytest.raises(AudioDeviceError) as info:
        Audio(tone(0.1)).play()
    message = str(info.value)
    assert "libportaudio2" in message and 'save("out.wav")' in message


def _fake_sounddevice(*, has_output: bool, interrupt: bool = False) -> types.ModuleType:
    """A sounddevice stand-in whose OutputStream calls back from a thread like PortAudio.

    With ``interrupt`` it presses Ctrl-C (interrupts the main thread) after a few blocks.
    """
    sd = types.ModuleType("sounddevice")

    class PortAudioError(Exception):
        pass

    class CallbackStop(Exception):
        pass

    calls: list[str] = []
    played: list[np.ndarray] = []

    def query_devices(device: object = None, kind: str | None = None) -> dict[str, object]:
        if not has_output:
            raise PortAudioError("Error querying device -1")
        return {"name": "fake", "max_output_channels": 2}

    class OutputStream:
        def __init__(self, **kw: Any) -> None:
            assert kw["dtype"] == "float32" and kw["channels"] == 1
            self.kw = kw
            self.halt = threading.Event()
            self.thread = threading.Thread(target=self.run, daemon=True)
            calls.append(f"open {kw['samplerate']}")

        def run(self) -> None:
            status = types.SimpleNamespace(output_underflow=False)
            n = self.kw["blocksize"]
            for k in range(100_000):
                if self.halt.is_set():
                    break
                out = np.full((n, 1), np.nan, dtype=np.float32)
                try:
                    self.kw["callback"](out, n, None, status)
                except CallbackStop:
                    played.append(out[:, 0].copy())
                    break
                played.append(out[:, 0].copy())
                if interrupt and k == 3:
                    _thread.interrupt_main()
                time.sleep(n / 44100)
            self.kw["finished_callback"]()

        def start(self) -> None:
            self.thread.start()

        def stop(self) -> None:
            self.halt.set()
            if self.thread is not threading.current_thread():
                self.thread.join()
            calls.append("stop")

        def close(self) -> None:
            calls.append("close")

    sd.PortAudioError = PortAudioError  # type: ignore[attr-defined]
    sd.CallbackStop = CallbackStop  # type: ignore[attr-defined]
    sd.query_devices = query_devices  # type: ignore[attr-defined]
    sd.OutputStream = OutputStream  # type: ignore[attr-defined]
    sd.calls, sd.played = calls, played  # type: ignore[attr-defined]
    return sd


def test_play_without_output_device_raises_with_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(has_output=False))
    with pytest.raises(AudioDeviceError) as info:
        Audio(tone(0.1)).play()
    assert "device" in str(info.value) and "out.wav" in str(info.value)


def test_play_blocks_until_done_and_plays_every_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = _fake_sounddevice(has_output=True)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    audio = Audio(tone(0.1))
    audio.play()
    assert sd.calls == ["open 44100", "stop", "close"]  # type: ignore[attr-defined]
    played = np.concatenate(sd.played)  # type: ignore[attr-defined]
    n = len(audio.samples)
    np.testing.assert_array_equal(played[:n], audio.samples)
    assert not np.any(played[n:])  # padded with silence, never device garbage


def test_ctrl_c_fades_out_closes_and_reraises(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C is simulated with _thread.interrupt_main(), which does nothing while SIGINT is
    # ignored, as it is for a background job of a non-interactive shell (`make test &`)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_fades_out_closes_and_reraises(monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_fades_out_closes_and_reraises(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = _fake_sounddevice(has_output=True, interrupt=True)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    loud = Audio(np.full(44100 * 5, 0.5, dtype=np.float32))
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        loud.play()
    assert time.monotonic() - start < 2.0
    assert sd.calls[-2:] == ["stop", "close"]  # type: ignore[attr-defined]
    played = np.concatenate(sd.played)  # type: ignore[attr-defined]
    assert played[0] == 0.5 and played[-1] == 0.0
    assert np.max(np.abs(np.diff(played))) < 0.01  # a fade, not a cut
