"""ControllerMap: which MIDI control steers which bridge parameter, read from TOML files.

A map file is a ``[controller]`` table (defaults) and one ``[[control]]`` table per physical
control (knob, fader, button, encoder)::

    [controller]
    name = "Korg nanoKONTROL2"
    channel = 1            # 1..16 or "any"; the default for every control
    feedback = false       # send values back (LED rings, motor faders, button LEDs)
    takeover = "pickup"    # absolute knobs: "pickup" (soft takeover) or "jump"

    [[control]]
    param = "brightness"   # any mappable registry name: a field, <field>/step, volume, ...
    cc = 16

Parameters are the :class:`~bridge.registry.ParamRegistry` names, and labels are checked
against the registry's specs, so a map never retypes the schema: a field renamed in the
schema makes an old map fail loudly at load time, naming the file, line and key.

Every problem is reported as a :class:`MapError` whose message names the file, the line, the
key and the bad value; nothing is half-loaded.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bridge.registry import ParamRegistry, ParamSpec
from latentscore.config import Label

Mode = Literal["absolute", "relative-twos", "relative-offset", "relative-signbit", "button"]
Takeover = Literal["pickup", "jump"]
Kind = Literal["continuous", "select", "cycle", "step", "trigger"]

MODES: tuple[str, ...] = (
    "absolute",
    "relative-twos",
    "relative-offset",
    "relative-signbit",
    "button",
)
MODE_ALIASES = {"relative": "relative-twos", "relative-binary": "relative-offset"}
SOURCES = ("cc", "note", "program")
CONTROL_KEYS = frozenset(
    {
        "param",
        "name",
        "cc",
        "note",
        "program",
        "channel",
        "mode",
        "resolution",
        "takeover",
        "value",
        "labels",
        "min",
        "max",
        "invert",
        "step",
        "ticks",
        "feedback",
        "led",
    }
)
CONTROLLER_KEYS = frozenset({"name", "match", "channel", "feedback", "takeover", "description"})
MAPPABLE_SETTINGS = {"volume": (0.0, 1.0), "transition": (0.0, 20.0), "bpm": (60.0, 180.0)}
TRIGGERS = frozenset({"play", "stop"})
DEFAULT_STEP = 1.0 / 128.0  # relative encoders: one tick moves a continuous value this much
DEFAULT_TICKS = 4  # relative encoders: ticks per label on categorical parameters


class MapError(ValueError):
    """A map file (or binding) that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Source:
    """The MIDI message a control sends: a CC number, a note, or program changes.

    ``number`` is None for ``program`` sources that select by program index; ``channel`` is
    0-based (mido's count) or None for any channel.
    """

    kind: Literal["cc", "note", "program"]
    number: int | None
    channel: int | None

    def describe(self) -> str:
        ch = "any channel" if self.channel is None else f"channel {self.channel + 1}"
        if self.kind == "program":
            what = "program change" if self.number is None else f"program {self.number}"
        else:
            what = f"{'CC' if self.kind == 'cc' else 'note'} {self.number}"
        return f"{what} on {ch}"


@dataclass(frozen=True)
class Binding:
    """One physical control bound to one parameter (validated against the registry).

    ``kind`` is what the control does, derived from the parameter and the source:

    * ``continuous``: an ordered field, volume or transition follows the control's position
      (``lo``..``hi``) or moves by relative ticks;
    * ``select``: pick a label: by CC range over ``labels``, by program index, or a button
      press choosing ``value``;
    * ``cycle``: a button press moves to the next label (wrapping);
    * ``step``: a ``<field>/step`` parameter moved by ``value`` per press (or by ticks);
    * ``trigger``: play / stop.
    """

    param: str
    source: Source
    kind: Kind
    mode: Mode = "absolute"
    resolution: int = 7
    takeover: Takeover = "pickup"
    value: Label | None = None
    labels: tuple[Label, ...] = ()
    lo: float = 0.0
    hi: float = 1.0
    invert: bool = False
    step: float = DEFAULT_STEP
    ticks: int = DEFAULT_TICKS
    feedback: bool = False
    name: str = ""
    led: int = 127  # feedback value that lights a button's LED (0 turns it off)

    @property
    def relative(self) -> bool:
        return self.mode.startswith("relative")


