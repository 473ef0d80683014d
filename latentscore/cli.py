"""The ``latentscore`` command line: config, render, demo, doctor, presets, schema, download,
bridge.

Vibe text ("warm sunset over water") is turned into a MusicConfig by a vibe model
(``--model``, default ``fast``: offline, no torch). Every user error (empty text, unknown
model, bad label, unknown preset, unreadable file) prints one red line on stderr and exits
with status 2; tracebacks are reserved for bugs. Heavy modules load inside the commands that
need them, so ``latentscore config "..."`` starts in well under a second plus the model load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from latentscore import presets as preset_lib
from latentscore.config import (
    FIELDS,
    MusicConfig,
    MusicConfigUpdate,
    Step,
    check_bpm,
    config_json_schema,
    parse_assignments,
)
from latentscore.errors import AudioDeviceError, LatentScoreError, ModelNotAvailableError
from latentscore.models.base import DEFAULT_MODEL

EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report an interrupted program.
EXIT_INTERRUPTED = 130
PROGRESS_MIN_SECONDS = 5.0
DEFAULT_DEMO_PRESET = "morning_mist"
DEFAULT_DEMO_VIBE = "morning mist over a quiet lake"

out = Console()
err = Console(stderr=True)


def _hide_flag_types() -> None:
    """Show no ``<bool>`` after plain on/off flags (``--full``, ``--help``) in ``--help``.

    Typer (0.29) prints every option's Python type in the help table; for a flag that takes
    no value the type is noise that reads as if a value were expected. Options with a value
    keep theirs (``<path>``, ``<float>``).
    """
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_hides_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and self.metavar is None else shown(self, ctx)

    display_type_rich._hides_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_hide_flag_types()

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    help="""LatentScore: ambient music from a vibe or a MusicConfig, rendered locally.

[bold]Examples[/bold]

  [dim]# describe a mood: the fast model picks a config, the engine renders it[/dim]
  latentscore render "warm sunset over water" -d 60 -o sunset.wav

  [dim]# just the config the text asks for, as JSON (--full: title, palettes too)[/dim]
  latentscore config "rainy night in a jazz bar"

  [dim]# hear a vibe or a preset (saves demo.wav when there is no audio device)[/dim]
  latentscore demo "neon city at midnight"
  latentscore demo --preset midnight_jazz

  [dim]# render 60 s of a preset; the output format follows the extension[/dim]
  latentscore render --preset lofi_study -o lofi.wav --duration 60

  [dim]# override fields by label, or step ordered fields up/down[/dim]
  latentscore render --preset deep_space --set tempo=+1 -s texture=stars -o a.flac

  [dim]# a config file (here the one a vibe asks for), a fixed seed, the notes as MIDI too[/dim]
  latentscore config "rainy night in a jazz bar" > my.json
  latentscore render --config my.json --seed 7 -o piece.wav --midi piece.mid

  [dim]# list presets, print every field and label, check audio/JACK/MIDI[/dim]
  latentscore presets
  latentscore schema > music_config.schema.json
  latentscore doctor

  [dim]# a live daemon: OSC in on 9000 (OSCQuery on 9090), a MIDI knob box, notes out[/dim]
  latentscore bridge --vibe "deep space drift" --send-to 127.0.0.1:9001
  latentscore bridge --midi-in virtual --midi-map nanokontrol2 --midi-out virtual
""",
)

T = TypeVar("T")


def _print_version(value: bool) -> None:
    if value:
        from latentscore import __version__

        typer.echo(f"latentscore {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Options that come before the command (``latentscore --version``)."""


ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="Vibe model: fast (offline, default), expressive, or external:<litellm model id>.",
    ),
]


def fail(message: str) -> NoReturn:
    """Print one red line and exit with the usage-error status."""
    # escaped: messages quote user input and names like items[1], which rich reads as markup
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


#: What a shell user does about a missing audio output (the library's own message names
#: ``audio.play(device=...)``, which is Python advice).
DEVICE_FIX_CLI = (
    "connect or enable an output, pick one with --device NAME|INDEX "
    "(list them: python -m sounddevice), or run with --no-audio"
)


