"""ParamRegistry: every address the bridge understands, generated from the config schema.

One :class:`ParamSpec` per OSC address: its path, OSC type tags (what it accepts and what it
reports), range or allowed values, unit, access (read/write) and description. The MusicConfig
part is derived from :data:`latentscore.config.FIELDS`, so a field added to the schema
appears here, in OSC dispatch and validation, in the OSCQuery namespace, in feedback and in
``--list-addresses`` without being written again. Later inputs (MIDI CC mapping) read the
same specs: ordered fields are continuous 0..1 axes, categorical fields are label lists.

Parsing incoming arguments also lives here (:meth:`ParamSpec.parse`): the spec that
documents a range is the one that enforces it.

Address shape (so OSCQuery clients such as python-oscquery and Chataigne accept the tree):
every node is either a value (a leaf) or a container, never both. A fader is
``/latentscore/<field>``; its companions live in their own containers:
``/latentscore/step/<field>``, ``/latentscore/label/<field>`` and
``/latentscore/index/<field>``. On a fader *any number* (int, float or bool) is a 0..1
position, because node-osc, python-osc, sclang and every JavaScript client send a fader's
top (``1``) as an int; a string is a label. The pre-0.2 addresses
``/latentscore/<field>/step`` and ``/latentscore/<field>/label`` still work as input
aliases (one release), but are not in the OSCQuery tree and get no feedback.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal, cast

from bridge.osc_codec import OscValue
from bridge.osc_pattern import compile_pattern, is_pattern, matches_compiled
from latentscore.config import FIELDS, FieldSpec, Label, MusicConfigUpdate
from latentscore.errors import InvalidConfigError
from synth.params import BPM_RANGE

PREFIX = "/latentscore"
MAX_STEP = 64
MAX_SEED = 2**31 - 1
MAX_TRANSITION = 120.0
MAX_LABEL = 64
MAX_TEXT = 4096  # characters of a vibe or a config JSON; longer is rejected, not truncated

Role = Literal["field", "step", "label", "index", "setting", "command", "stream"]
# Roles an address pattern may reach: values. Commands (play, stop, vibe, state, ...) must be
# named exactly, so ``/latentscore/*`` can never stop the music or flood the vibe model.
PATTERN_ROLES = frozenset({"field", "step", "label", "index", "setting"})


class Access(IntEnum):
    """OSCQuery ACCESS bit mask."""

    NONE = 0
    READ = 1
    WRITE = 2
    READ_WRITE = 3


class BadValue(ValueError):
    """Arguments a parameter rejects (wrong type, out of range, unknown label)."""


@dataclass(frozen=True)
class FieldValue:
    """A parsed field value: a label, and for ordered fields its 0..1 position.

    A float sent to an ordered field keeps its exact position (between labels); the label is
    then the nearest one.
    """

    label: Label
    position: float | None


@dataclass(frozen=True)
class ParamSpec:
    """One OSC address. See the module docstring."""

    name: str
    path: str
    role: Role
    description: str
    type_tag: str = ""  # OSCQuery TYPE: what the address reports (and mainly accepts)
    accepts: tuple[str, ...] = ()  # accepted normalised type signatures (i, f, s, "")
    access: Access = Access.WRITE
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[Label, ...] | None = None  # allowed values (OSCQuery RANGE VALS)
    unit: str | None = None
    field: FieldSpec | None = field(default=None, compare=False)
    aliases: tuple[str, ...] = ()  # deprecated input paths (not in OSCQuery, no feedback)

    @property
    def readable(self) -> bool:
        return bool(self.access & Access.READ)

    @property
    def writable(self) -> bool:
        return bool(self.access & Access.WRITE)

    def signature_ok(self, tags: str) -> bool:
        """Does this address take a message with these (raw) type tags?"""
        return normalise_tags(tags) in self.accepts

    def parse(self, tags: str, args: Sequence[OscValue]) -> object:
        """Validate and convert a message's arguments; raises :class:`BadValue`."""
        sig = normalise_tags(tags)
        if not self.writable:
            raise BadValue(f"{self.path} is read-only")
        if sig not in self.accepts:
            want = " or ".join(repr(a) if a else "no arguments" for a in self.accepts)
            raise BadValue(f"{self.path}: wrong argument types {tags!r}; expected {want}")
        value = args[0] if args else None
        if self.role in ("field", "label", "index"):
            assert self.field is not None
            return _parse_field(self, tags, sig, value)
        if self.role == "step":
            return _bounded_int(self.path, value, -MAX_STEP, MAX_STEP)
        if self.role == "setting":
            return self._parse_setting(sig, value)
        return self._parse_command(tags, sig, value)

    def _parse_setting(self, sig: str, value: OscValue) -> float | int:
        lo, hi = self.minimum, self.maximum
        assert lo is not None and hi is not None
        if self.type_tag == "i":
            return _bounded_int(self.path, value, int(lo), int(hi))
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number) or not lo <= number <= hi:
            raise BadValue(f"{self.path}: {value!r} is outside {lo:g}..{hi:g}")
        return number

    def _parse_command(self, tags: str, sig: str, value: OscValue) -> object:
        if self.type_tag == "s":
            text = str(value)
            if len(text) > MAX_TEXT:
                raise BadValue(f"{self.path}: text of {len(text)} characters (limit {MAX_TEXT})")
            return text
        if self.name == "subscribe":
            return None if sig == "" else _bounded_int(self.path, value, 1, 65535)
        if self.name in ("state", "unsubscribe") and tags[:1] in ("i", "h"):
            port = value if isinstance(value, int) else 0
            if MIN_REPLY_PORT <= port <= 65535:
                return ReplyPort(port)  # (send-only tools: oscsend uses a new port per call)
        # triggers (play, stop, state): a button's release (0 / False) is not a press
        return sig == "" or bool(value)