@dataclass
class ControllerMap:
    """A named list of bindings, plus where it came from (for messages and saving)."""

    name: str = ""
    bindings: list[Binding] = field(default_factory=list)
    path: Path | None = None
    match: str = ""
    feedback: bool = False

    def merged(self, other: ControllerMap) -> ControllerMap:
        """This map with ``other``'s bindings on top (a source bound in both: ``other`` wins)."""
        taken = {b.source for b in other.bindings}
        kept = [b for b in self.bindings if b.source not in taken]
        return ControllerMap(
            self.name or other.name,
            kept + list(other.bindings),
            self.path,
            self.match or other.match,
            self.feedback or other.feedback,
        )

    def with_binding(self, binding: Binding) -> ControllerMap:
        """A copy where ``binding`` replaces whatever its source was bound to."""
        kept = [b for b in self.bindings if b.source != binding.source]
        return replace(self, bindings=[*kept, binding])


# --- loading --------------------------------------------------------------------------------
class _Where:
    """Line numbers for error messages (tomllib keeps none): the n-th ``[[control]]`` header
    and the first ``key =`` after it."""

    def __init__(self, path: Path | str, text: str) -> None:
        self.path = str(path)
        self.lines = text.splitlines()
        self.headers = [
            i for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*control\s*\]\]", line)
        ]
        self.controller = next(
            (i for i, line in enumerate(self.lines) if re.match(r"\s*\[\s*controller\s*\]", line)),
            None,
        )

    def _key_line(self, start: int | None, key: str | None) -> int | None:
        if start is None:
            return None
        if key is None:
            return start + 1
        pattern = re.compile(rf"\s*\"?{re.escape(key)}\"?\s*=")
        for i in range(start + 1, len(self.lines)):
            if re.match(r"\s*\[", self.lines[i]):
                break
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1

    def error(self, index: int | None, key: str | None, message: str) -> MapError:
        if index is None:
            line, where = self._key_line(self.controller, key), "[controller]"
        else:
            start = self.headers[index] if index < len(self.headers) else None
            line, where = self._key_line(start, key), f"[[control]] #{index + 1}"
        at = f"{self.path}:{line}" if line is not None else self.path
        what = f"{where} {key}" if key else where
        return MapError(f"{at}: {what}: {message}")