def interrupted() -> NoReturn:
    """Ctrl-C, the same for every command: one line on stderr, exit status 130."""
    err.print("Interrupted.", highlight=False)
    raise typer.Exit(EXIT_INTERRUPTED)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``, turning user-caused errors into :func:`fail` and Ctrl-C into
    :func:`interrupted`."""
    try:
        return action()
    except AudioDeviceError as exc:
        fail(f"{exc.problem}; {DEVICE_FIX_CLI}")
    except LatentScoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        interrupted()


_STEP = re.compile(r"^[+-]\d+$")


def parse_sets(pairs: list[str]) -> MusicConfigUpdate:
    """``field=label`` pairs as an update; ``field=+1`` / ``field=-2`` step ordered fields."""
    steps: dict[str, Step] = {}
    labels: list[str] = []
    bpm: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        spec = FIELDS.get(key)
        if sep and key == "bpm":
            bpm["bpm"] = check_bpm(value.strip(), where="--set bpm")
        elif sep and spec is not None and spec.ordered and _STEP.match(value.strip()):
            steps[key] = Step(int(value.strip()))
        else:
            labels.append(pair)
    values: dict[str, Any] = {**parse_assignments(labels), **steps, **bpm}
    return MusicConfigUpdate(**values)


def with_bpm(sets: list[str] | None, bpm: float | None) -> list[str]:
    """``--set`` pairs with ``--bpm`` added last (so it wins over a tempo label)."""
    return [*(sets or []), *([f"bpm={bpm:g}"] if bpm is not None else [])]


def load_config_file(path: Path) -> MusicConfig:
    """Read a JSON config file; any problem with it is one error line and exit status 2."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read config file {str(path)!r}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        fail(f"config file {str(path)!r} is not UTF-8 text: {exc.reason} at byte {exc.start}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"config file {str(path)!r} is not valid JSON: {exc}")
    except RecursionError:
        fail(f"config file {str(path)!r} is not a config: JSON nested too deeply")
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        fail(f"config file {str(path)!r} is not a config: {str(exc)[:120]}")
    try:
        return MusicConfig.model_validate(data)
    except RecursionError:
        fail(f"config file {str(path)!r} is not a config: values nested too deeply")


def build_config(config: Path | None, preset: str | None, sets: list[str]) -> MusicConfig:
    if config is not None and preset is not None:
        fail("give either --config or --preset, not both")
    if config is not None:
        base = load_config_file(config)
    elif preset is not None:
        base = preset_lib.load(preset)
    else:
        base = MusicConfig()
    return parse_sets(sets).apply_to(base) if sets else base


def read_source(source: str) -> MusicConfig | str:
    """What a positional argument names: a preset, a JSON config (inline or a .json file),
    or else vibe text for the model.

    Presets and JSON win so that ``latentscore render lofi_study`` keeps meaning the preset;
    anything else (``"lofi study session"``) is a description of a mood.
    """
    stripped = source.strip()
    if stripped in preset_lib.list_presets():
        return preset_lib.load(stripped)
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            fail(f"the argument looks like JSON but is not valid JSON: {exc}")
        return MusicConfig.model_validate(data)
    if stripped.lower().endswith(".json"):
        return load_config_file(Path(stripped))
    return source


def text_source(
    source: str | None, config: Path | None, preset: str | None
) -> MusicConfig | str | None:
    """The positional TEXT argument, checked against --config/--preset (give one)."""
    if source is None:
        return None
    if config is not None or preset is not None:
        fail("give either a TEXT/preset argument or --config/--preset, not both")
    return read_source(source)


def describe(result: object) -> str:
    """One line naming what the model made of the text (empty for config renders)."""
    title = getattr(result, "title", "")
    if not title:
        return ""
    return f"{title!r} (model {getattr(result, 'model', '') or '?'})"


@app.command("config")
def vibe_config(
    text: Annotated[
        str,
        typer.Argument(metavar="TEXT", help="A vibe: a mood, scene or musical description."),
    ],
    model: ModelOption = DEFAULT_MODEL,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Print the model's whole answer: title, thinking, config, palettes."
        ),
    ] = False,
) -> None:
    """Print the MusicConfig a vibe text asks for, as JSON on stdout (nothing is rendered).

    Example: latentscore config "rainy night in a jazz bar" > jazz.json
    then: latentscore render --config jazz.json -o jazz.wav
    """
    from latentscore.vibe import vibe_to_result

    result = guarded(lambda: vibe_to_result(text, model))
    payload = result.model_dump(mode="json") if full else result.config.model_dump(mode="json")
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