MIN_REPLY_PORT = 1024  # below: a button value (1 = press), not a port


@dataclass(frozen=True)
class ReplyPort:
    """``/state <port>`` / ``/unsubscribe <port>``: act for the sender's host at this port."""

    port: int


def normalise_tags(tags: str) -> str:
    """Collapse equivalent OSC types: int64 -> i, double -> f, symbol/char -> s, T/F -> i.

    Impulse and nil (``I``, ``N``) carry no data, so they count as no argument (a trigger).
    """
    table = str.maketrans({"h": "i", "d": "f", "S": "s", "c": "s", "T": "i", "F": "i"})
    return tags.translate(table).replace("I", "").replace("N", "")


def _bounded_int(path: str, value: OscValue, lo: int, hi: int) -> int:
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise BadValue(f"{path}: expected a whole number, got {value!r}")
        value = int(value)
    if not isinstance(value, int) or not lo <= value <= hi:
        raise BadValue(f"{path}: {value!r} is outside {lo}..{hi}")
    return int(value)


def _parse_field(param: ParamSpec, tags: str, sig: str, value: OscValue) -> FieldValue:
    """A field value from a fader (``field``), ``label`` or ``index`` address.

    Fader of an ordered field: any number is a 0..1 position, a string a label. Categorical
    field: a string is a label, a whole number an index. ``label``: a label (density's labels
    are ints). ``index``: a label index. A bool counts as a number only on a fader.
    """
    spec, path = param.field, param.path
    assert spec is not None
    is_bool = tags[:1] in ("T", "F")
    if param.role == "field" and spec.ordered and sig in ("f", "i"):
        pos = float(value)  # type: ignore[arg-type]
        if not (math.isfinite(pos) and 0.0 <= pos <= 1.0):
            raise BadValue(f"{path}: position {value!r} is outside 0..1")
        pos = round(pos, 6)  # float32 on the wire: 0.8 arrives as 0.800000011920929
        return FieldValue(spec.nearest_label(pos), pos)
    if is_bool:
        raise BadValue(f"{path}: a bool is not a {spec.name} label or index")
    int_labels = all(isinstance(label, int) for label in spec.labels)
    if sig in ("i", "f") and param.role == "label" and int_labels:
        label: Label = _bounded_int(path, value, min(spec.labels), max(spec.labels))  # type: ignore[arg-type]
        if label not in spec.labels:
            raise BadValue(f"{path}: {label!r} is not a {spec.name} label")
    elif sig in ("i", "f"):
        label = spec.labels[_bounded_int(path, value, 0, len(spec.labels) - 1)]
    else:
        text = str(value)
        if len(text) > MAX_LABEL:
            allowed = ", ".join(str(v) for v in spec.labels)
            raise BadValue(f"{path}: a {len(text)}-character label is invalid; allowed: {allowed}")
        try:
            update = MusicConfigUpdate(**cast(dict[str, Any], {spec.name: text}))
        except InvalidConfigError as exc:
            raise BadValue(f"{path}: {shorten(str(exc))}") from None
        label = update.changes()[spec.name]  # type: ignore[assignment]
    return FieldValue(label, spec.position(label) if spec.ordered else None)