def load_map(path: Path | str, registry: ParamRegistry) -> ControllerMap:
    """Read and validate a map file; raises :class:`MapError` naming file, line, key, value."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MapError(f"{path}: cannot read the map file: {exc.strerror or exc}") from None
    return parse_map(text, registry, path)


def parse_map(text: str, registry: ParamRegistry, path: Path | str = "<map>") -> ControllerMap:
    """Validate map text (see the module docstring for the format)."""
    where = _Where(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MapError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"controller", "control"}
    if unknown:
        raise MapError(
            f"{path}: unknown top-level key(s) {sorted(unknown)}; use [controller] "
            "and [[control]] tables"
        )
    head = data.get("controller", {})
    if not isinstance(head, dict):
        raise where.error(None, None, "must be a table")
    for key in head:
        if key not in CONTROLLER_KEYS:
            raise where.error(
                None, key, f"unknown key; allowed: {', '.join(sorted(CONTROLLER_KEYS))}"
            )
    defaults = _Defaults(
        channel=_channel(head.get("channel", "any"), lambda m: where.error(None, "channel", m)),
        feedback=_bool(head.get("feedback", False), lambda m: where.error(None, "feedback", m)),
        takeover=_choice(
            head.get("takeover", "pickup"),
            ("pickup", "jump"),
            lambda m: where.error(None, "takeover", m),
        ),
    )
    controls = data.get("control", [])
    if not isinstance(controls, list):
        raise MapError(f"{path}: 'control' must be an array of tables ([[control]])")
    bindings: list[Binding] = []
    seen: dict[Source, int] = {}
    for index, table in enumerate(controls):
        binding = parse_binding(
            table, registry, defaults, lambda key, m, i=index: where.error(i, key, m)
        )
        clash = seen.get(binding.source)
        if clash is not None:
            raise where.error(
                index, None, f"{binding.source.describe()} is already bound by control #{clash + 1}"
            )
        seen[binding.source] = index
        bindings.append(binding)
    name = head.get("name", "")
    match = head.get("match", "")
    return ControllerMap(str(name), bindings, Path(path), str(match), defaults.feedback)


@dataclass(frozen=True)
class _Defaults:
    channel: int | None = None
    feedback: bool = False
    takeover: str = "pickup"


def _bool(value: object, fail: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(f"expected true or false, got {value!r}")
    return value


def _choice(value: object, allowed: Sequence[str], fail: Any) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise fail(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _channel(value: object, fail: Any) -> int | None:
    if value == "any":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16:
        raise fail(f'{value!r} is not a MIDI channel 1..16 or "any"')
    return value - 1


def _midi_number(value: object, fail: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
        raise fail(f"{value!r} is not a MIDI number 0..127")
    return value


def _number(value: object, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise fail(f"{value!r} is not a number")
    return float(value)


def mappable(spec: ParamSpec) -> bool:
    """Can a MIDI control drive this parameter?"""
    if spec.role in ("field", "step"):
        return True
    return spec.name in MAPPABLE_SETTINGS or spec.name in TRIGGERS


def _label(spec: ParamSpec, value: object, fail: Any) -> Label:
    """A label of the parameter's field, checked against the registry (never retyped)."""
    assert spec.field is not None
    labels = spec.field.labels
    if value in labels and type(value) is type(labels[0]):
        return value
    if isinstance(value, str) and isinstance(labels[0], int) and value.strip().isdigit():
        number = int(value)
        if number in labels:
            return number
    allowed = ", ".join(str(v) for v in labels)
    raise fail(f"{value!r} is not a {spec.field.name} label; allowed: {allowed}")