@app.command()
def render(
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            help="Vibe text (e.g. 'warm sunset over water'), a preset name or a JSON config.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="MusicConfig JSON file.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", "-p", help="Named preset (see `presets`).")
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="Override a field: tempo=fast, mode=dorian, bpm=96, or step one: brightness=+1.",
        ),
    ] = None,
    bpm: Annotated[
        float | None,
        typer.Option("--bpm", help="Exact tempo, 40..200 BPM (wins over the tempo label)."),
    ] = None,
    duration: Annotated[float, typer.Option("--duration", "-d", help="Seconds.")] = 30.0,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Reproducible seed (default: random).")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output file: .wav .flac .ogg or .mid")
    ] = Path("out.wav"),
    midi: Annotated[
        Path | None, typer.Option("--midi", help="Also write the notes as a .mid file.")
    ] = None,
    model: ModelOption = DEFAULT_MODEL,
) -> None:
    """Render vibe text or a config (default, --preset or --config, plus --set) to a file.

    Examples: latentscore render "warm sunset over water" -o sunset.wav;
    latentscore render --preset midnight_jazz --set tempo=+1 -o jazz.wav --midi jazz.mid
    """
    from latentscore.audio_file import MIDI_EXTENSIONS, SUPPORTED_EXTENSIONS
    from latentscore.render import render as render_audio
    from latentscore.render import validate_model

    def run() -> None:
        validate_model(model)
        sets_all = with_bpm(sets, bpm)
        positional = text_source(source, config, preset)
        what: MusicConfig | str
        if positional is None:
            what = build_config(config, preset, sets_all)
        elif isinstance(positional, MusicConfig) and sets_all:
            what = parse_sets(sets_all).apply_to(positional)
        else:
            what = positional
        update = parse_sets(sets_all) if sets_all and isinstance(what, str) else None
        if output.suffix.lower() not in SUPPORTED_EXTENSIONS:
            fail(
                f"unsupported output extension {output.suffix or '(none)'!r}; "
                f"use one of: {', '.join(SUPPORTED_EXTENSIONS)}"
            )
        if midi is not None and midi.suffix.lower() not in MIDI_EXTENSIONS:
            fail(f"--midi expects a .mid file, got {str(midi)!r}")
        audio = render_audio(
            what,
            duration=duration,
            seed=seed,
            update=update,
            model=model,
            progress=duration >= PROGRESS_MIN_SECONDS and out.is_terminal,
        )
        saved = audio.save(output)
        out.print(f"Saved {saved} ({audio.duration:.1f} s, seed {audio.seed})", highlight=False)
        if about := describe(audio.metadata):
            out.print(f"Vibe: {about}", highlight=False)
        if midi is not None:
            audio.save_midi(midi)
            out.print(f"Saved {midi} ({len(audio.notes)} notes)", highlight=False)

    guarded(run)


@app.command()
def demo(
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            help=f"Vibe text to play (default: '{DEFAULT_DEMO_VIBE}').",
            show_default=False,
        ),
    ] = None,
    duration: Annotated[float, typer.Option("--duration", "-d", help="Seconds.")] = 30.0,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Save here instead of playing (as in 0.1.8)."),
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", "-p", help="Play a preset instead of a vibe.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Reproducible seed.")] = None,
    model: ModelOption = DEFAULT_MODEL,
) -> None:
    """Render a vibe (or --preset) and play it; with --output, or without an audio device, save.

    With no arguments it plays a default vibe through the fast model (falling back to the
    morning_mist preset in a build without it). ``--output FILE`` only saves (nothing is
    played, no audio device is needed), as ``latentscore demo --output`` did in 0.1.8.
    Examples: latentscore demo "neon city at midnight"; latentscore demo --preset neon_city
    """
    from latentscore.audio_device import check_output_device, load_sounddevice
    from latentscore.render import render as render_audio
    from latentscore.render import validate_model

    def run() -> None:
        validate_model(model)
        if text is not None and preset is not None:
            fail("give either a TEXT argument or --preset, not both")
        what: MusicConfig | str
        if preset is not None:
            what = preset_lib.load(preset)
        else:
            what = read_source(text or DEFAULT_DEMO_VIBE)
        render_args: dict[str, Any] = {
            "duration": duration,
            "seed": seed,
            "progress": duration >= PROGRESS_MIN_SECONDS and out.is_terminal,
        }
        try:
            audio = render_audio(what, model=model, **render_args)
        except ModelNotAvailableError as exc:
            if text is not None or model != DEFAULT_MODEL:
                raise  # the user asked for this text or model: say it is missing
            err.print(f"[yellow]{escape(str(exc))}[/yellow]; playing the preset instead.")
            audio = render_audio(preset_lib.load(DEFAULT_DEMO_PRESET), **render_args)
        name = preset or describe(audio.metadata) or "the demo"
        if output is not None:
            out.print(f"Saved {audio.save(output)}", highlight=False)
            return
        try:
            check_output_device(load_sounddevice())
        except AudioDeviceError as exc:
            target = Path("demo.wav")
            audio.save(target)
            err.print(
                f"[yellow]No audio output:[/yellow] {escape(exc.problem)}",
                highlight=False,
                soft_wrap=True,
            )
            out.print(f"Saved the demo to {target} instead; play it with any audio player.")
            return
        out.print(
            f"Playing {name} ({audio.duration:.0f} s, seed {audio.seed}); Ctrl-C stops.",
            highlight=False,
        )
        try:
            audio.play()
        except AudioDeviceError as exc:
            err.print(
                f"[yellow]Playback failed:[/yellow] {escape(exc.problem)}",
                highlight=False,
                soft_wrap=True,
            )

    guarded(run)


