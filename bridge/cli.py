"""``latentscore bridge``: option checking, the address listing and the daemon's console life.

The typer signature lives in :mod:`latentscore.cli` (one CLI), which imports this module only
when the command runs, so ``import latentscore`` never loads the bridge.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from bridge.controller import Limits
from bridge.daemon import BridgeDaemon, BridgeOptions
from bridge.midi_map import MapError
from bridge.midi_options import API_CHOICES, MidiOptions
from bridge.registry import address_table, build_registry
from bridge.security import parse_host_port
from latentscore.config import MusicConfig, check_bpm
from latentscore.errors import InvalidConfigError

Fail = Callable[[str], NoReturn]


def print_addresses(out: Console) -> None:
    """Print every OSC address: path, accepted types, range or values, then its description."""
    for path, types, rng, description in address_table(build_registry()):
        out.print(
            f"{path}  [{types}]  {rng}".rstrip(), highlight=False, soft_wrap=True, markup=False
        )
        out.print(f"    {description}", highlight=False, soft_wrap=True, markup=False)


def run_bridge(
    out: Console,
    fail: Fail,
    *,
    config: MusicConfig | None,
    vibe: str | None,
    model: str,
    host: str,
    osc_port: int,
    oscquery_port: int | None,
    send_to: list[str],
    allow: list[str],
    device: str | None,
    no_audio: bool,
    seed: int | None,
    transition: float,
    volume: float,
    latency: float,
    zeroconf: bool,
    list_addresses: bool,
    verbose: bool,
    midi_in: str | None = None,
    midi_out: str | None = None,
    midi_map: str | None = None,
    midi_list: bool = False,
    midi_api: str = "auto",
    clock: str = "none",
    sync_offset: float = 0.0,
    link: bool = False,
    learn: bool = False,
    learn_params: str | None = None,
    learn_file: Path | None = None,
    echo_own_host: bool = False,
    subscription_ttl: float = 300.0,
    bpm: float | None = None,
    timetags: bool = False,
) -> None:
    """Validate the options, start the daemon, print the summary, serve until a signal."""
    if list_addresses:
        print_addresses(out)
        return
    if midi_list:
        print_midi(out, midi_api)
        return
    if midi_api not in API_CHOICES:
        fail(f"--midi-api must be one of {', '.join(API_CHOICES)}, got {midi_api!r}")
    if clock not in ("none", "in", "out"):
        fail(f"--clock must be none, in or out, got {clock!r}")
    if clock == "out" and not midi_out:
        fail("--clock out sends clock on the MIDI output: give --midi-out too")
    if (clock == "in" or learn) and not midi_in:
        fail(f"--{'clock in' if clock == 'in' else 'learn'} needs a MIDI input: give --midi-in")
    midi = MidiOptions(
        midi_in=midi_in,
        midi_out=midi_out,
        map=midi_map,
        learn_file=learn_file,
        learn=_learn_list(learn, learn_params),
        clock=clock,  # type: ignore[arg-type]
        api=midi_api,
        sync_offset_ms=sync_offset,
    )
    if link:
        try:
            import aalink  # noqa: F401
        except ImportError:
            fail("--link needs the optional 'aalink' package: pip install 'latentscore[link]'")
    if not (math.isfinite(sync_offset) and abs(sync_offset) <= 1000.0):
        fail(f"--sync-offset must be within -1000..1000 ms, got {sync_offset:g}")
    if vibe is not None and config is not None:
        fail("give either --vibe or --preset/--config, not both")
    if bpm is not None:
        try:
            check_bpm(bpm, where="--bpm")
        except InvalidConfigError as exc:
            fail(str(exc))
    if not 0 <= osc_port < 65536 or (oscquery_port is not None and not 0 <= oscquery_port < 65536):
        fail("ports must be in 0..65535 (0: any free port)")
    if not (math.isfinite(volume) and 0.0 <= volume <= 1.0):
        fail(f"--volume must be in 0..1, got {volume}")
    if not (math.isfinite(transition) and 0.0 <= transition <= 120.0):
        fail(f"--transition must be in 0..120 seconds, got {transition}")
    if not (math.isfinite(latency) and 1.0 <= latency <= 2000.0):
        fail(f"--latency must be in 1..2000 ms, got {latency:g}")
    if not (math.isfinite(subscription_ttl) and 1.0 <= subscription_ttl <= 86400.0):
        fail(f"--subscription-ttl must be in 1..86400 seconds, got {subscription_ttl:g}")
    try:
        targets = [parse_host_port(t) for t in send_to]
        options = BridgeOptions(
            host=host,
            osc_port=osc_port,
            oscquery_port=oscquery_port,
            send_to=targets,
            allow=allow,
            config=config,
            vibe=vibe,
            bpm=bpm,
            timetags=timetags,
            model=model,
            seed=seed,
            transition=transition,
            volume=volume,
            no_audio=no_audio,
            device=_device(device),
            latency_ms=latency,
            zeroconf=zeroconf,
            link=link,
            midi=midi if midi.wanted else None,
            echo_own_host=echo_own_host,
            limits=Limits(subscription_ttl=subscription_ttl),
        )
    except ValueError as exc:
        fail(str(exc))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        daemon = BridgeDaemon(options)
    except OSError as exc:
        fail(f"cannot bind {host}:{osc_port}: {exc.strerror or exc}")
    except (ValueError, MapError) as exc:
        fail(str(exc))
    _serve(out, daemon)


LEARN_DEFAULT = ("brightness", "space", "motion", "echo", "tempo", "density", "volume")


def _learn_list(learn: bool, params: str | None) -> list[str]:
    if not learn:
        return []
    if params:
        return [p.strip() for p in params.split(",") if p.strip()]
    return list(LEARN_DEFAULT)


def print_midi(out: Console, api: str) -> None:
    """``--midi-list``: ports of the MIDI system, and the shipped controller maps."""
    from bridge.midi_bridge import preset_maps
    from bridge.midi_ports import MidiSystem, MidiUnavailable

    try:
        system = MidiSystem.detect(api)
    except MidiUnavailable as exc:
        out.print(f"MIDI: {exc}", highlight=False, markup=False)
    else:
        out.print(system.listing(), highlight=False, markup=False)
    out.print(f"controller maps (--midi-map): {', '.join(preset_maps())}", highlight=False)


def _serve(out: Console, daemon: BridgeDaemon) -> None:
    daemon.run(on_started=lambda: out.print(daemon.summary(), highlight=False))
    stats = daemon.performance.stats
    out.print(
        f"Stopped: {stats.played_samples / daemon.performance.sample_rate:.1f} s played, "
        f"{stats.underruns} underruns (slowest render {stats.slowest_render_ms:.1f} ms), "
        f"{daemon.controller.received} messages, "
        f"{daemon.controller.rejected} rejected.",
        highlight=False,
    )


def _device(device: str | None) -> int | str | None:
    if device is None:
        return None
    return int(device) if device.strip().isdigit() else device