def parse_binding(
    table: object,
    registry: ParamRegistry,
    defaults: _Defaults | None = None,
    fail_at: Any = None,
) -> Binding:
    """Validate one ``[[control]]`` table; ``fail_at(key, message)`` builds the error."""
    defaults = defaults or _Defaults()
    if fail_at is None:

        def fail_at(key: str | None, message: str) -> MapError:
            return MapError(f"{key or 'control'}: {message}")

    def fail(key: str) -> Any:
        return lambda message: fail_at(key, message)

    if not isinstance(table, dict):
        raise fail_at(None, "must be a table")
    for key in table:
        if key not in CONTROL_KEYS:
            raise fail_at(key, f"unknown key; allowed: {', '.join(sorted(CONTROL_KEYS))}")
    if "param" not in table:
        raise fail_at(None, "missing 'param' (the parameter this control steers)")
    name = table["param"]
    if not isinstance(name, str):
        raise fail_at("param", f"{name!r} is not a parameter name")
    name = name.strip().removeprefix("/latentscore/")
    try:
        spec = registry[name]
    except KeyError:
        options = ", ".join(s.name for s in registry if mappable(s))
        raise fail_at("param", f"unknown parameter {name!r}; mappable: {options}") from None
    if not mappable(spec):
        raise fail_at("param", f"{name!r} cannot be driven by a MIDI control")
    given = [key for key in SOURCES if key in table]
    if len(given) != 1:
        raise fail_at(None, "give exactly one of cc, note or program")
    kind_key = given[0]
    channel = (
        _channel(table["channel"], fail("channel")) if "channel" in table else defaults.channel
    )
    raw = table[kind_key]
    if kind_key == "program" and raw == "index":
        number: int | None = None
    else:
        number = _midi_number(raw, fail(kind_key))
    source = Source(kind_key, number, channel)  # type: ignore[arg-type]

    mode_text = table.get("mode")
    if mode_text is not None:
        mode_text = MODE_ALIASES.get(mode_text, mode_text)
        mode: str = _choice(mode_text, MODES, fail("mode"))
    else:
        mode = "absolute"
    resolution = table.get("resolution", 7)
    if resolution not in (7, 14) or isinstance(resolution, bool):
        raise fail_at("resolution", f"{resolution!r} is not 7 or 14")
    if resolution == 14 and not (kind_key == "cc" and number is not None and number < 32):
        raise fail_at("resolution", "14-bit needs a cc of 0..31 (MSB on n, LSB on n+32)")
    if kind_key != "cc" and mode != "absolute":
        raise fail_at("mode", f"{mode!r} applies to cc controls only")
    takeover = _choice(
        table.get("takeover", defaults.takeover), ("pickup", "jump"), fail("takeover")
    )
    feedback = _bool(table.get("feedback", defaults.feedback), fail("feedback"))
    invert = _bool(table.get("invert", False), fail("invert"))
    label_text = table.get("name", "")
    if not isinstance(label_text, str):
        raise fail_at("name", f"{label_text!r} is not text")
    step = _number(table.get("step", DEFAULT_STEP), fail("step"))
    if not 0 < step <= 1:
        raise fail_at("step", f"{step!r} is outside 0 (excluded)..1")
    led = _midi_number(table.get("led", 127), fail("led"))
    ticks = table.get("ticks", DEFAULT_TICKS)
    if isinstance(ticks, bool) or not isinstance(ticks, int) or not 1 <= ticks <= 64:
        raise fail_at("ticks", f"{ticks!r} is not a whole number 1..64")

    common: dict[str, Any] = dict(
        param=spec.name,
        source=source,
        resolution=resolution,
        takeover=takeover,
        invert=invert,
        step=step,
        ticks=ticks,
        feedback=feedback,
        name=label_text,
        led=led,
    )
    field_spec = spec.field
    labels: tuple[Label, ...] = ()
    if "labels" in table:
        if spec.role != "field" or field_spec is None:
            raise fail_at("labels", f"{spec.name!r} has no labels")
        raw_labels = table["labels"]
        if not isinstance(raw_labels, list) or len(raw_labels) < 1:
            raise fail_at("labels", "expected a list of labels")
        labels = tuple(_label(spec, v, fail("labels")) for v in raw_labels)
    button = (
        kind_key == "note" or mode == "button" or (kind_key == "program" and number is not None)
    )

    if spec.name in TRIGGERS:
        _no(table, ("value", "labels", "min", "max"), spec, fail_at)
        if kind_key == "program" and number is None:
            raise fail_at("program", "play/stop need a specific program number")
        if kind_key == "cc" and mode not in ("absolute", "button"):
            raise fail_at("mode", "play/stop take a button")
        return Binding(kind="trigger", mode="button" if kind_key == "cc" else "absolute", **common)

    if spec.role == "step":
        _no(table, ("labels", "min", "max"), spec, fail_at)
        amount = table.get("value", 1)
        if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= abs(amount) <= 64:
            raise fail_at("value", f"{amount!r} is not a step of -64..64 (not 0)")
        if kind_key == "program" and number is None:
            raise fail_at("program", "a step needs a specific program number")
        if kind_key == "cc" and mode == "absolute":
            mode = "button"  # an absolute CC cannot step; a button CC can
        return Binding(kind="step", mode=mode, value=amount, **common)  # type: ignore[arg-type]

    if spec.role == "setting":  # volume, transition, bpm
        _no(table, ("value", "labels"), spec, fail_at)
        lo_default, hi_default = MAPPABLE_SETTINGS[spec.name]
        lo, hi = _range(table, lo_default, hi_default, spec, fail_at)
        if kind_key != "cc" or mode == "button":
            raise fail_at(kind_key, f"{spec.name} needs a knob or fader (a cc)")
        return Binding(kind="continuous", mode=mode, lo=lo, hi=hi, **common)  # type: ignore[arg-type]

    assert field_spec is not None
    if "value" in table:  # a button choosing one label
        _no(table, ("labels", "min", "max"), spec, fail_at)
        value = _label(spec, table["value"], fail("value"))
        if kind_key == "program" and number is None:
            raise fail_at("program", "with value, give a specific program number")
        return Binding(
            kind="select", mode="button" if kind_key == "cc" else "absolute", value=value, **common
        )
    if button:
        _no(table, ("min", "max"), spec, fail_at)
        return Binding(
            kind="cycle", mode="button" if kind_key == "cc" else "absolute", labels=labels, **common
        )
    if kind_key == "program":  # program index picks a label
        _no(table, ("min", "max"), spec, fail_at)
        return Binding(kind="select", labels=labels or field_spec.labels, **common)
    if field_spec.ordered and not labels:
        lo, hi = _range(table, 0.0, 1.0, spec, fail_at)
        return Binding(kind="continuous", mode=mode, lo=lo, hi=hi, **common)  # type: ignore[arg-type]
    _no(table, ("min", "max"), spec, fail_at)
    return Binding(kind="select", mode=mode, labels=labels or field_spec.labels, **common)  # type: ignore[arg-type]