@app.command("presets")
def list_presets() -> None:
    """List the named presets (use with render --preset / demo --preset)."""
    for name in guarded(preset_lib.list_presets):
        out.print(name, highlight=False)


@app.command()
def schema() -> None:
    """Print the MusicConfig JSON Schema (all fields and their allowed labels)."""
    typer.echo(json.dumps(config_json_schema(), indent=2))


@app.command()
def doctor() -> None:
    """Check Python, packages, audio, JACK, MIDI, models and optional extras, with fixes."""
    from rich.markup import escape
    from rich.table import Table

    from latentscore.doctor import run_checks

    table = Table(title="latentscore doctor", show_lines=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("details / fix", overflow="fold")
    colours = {"ok": "green", "warn": "yellow", "missing": "red"}
    for check in run_checks():
        # Escaped: details hold brackets ("latentscore[external]") that are not rich markup.
        detail = escape(check.detail)
        if check.hint:
            detail += f"\n[dim]fix: {escape(check.hint)}[/dim]"
        table.add_row(escape(check.name), f"[{colours[check.status]}]{check.status}[/]", detail)
    out.print(table)


@app.command()
def download(
    model: Annotated[str, typer.Argument(help="Which model's weights: expressive.")],
    repo: Annotated[
        str | None,
        typer.Option("--repo", help="Hugging Face repo id (default: google/gemma-3-270m-it)."),
    ] = None,
) -> None:
    """Fetch model weights for offline use, e.g. `latentscore download expressive`.

    `latentscore download fast` (0.1.8's pre-download) succeeds at once: the fast model's
    files ship with the package; it is loaded to check that they are intact.
    """
    from latentscore.models.download import download_model

    if model.strip().lower() == "fast":
        from latentscore.models.base import resolve_model

        guarded(lambda: resolve_model("fast"))
        out.print("the fast model ships with the package; nothing to download", highlight=False)
        return
    path = guarded(lambda: download_model(model, repo_id=repo))
    out.print(f"{model} model saved in {path}", highlight=False)


@app.command()
def bridge(
    vibe: Annotated[str | None, typer.Option("--vibe", help="Start from a vibe text.")] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", "-p", help="Start from a named preset.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Start from a MusicConfig JSON file.")
    ] = None,
    model: Annotated[str, typer.Option("--model", help="Vibe model: fast, external:<id>...")] = (
        "fast"
    ),
    host: Annotated[str, typer.Option("--host", help="Address to bind (local only).")] = (
        "127.0.0.1"
    ),
    osc_port: Annotated[int, typer.Option("--osc-port", help="OSC UDP and TCP port.")] = 9000,
    oscquery_port: Annotated[
        int, typer.Option("--oscquery-port", help="OSCQuery HTTP/WebSocket port.")
    ] = 9090,
    no_oscquery: Annotated[bool, typer.Option("--no-oscquery", help="No OSCQuery.")] = False,
    send_to: Annotated[
        list[str] | None,
        typer.Option("--send-to", help="host:port for outgoing OSC (repeatable)."),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Sender IP or network allowed in (repeatable)."),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            help="Audio output: a PortAudio name or index, or 'jack' (our own JACK client). "
            "Default: JACK when a JACK server runs, else the system output.",
        ),
    ] = None,
    no_audio: Annotated[bool, typer.Option("--no-audio", help="Notes/events only.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Reproducible seed.")] = None,
    bpm: Annotated[
        float | None,
        typer.Option(
            "--bpm",
            help="Start at this exact tempo, 40..200 BPM (over the preset's or vibe's tempo); "
            "change it live with /latentscore/bpm.",
        ),
    ] = None,
    transition: Annotated[float, typer.Option("--transition", help="Seconds.")] = 3.0,
    volume: Annotated[float, typer.Option("--volume", help="Output gain 0..1.")] = 0.8,
    timetags: Annotated[
        bool,
        typer.Option(
            "--timetags",
            help="Send notes, beats, bars and levels over UDP/TCP as soon as they are rendered, "
            "in OSC bundles time-tagged with when they will be heard (for clients that "
            "schedule by timetag); WebSocket listeners still get them when heard.",
        ),
    ] = False,
    latency: Annotated[
        float,
        typer.Option(
            "--latency",
            help="Render-ahead in ms (whole device blocks, at least two): a knob is heard about "
            "this much plus one block later. Raise it (e.g. 50) if the log reports underruns "
            "on a loaded machine.",
        ),
    ] = 17.0,
    buffer: Annotated[
        float | None,
        typer.Option("--buffer", help="Deprecated: render-ahead in seconds.", hidden=True),
    ] = None,
    no_zeroconf: Annotated[bool, typer.Option("--no-zeroconf", help="Do not advertise.")] = False,
    list_addresses: Annotated[
        bool, typer.Option("--list-addresses", help="Print the OSC address space and exit.")
    ] = False,
    midi_in: Annotated[
        str | None,
        typer.Option("--midi-in", help="MIDI input port (name substring) or 'virtual'."),
    ] = None,
    midi_out: Annotated[
        str | None,
        typer.Option("--midi-out", help="MIDI output for notes/clock (substring or 'virtual')."),
    ] = None,
    midi_map: Annotated[
        str | None,
        typer.Option("--midi-map", help="Controller map: a TOML file or a preset name."),
    ] = None,
    midi_list: Annotated[
        bool, typer.Option("--midi-list", help="List MIDI ports and controller maps, exit.")
    ] = False,
    midi_api: Annotated[
        str, typer.Option("--midi-api", help="auto, alsa, jack, coremidi or windows.")
    ] = "auto",
    clock: Annotated[
        str, typer.Option("--clock", help="MIDI clock: none, out (send) or in (follow).")
    ] = "none",
    sync_offset: Annotated[
        float,
        typer.Option(
            "--sync-offset",
            help="Clock in: shift our bars this many ms later than the DAW's (its own output "
            "latency, say); negative: earlier.",
        ),
    ] = 0.0,
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="Join an Ableton Link session: tempo follows or leads, bars on Link's "
            "4-beat phase (needs: pip install 'latentscore[link]').",
        ),
    ] = False,
    learn: Annotated[
        bool, typer.Option("--learn", help="Guided MIDI learn of the main controls at start.")
    ] = False,
    learn_params: Annotated[
        str | None,
        typer.Option("--learn-params", help="Comma-separated parameters for --learn."),
    ] = None,
    learn_file: Annotated[
        Path | None,
        typer.Option("--learn-file", help="Where learned controls are saved."),
    ] = None,
    echo_own_host: Annotated[
        bool,
        typer.Option(
            "--echo-own-host",
            help="Also send a change back to UDP targets on the sender's own host.",
        ),
    ] = False,
    subscription_ttl: Annotated[
        float,
        typer.Option("--subscription-ttl", help="Seconds a UDP /subscribe lasts unless renewed."),
    ] = 300.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Run the bridge: steer the music live over OSC (TouchDesigner, Max, Unity) or MIDI.

    Example: latentscore bridge --preset deep_space --send-to 127.0.0.1:9001
    """
    from bridge.cli import run_bridge

    def run() -> None:
        run_bridge(
            out,
            fail,
            config=build_config(config, preset, []) if (config or preset) else None,
            vibe=vibe,
            model=model,
            host=host,
            osc_port=osc_port,
            oscquery_port=None if no_oscquery else oscquery_port,
            send_to=send_to or [],
            allow=allow or [],
            device=device,
            no_audio=no_audio,
            seed=seed,
            transition=transition,
            volume=volume,
            latency=latency if buffer is None else buffer * 1000.0,
            zeroconf=not no_zeroconf,
            list_addresses=list_addresses,
            midi_in=midi_in,
            midi_out=midi_out,
            midi_map=midi_map,
            midi_list=midi_list,
            midi_api=midi_api,
            clock=clock,
            sync_offset=sync_offset,
            link=link,
            learn=learn,
            learn_params=learn_params,
            learn_file=learn_file,
            echo_own_host=echo_own_host,
            subscription_ttl=subscription_ttl,
            verbose=verbose,
            bpm=bpm,
            timetags=timetags,
        )

    guarded(run)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