def shorten(text: str, limit: int = 300) -> str:
    """Error texts echo user input; keep replies and log lines bounded."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ParamRegistry:
    """All bridge addresses, by name and path, with pattern lookup.

    Built by :func:`build_registry`; iteration order is the documented order (fields first).
    """

    def __init__(self, specs: Sequence[ParamSpec]) -> None:
        self._by_path = {s.path: s for s in specs}
        self._by_name = {s.name: s for s in specs}
        if len(self._by_path) != len(specs) or len(self._by_name) != len(specs):
            raise ValueError("duplicate parameter name or path")
        self._aliases = {alias: s for s in specs for alias in s.aliases}
        if self._aliases.keys() & self._by_path.keys():
            raise ValueError("an alias shadows a parameter path")
        self._patterned = [s for s in specs if s.role in PATTERN_ROLES]

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self._by_path.values())

    def __len__(self) -> int:
        return len(self._by_path)

    def __getitem__(self, name: str) -> ParamSpec:
        return self._by_name[name]

    def by_path(self, path: str) -> ParamSpec | None:
        """The spec at a canonical path (aliases are not paths: see :meth:`resolve`)."""
        return self._by_path.get(path)

    def resolve(self, address: str) -> ParamSpec | None:
        """The spec an exact address names: its path or a deprecated alias."""
        return self._by_path.get(address) or self._aliases.get(address)

    def aliases(self) -> list[tuple[str, ParamSpec]]:
        """(deprecated alias, spec it names) pairs, in documentation order."""
        return list(self._aliases.items())

    def match(self, pattern: str) -> list[ParamSpec]:
        """Specs an address (pattern) names; raises PatternError for a malformed pattern.

        A pattern reaches only values (:data:`PATTERN_ROLES`) at their canonical paths; the
        match is linear in the address length (see :mod:`bridge.osc_pattern`).
        """
        if not is_pattern(pattern):
            spec = self.resolve(pattern)
            return [spec] if spec is not None else []
        compiled = compile_pattern(pattern)
        return [s for s in self._patterned if matches_compiled(compiled, s.path)]

    def readable(self) -> list[ParamSpec]:
        """Specs with a current value (what ``/latentscore/state`` replies with)."""
        return [s for s in self if s.readable and s.role != "stream"]


def _field_specs(spec: FieldSpec) -> list[ParamSpec]:
    name, path = spec.name, f"{PREFIX}/{spec.name}"
    labels = ", ".join(str(v) for v in spec.labels)
    label_tag = "i" if all(isinstance(v, int) for v in spec.labels) else "s"
    index = ParamSpec(
        f"{name}/index",
        f"{PREFIX}/index/{name}",
        "index",
        f"The {name} label as an index 0..{len(spec.labels) - 1} ({labels}).",
        type_tag="i",
        accepts=("i", "f"),
        access=Access.READ_WRITE,
        minimum=0,
        maximum=len(spec.labels) - 1,
        field=spec,
    )
    if not spec.ordered:
        main = ParamSpec(
            name,
            path,
            "field",
            f"{spec.description} A label ({labels}); a whole number is a label index.",
            type_tag="s",
            accepts=("s", "i", "f"),
            access=Access.READ_WRITE,
            values=spec.labels,
            field=spec,
        )
        return [main, index]
    main = ParamSpec(
        name,
        path,
        "field",
        f"{spec.description} A fader: any number 0..1 (int, float or bool) is a position "
        f"between labels; a label ({labels}) jumps to it.",
        type_tag="f",
        accepts=("f", "i", "s"),
        access=Access.READ_WRITE,
        minimum=0.0,
        maximum=1.0,
        field=spec,
    )
    step = ParamSpec(
        f"{name}/step",
        f"{PREFIX}/step/{name}",
        "step",
        f"Move {name} by n labels (+1 up, -1 down; saturates at the ends).",
        type_tag="i",
        accepts=("i", "f"),
        minimum=-MAX_STEP,
        maximum=MAX_STEP,
        field=spec,
        aliases=(f"{path}/step",),
    )
    label = ParamSpec(
        f"{name}/label",
        f"{PREFIX}/label/{name}",
        "label",
        f"The {name} label nearest to the fader ({labels}); setting it jumps there.",
        type_tag=label_tag,
        accepts=(label_tag, "f") if label_tag == "i" else ("s",),
        access=Access.READ_WRITE,
        values=spec.labels,
        field=spec,
        aliases=(f"{path}/label",),
    )
    return [main, step, label, index]


def _control_specs() -> list[ParamSpec]:
    rw, w, r = Access.READ_WRITE, Access.WRITE, Access.READ

    def p(name: str, role: Role, desc: str, **kw: object) -> ParamSpec:
        return ParamSpec(name, f"{PREFIX}/{name}", role, desc, **kw)  # type: ignore[arg-type]

    trigger = ("", "i", "f")
    return [
        p(
            "vibe",
            "command",
            "Describe a mood; the model picks a config and the music "
            "crossfades to it. Acknowledged with /latentscore/title.",
            type_tag="s",
            accepts=("s",),
        ),
        p(
            "config",
            "command",
            'A full or partial MusicConfig as JSON (labels; {"step": n} moves an ordered field).',
            type_tag="s",
            accepts=("s",),
        ),
        p(
            "transition",
            "setting",
            "Seconds of glide or crossfade for label, config and vibe changes.",
            type_tag="f",
            accepts=("f", "i"),
            access=rw,
            minimum=0.0,
            maximum=MAX_TRANSITION,
            unit="time.second",  # the OSCQuery proposal's unit name
        ),
        p(
            "seed",
            "setting",
            "Random seed; changing it crossfades to a fresh performance.",
            type_tag="i",
            accepts=("i", "f"),
            access=rw,
            minimum=0,
            maximum=MAX_SEED,
        ),
        p(
            "bpm",
            "setting",
            "Tempo in beats per minute, exact (the tempo fader and labels cover 56..132; "
            "this reaches 40..200). Applied at once like a fader; reported on every tempo "
            'change. (To glide over the transition time, send /latentscore/config {"bpm": n}.)',
            type_tag="f",
            accepts=("f", "i"),
            access=rw,
            minimum=BPM_RANGE[0],
            maximum=BPM_RANGE[1],
            unit="time.bpm",  # the OSCQuery proposal's unit name
        ),
        p(
            "volume",
            "setting",
            "Output gain 0..1 (smoothed).",
            type_tag="f",
            accepts=("f", "i"),
            access=rw,
            minimum=0.0,
            maximum=1.0,
        ),
        p(
            "play",
            "command",
            "Start (or resume) the music with a short fade-in.",
            type_tag="I",
            accepts=trigger,
            access=w,
        ),
        p(
            "stop",
            "command",
            "Fade the music out and pause it (the daemon keeps running).",
            type_tag="I",
            accepts=trigger,
            access=w,
        ),
        p(
            "state",
            "command",
            "Reply with every current value: to the sender, or with an int port >= 1024 to "
            "that port on the sender's host (for send-only tools such as oscsend).",
            type_tag="I",
            accepts=trigger,
            access=w,
        ),
        p(
            "subscribe",
            "command",
            "Add the sender (at its source port, or the port given) as a feedback target. "
            "UDP subscriptions expire after --subscription-ttl seconds (default 300) unless "
            "renewed by subscribing again; TCP/WebSocket ones last as long as the connection.",
            type_tag="i",
            accepts=("", "i", "f"),
            access=w,
            minimum=1,
            maximum=65535,
        ),
        p(
            "unsubscribe",
            "command",
            "Remove the sender's feedback subscriptions (with an int port >= 1024: the one "
            "at that port on the sender's host).",
            type_tag="I",
            accepts=trigger,
            access=w,
        ),
        p(
            "learn",
            "command",
            "MIDI learn: the next moved MIDI control is bound to this parameter (a name such "
            "as brightness, tempo/step, volume, bass) and saved to the user's map; "
            '"cancel" stops waiting. Answered with /latentscore/learned.',
            type_tag="s",
            accepts=("s",),
            access=w,
        ),
        p(
            "playing",
            "setting",
            "1 while playing, 0 when stopped (read-only).",
            type_tag="i",
            access=r,
            minimum=0,
            maximum=1,
        ),
        p(
            "audio",
            "setting",
            "Audio output status (read-only), sent when it changes: 'lost' (the device or "
            "JACK server went away; controls still work, it is retried every second) or 'ok'.",
            type_tag="s",
            access=r,
            values=("ok", "lost"),
        ),
        p(
            "title",
            "setting",
            "Title of the last vibe (read-only; sent on every change).",
            type_tag="s",
            access=r,
        ),
        p(
            "note",
            "stream",
            "Every note as it sounds: layer, MIDI pitch, velocity 0..1, duration in seconds.",
            type_tag="sfff",
            access=r,
        ),
        p(
            "beat",
            "stream",
            "Beat counter, sent on every beat as it sounds.",
            type_tag="i",
            access=r,
        ),
        p(
            "bar",
            "stream",
            "Bar counter, sent on every bar line as it sounds.",
            type_tag="i",
            access=r,
        ),
        p(
            "level",
            "stream",
            "Output RMS and peak (linear 0..1), about 30 times a second.",
            type_tag="ff",
            access=r,
            minimum=0.0,
            maximum=1.0,
        ),
        p(
            "learned",
            "stream",
            "A finished MIDI learn: parameter and the control bound to it.",
            type_tag="ss",
            access=r,
        ),
        p(
            "error",
            "stream",
            "Why a message was rejected (sent to its sender), or that the audio output was "
            "lost (sent to every controller).",
            type_tag="s",
            access=r,
        ),
    ]


def build_registry() -> ParamRegistry:
    """The bridge's address space: every schema field, then the control addresses."""
    specs: list[ParamSpec] = []
    for spec in FIELDS.values():
        specs.extend(_field_specs(spec))
    specs.extend(_control_specs())
    return ParamRegistry(specs)


def address_table(registry: ParamRegistry) -> list[tuple[str, str, str, str]]:
    """(path, type tags accepted, range/values, description) rows for docs and the CLI."""
    rows = []
    for spec in registry:
        if spec.writable:
            tags = " | ".join(a or "(none)" for a in spec.accepts)
        else:
            tags = f"out: {spec.type_tag}"
        if spec.values is not None:
            rng = ", ".join(str(v) for v in spec.values)
        elif spec.minimum is not None and spec.maximum is not None:
            rng = f"{spec.minimum:g}..{spec.maximum:g}"
        else:
            rng = ""
        rows.append((spec.path, tags, rng, spec.description))
    for alias, spec in registry.aliases():
        tags = " | ".join(a or "(none)" for a in spec.accepts)
        rows.append((alias, tags, "", f"Deprecated alias of {spec.path} (input only)."))
    return rows