def _no(table: Mapping[str, object], keys: Iterable[str], spec: ParamSpec, fail_at: Any) -> None:
    for key in keys:
        if key in table:
            raise fail_at(key, f"does not apply to {spec.name!r} with this source")


def _range(
    table: Mapping[str, object], lo: float, hi: float, spec: ParamSpec, fail_at: Any
) -> tuple[float, float]:
    limit_lo = spec.minimum if spec.minimum is not None else 0.0
    limit_hi = spec.maximum if spec.maximum is not None else 1.0
    if spec.role == "field":
        limit_lo, limit_hi = 0.0, 1.0
    values = []
    for key, default in (("min", lo), ("max", hi)):
        value = _number(table.get(key, default), lambda m, k=key: fail_at(k, m))
        if not limit_lo <= value <= limit_hi:
            raise fail_at(key, f"{value:g} is outside {limit_lo:g}..{limit_hi:g}")
        values.append(value)
    if values[0] == values[1]:
        raise fail_at("max", "min and max must differ")
    return values[0], values[1]


# --- saving (learned bindings) -----------------------------------------------------------------
def binding_to_toml(binding: Binding) -> str:
    """One ``[[control]]`` table for ``binding`` (what learn writes)."""
    src = binding.source
    lines = ["[[control]]"]
    if binding.name:
        lines.append(f"name = {_toml_str(binding.name)}")
    lines.append(f"param = {_toml_str(binding.param)}")
    lines.append(f"{src.kind} = {_toml_str('index') if src.number is None else src.number}")
    lines.append(f"channel = {_toml_str('any') if src.channel is None else src.channel + 1}")
    if binding.resolution != 7:
        lines.append(f"resolution = {binding.resolution}")
    if binding.relative or (binding.mode == "button" and binding.kind != "trigger"):
        lines.append(f"mode = {_toml_str(binding.mode)}")
    if binding.kind == "continuous" and (binding.lo, binding.hi) != (0.0, 1.0):
        lines += [f"min = {binding.lo!r}", f"max = {binding.hi!r}"]
    if binding.value is not None and binding.kind in ("select", "step"):
        value = binding.value
        lines.append(f"value = {value if isinstance(value, int) else _toml_str(value)}")
    if binding.takeover != "pickup":
        lines.append(f"takeover = {_toml_str(binding.takeover)}")
    if binding.invert:
        lines.append("invert = true")
    if binding.feedback:
        lines.append("feedback = true")
    if binding.led != 127:
        lines.append(f"led = {binding.led}")
    return "\n".join(lines) + "\n"


def _toml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def save_map(path: Path, cmap: ControllerMap, header: str = "") -> None:
    """Write ``cmap`` as TOML, atomically (a crash mid-write leaves the old file intact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = [header.rstrip() + "\n\n" if header else ""]
    parts.append("[controller]\n")
    parts.append(f"name = {_toml_str(cmap.name or 'learned')}\n")
    parts.append('channel = "any"\n')
    for binding in cmap.bindings:
        parts.append("\n" + binding_to_toml(binding))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(path)
