"""The MusicConfig schema: the labels a vibe model picks and the synth plays.

One table, :data:`FIELDS`, describes every field (kind, allowed labels, description). The
pydantic models, validation errors, the label -> number mapping (:mod:`latentscore.params`),
the CLI ``--set`` parser and, later, the bridge's parameter registry are all derived from it,
so nothing about a field is written twice.

Field kinds:

* ``ordered``: labels with a natural order (tempo very_slow..very_fast, attack soft..sharp,
  density 2..6). They accept relative :class:`Step` updates and map to a continuous 0..1
  position in the engine.
* ``categorical``: unordered choices (root, mode and the six layer styles).

Besides the labelled fields, ``bpm`` is an optional number: an exact tempo in 40..200 BPM that
wins over the ``tempo`` label (which then names the nearest label, so Steps and displays keep
working). A later ``tempo`` label or Step in an update clears it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from latentscore.errors import InvalidConfigError
from synth.params import BPM_RANGE, bpm_to_tempo

TempoLabel = Literal["very_slow", "slow", "medium", "fast", "very_fast"]
BrightnessLabel = Literal["very_dark", "dark", "medium", "bright", "very_bright"]
SpaceLabel = Literal["dry", "small", "medium", "large", "vast"]
MotionLabel = Literal["static", "slow", "medium", "fast", "chaotic"]
StereoLabel = Literal["mono", "narrow", "medium", "wide", "ultra_wide"]
EchoLabel = Literal["none", "subtle", "medium", "heavy", "infinite"]
HumanLabel = Literal["robotic", "tight", "natural", "loose", "drunk"]
AttackLabel = Literal["soft", "medium", "sharp"]
GrainLabel = Literal["clean", "warm", "gritty"]
DensityLevel = Literal[2, 3, 4, 5, 6]
RootLabel = Literal["c", "c#", "d", "d#", "e", "f", "f#", "g", "g#", "a", "a#", "b"]
ModeLabel = Literal["major", "minor", "dorian", "mixolydian"]
BassStyle = Literal[
    "drone", "sustained", "pulsing", "walking", "fifth_drone", "sub_pulse", "octave", "arp_bass"
]
PadStyle = Literal[
    "warm_slow",
    "dark_sustained",
    "cinematic",
    "thin_high",
    "ambient_drift",
    "stacked_fifths",
    "bright_open",
]
MelodyStyle = Literal[
    "procedural",
    "contemplative",
    "rising",
    "falling",
    "minimal",
    "ornamental",
    "arp_melody",
    "contemplative_minor",
    "call_response",
    "heroic",
]
RhythmStyle = Literal[
    "none",
    "minimal",
    "heartbeat",
    "soft_four",
    "hats_only",
    "electronic",
    "kit_light",
    "kit_medium",
    "military",
    "tabla_essence",
    "brush",
]
TextureStyle = Literal[
    "none",
    "shimmer",
    "shimmer_slow",
    "vinyl_crackle",
    "breath",
    "stars",
    "glitch",
    "noise_wash",
    "crystal",
    "pad_whisper",
]
AccentStyle = Literal[
    "none",
    "bells",
    "pluck",
    "chime",
    "bells_dense",
    "blip",
    "blip_random",
    "brass_hit",
    "wind",
    "arp_accent",
    "piano_note",
]

FieldKind = Literal["ordered", "categorical"]
Label = str | int


@dataclass(frozen=True)
class FieldSpec:
    """Everything the schema knows about one MusicConfig field."""

    name: str
    kind: FieldKind
    labels: tuple[Label, ...]
    description: str
    default: Label

    @property
    def ordered(self) -> bool:
        return self.kind == "ordered"

    def index(self, label: Label) -> int:
        """Position of ``label`` in :attr:`labels` (raises InvalidConfigError)."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise _bad_label(self, label) from None

    def position(self, label: Label) -> float:
        """The label's place on the field's 0..1 axis (ordered fields only)."""
        return self.index(label) / (len(self.labels) - 1)

    def nearest_label(self, position: float) -> Label:
        """The label closest to a continuous 0..1 position (ordered fields only)."""
        pos = min(1.0, max(0.0, float(position)))
        return self.labels[round(pos * (len(self.labels) - 1))]


def _spec(name: str, kind: FieldKind, lit: Any, description: str, default: Label) -> FieldSpec:
    return FieldSpec(name, kind, tuple(get_args(lit)), description, default)


FIELDS: dict[str, FieldSpec] = {
    s.name: s
    for s in (
        _spec("tempo", "ordered", TempoLabel, "Speed of the pulse (about 56..132 BPM).", "slow"),
        _spec(
            "brightness",
            "ordered",
            BrightnessLabel,
            "Tone colour: filter cutoff and harmonic richness of every layer.",
            "medium",
        ),
        _spec("space", "ordered", SpaceLabel, "Reverb size: decay time and wet level.", "medium"),
        _spec(
            "motion",
            "ordered",
            MotionLabel,
            "How much the sound moves: depth and rate of filter/amplitude modulation.",
            "slow",
        ),
        _spec(
            "stereo",
            "ordered",
            StereoLabel,
            "Ensemble width, rendered in mono as unison detune and chorus depth.",
            "medium",
        ),
        _spec(
            "echo",
            "ordered",
            EchoLabel,
            "Tempo-synced feedback echo: level and number of repeats.",
            "subtle",
        ),
        _spec(
            "human",
            "ordered",
            HumanLabel,
            "Timing and velocity looseness, from machine-exact to drunk.",
            "natural",
        ),
        _spec("attack", "ordered", AttackLabel, "Onset shape of notes.", "medium"),
        _spec(
            "grain", "ordered", GrainLabel, "Saturation and noise: clean, warm, gritty.", "clean"
        ),
        _spec(
            "density",
            "ordered",
            DensityLevel,
            "Active layers: 2 bass+pad, 3 +melody, 4 +rhythm, 5 +texture, 6 +accent.",
            4,
        ),
        _spec("root", "categorical", RootLabel, "Key centre (pitch class).", "c"),
        _spec("mode", "categorical", ModeLabel, "Scale the harmony and melody use.", "minor"),
        _spec("bass", "categorical", BassStyle, "Bass layer style.", "drone"),
        _spec("pad", "categorical", PadStyle, "Pad (chord) layer style.", "warm_slow"),
        _spec("melody", "categorical", MelodyStyle, "Melody layer style.", "contemplative"),
        _spec("rhythm", "categorical", RhythmStyle, "Percussion layer style.", "none"),
        _spec("texture", "categorical", TextureStyle, "Background texture layer style.", "none"),
        _spec("accent", "categorical", AccentStyle, "Sparse accent layer style.", "none"),
    )
}

LAYERS: tuple[str, ...] = ("bass", "pad", "melody", "rhythm", "texture", "accent")
ORDERED_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.ordered)


def _bad_label(spec: FieldSpec, value: object) -> InvalidConfigError:
    allowed = ", ".join(str(v) for v in spec.labels)
    return InvalidConfigError(
        f"{spec.name}: {value!r} is not a valid value; allowed: {allowed}",
        field=spec.name,
        value=value,
        allowed=spec.labels,
    )


def _normalise_label(spec: FieldSpec, value: object) -> Label:
    """Accept the canonical label, tolerating case, spaces/hyphens and numeric density strings."""
    if isinstance(value, bool):
        raise _bad_label(spec, value)
    if spec.name == "density":
        if isinstance(value, int) and value in spec.labels:
            return value
        if isinstance(value, float) and value.is_integer() and int(value) in spec.labels:
            return int(value)
        if isinstance(value, str) and value.strip().isdigit() and int(value) in spec.labels:
            return int(value)
        raise _bad_label(spec, value)
    if isinstance(value, str):
        canon = value.strip().lower().replace("-", "_").replace(" ", "_")
        if canon in spec.labels:
            return canon
    raise _bad_label(spec, value)


@dataclass(frozen=True)
class Step:
    """A relative move along an ordered field: ``Step(1)`` is one label up, ``Step(-2)`` two down.

    Steps saturate at the ends (``Step(+3)`` on ``tempo="fast"`` gives ``"very_fast"``).

    The amount is ``delta`` (0.1.8's name; ``n`` reads the same value). In JSON a Step is
    ``{"delta": n}``, as 0.1.8 writes it; ``{"step": n}`` (the bridge's OSC form) and
    ``{"n": n}`` (older dumps of this library) are read as well.
    """

    delta: int

    def __post_init__(self) -> None:
        if isinstance(self.delta, bool) or not isinstance(self.delta, int):
            raise InvalidConfigError(
                f"Step: delta must be an int, got {self.delta!r}", field="step", value=self.delta
            )

    @property
    def n(self) -> int:
        """The same as :attr:`delta`."""
        return self.delta

    def __repr__(self) -> str:
        return f"Step({self.delta:+d})"

    @classmethod
    def from_json(cls, value: object) -> Step | None:
        """A Step from ``{"delta": n}``, ``{"step": n}`` or ``{"n": n}``; None for anything else."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, amount),) = value.items()
            if key in STEP_JSON_KEYS:
                if isinstance(amount, bool) or not isinstance(amount, int | float):
                    raise InvalidConfigError(
                        f"Step: {key} must be an int, got {amount!r}", field="step", value=amount
                    )
                if isinstance(amount, float) and not amount.is_integer():
                    raise InvalidConfigError(
                        f"Step: {key} must be a whole number, got {amount!r}",
                        field="step",
                        value=amount,
                    )
                return cls(int(amount))
        return None

    def apply(self, spec: FieldSpec, current: Label) -> Label:
        idx = spec.index(current) + self.delta
        return spec.labels[min(len(spec.labels) - 1, max(0, idx))]


STEP_JSON_KEYS: tuple[str, ...] = ("delta", "step", "n")


FIELDS_018_ONLY: frozenset[str] = frozenset(
    [
        "schema_version",
        "depth",
        "melody_engine",
        "phrase_len_bars",
        "melody_density",
        "syncopation",
        "swing",
        "motif_repeat_prob",
        "step_bias",
        "chromatic_prob",
        "cadence_strength",
        "register_min_oct",
        "register_max_oct",
        "tension_curve",
        "harmony_style",
        "chord_change_bars",
        "chord_extensions",
    ]
)
"""latentscore 0.1.8's fine-grained MusicConfig fields, which this library does not have."""


def _unknown_field_error(model: str, names: list[str]) -> InvalidConfigError:
    allowed = ", ".join(FIELDS)
    hint = ""
    if FIELDS_018_ONLY.intersection(names):
        hint = (
            " (0.1.8's fine-grained melody/harmony fields are not part of this library; "
            "the style fields melody, rhythm, ... and human, motion cover them)"
        )
    return InvalidConfigError(
        f"{model}: unknown field(s) {', '.join(repr(n) for n in names)}{hint}; "
        f"allowed fields: {allowed}",
        field=names[0],
        value=names[0],
        allowed=tuple(FIELDS),
    )


def _to_invalid(exc: ValidationError, model: str) -> InvalidConfigError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return InvalidConfigError(
        f"{model}.{loc}: {err.get('msg')} (got {err.get('input')!r})", field=loc or None
    )


BPM_FIELD = "bpm"


def check_bpm(value: object, where: str = "bpm") -> float:
    """A BPM given as a number: finite, within :data:`~synth.params.BPM_RANGE` (else raises)."""
    lo, hi = BPM_RANGE
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().lower().removesuffix("bpm"))
        except ValueError:
            number = None
    if number is None or not (lo <= number <= hi):  # NaN fails the comparison too
        raise InvalidConfigError(
            f"{where}: {value!r} is not a tempo in BPM; give a number from {lo:g} to {hi:g}",
            field="bpm",
            value=value,
            allowed=(lo, hi),
        )
    return number


def _with_bpm(data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``bpm`` in ``data`` and point ``tempo`` at its nearest label (a number wins)."""
    if data.get(BPM_FIELD) is None:
        return data
    bpm = check_bpm(data[BPM_FIELD])
    tempo = FIELDS["tempo"]
    return {**data, BPM_FIELD: bpm, "tempo": tempo.nearest_label(bpm_to_tempo(bpm))}


class _SchemaModel(BaseModel):
    """Shared behaviour: frozen, strict field set, errors as InvalidConfigError."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    _kind: ClassVar[str] = "config"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _unwrap(exc, type(self).__name__) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _unwrap(exc, cls.__name__) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *a: Any, **kw: Any) -> Self:
        try:
            data = json.loads(json_data)
        except json.JSONDecodeError as exc:
            raise InvalidConfigError(f"{cls.__name__}: invalid JSON: {exc}") from None
        return cls.model_validate(data, *a, **kw)


def _unwrap(exc: ValidationError, model: str) -> InvalidConfigError:
    for err in exc.errors():
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, InvalidConfigError):
            return original
    return _to_invalid(exc, model)


class MusicConfig(_SchemaModel):
    """A complete, validated description of a piece: every field has a label.

    Construct with keywords (``MusicConfig(tempo="fast", mode="dorian")``); omitted fields take
    the defaults in :data:`FIELDS`. Instances are frozen; use :meth:`with_` or a
    :class:`MusicConfigUpdate` to derive a new one. Unknown fields or labels raise
    :class:`~latentscore.errors.InvalidConfigError` naming the field, value and allowed values.
    """

    tempo: TempoLabel = "slow"
    brightness: BrightnessLabel = "medium"
    space: SpaceLabel = "medium"
    motion: MotionLabel = "slow"
    stereo: StereoLabel = "medium"
    echo: EchoLabel = "subtle"
    human: HumanLabel = "natural"
    attack: AttackLabel = "medium"
    grain: GrainLabel = "clean"
    density: DensityLevel = 4
    root: RootLabel = "c"
    mode: ModeLabel = "minor"
    bass: BassStyle = "drone"
    pad: PadStyle = "warm_slow"
    melody: MelodyStyle = "contemplative"
    rhythm: RhythmStyle = "none"
    texture: TextureStyle = "none"
    accent: AccentStyle = "none"
    bpm: float | None = Field(
        default=None,
        ge=BPM_RANGE[0],
        le=BPM_RANGE[1],
        description="Exact tempo in BPM (40..200); wins over the tempo label when set.",
    )

    @model_validator(mode="before")
    @classmethod
    def _check_labels(cls, data: Any) -> Any:
        if isinstance(data, MusicConfig):
            return data
        if not isinstance(data, dict):
            raise InvalidConfigError(
                f"MusicConfig: expected a mapping of field -> label, got {type(data).__name__}"
            )
        unknown = [k for k in data if k not in FIELDS and k != BPM_FIELD]
        if unknown:
            raise _unknown_field_error("MusicConfig", unknown)
        labels = {k: _normalise_label(FIELDS[k], v) for k, v in data.items() if k in FIELDS}
        return _with_bpm({**labels, BPM_FIELD: data.get(BPM_FIELD)})

    @model_serializer(mode="wrap")
    def _drop_unset_bpm(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dumps and JSON carry ``bpm`` only when an exact tempo is set."""
        data: dict[str, Any] = handler(self)
        if data.get(BPM_FIELD) is None:
            data.pop(BPM_FIELD, None)
        return data

    def with_(self, **changes: Any) -> MusicConfig:
        """A copy with some fields replaced (validated like the constructor)."""
        return MusicConfig(**{**self.model_dump(), **changes})

    def to_json(self, indent: int | None = 2) -> str:
        """JSON of every field; ``bpm`` only when set."""
        return json.dumps(self.model_dump(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> MusicConfig:
        return cls.model_validate_json(text)

    @property
    def active_layers(self) -> tuple[str, ...]:
        """Layers that sound at this density whose style is not ``none``."""
        layers = LAYERS[: self.density]
        return tuple(layer for layer in layers if getattr(self, layer) != "none")


UpdateValue = Label | Step | float


class MusicConfigUpdate(_SchemaModel):
    """A partial change to a MusicConfig: every field optional.

    Ordered fields accept a label or a :class:`Step`; categorical fields accept a label.
    ``update.apply_to(config)`` returns the new config; Steps saturate at the ends.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    tempo: TempoLabel | Step | None = None
    brightness: BrightnessLabel | Step | None = None
    space: SpaceLabel | Step | None = None
    motion: MotionLabel | Step | None = None
    stereo: StereoLabel | Step | None = None
    echo: EchoLabel | Step | None = None
    human: HumanLabel | Step | None = None
    attack: AttackLabel | Step | None = None
    grain: GrainLabel | Step | None = None
    density: DensityLevel | Step | None = None
    root: RootLabel | None = None
    mode: ModeLabel | None = None
    bass: BassStyle | None = None
    pad: PadStyle | None = None
    melody: MelodyStyle | None = None
    rhythm: RhythmStyle | None = None
    texture: TextureStyle | None = None
    accent: AccentStyle | None = None
    bpm: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _check_values(cls, data: Any) -> Any:
        if isinstance(data, MusicConfigUpdate):
            return data
        if not isinstance(data, dict):
            raise InvalidConfigError(
                f"MusicConfigUpdate: expected a mapping, got {type(data).__name__}"
            )
        unknown = [k for k in data if k not in FIELDS and k != BPM_FIELD]
        if unknown:
            raise _unknown_field_error("MusicConfigUpdate", unknown)
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == BPM_FIELD:
                out[key] = None if value is None else check_bpm(value)
                continue
            spec = FIELDS[key]
            if value is None:
                out[key] = None
            elif isinstance(value, Step):
                if not spec.ordered:
                    raise InvalidConfigError(
                        f"{key}: Step() only applies to ordered fields "
                        f"({', '.join(ORDERED_FIELDS)}); give a label instead",
                        field=key,
                        value=value,
                        allowed=spec.labels,
                    )
                out[key] = value
            elif (step := Step.from_json(value)) is not None:
                if not spec.ordered:
                    raise InvalidConfigError(
                        f"{key}: a step only applies to ordered fields "
                        f"({', '.join(ORDERED_FIELDS)}); give a label instead",
                        field=key,
                        value=value,
                        allowed=spec.labels,
                    )
                out[key] = step
            else:
                out[key] = _normalise_label(spec, value)
        return out

    def changes(self) -> dict[str, UpdateValue]:
        """Only the fields this update sets (``bpm`` included when set)."""
        out = {k: getattr(self, k) for k in FIELDS if getattr(self, k) is not None}
        if self.bpm is not None:
            out[BPM_FIELD] = self.bpm
        return out

    def apply_to(self, config: MusicConfig) -> MusicConfig:
        """The config after this update (labels replace, Steps move and saturate).

        A ``bpm`` in the update wins; a ``tempo`` label or Step without one clears the
        config's exact BPM (the newer instruction is the label).
        """
        new: dict[str, Any] = config.model_dump()
        changes = self.changes()
        if "tempo" in changes and BPM_FIELD not in changes:
            new[BPM_FIELD] = None
        for key, value in changes.items():
            new[key] = value.apply(FIELDS[key], new[key]) if isinstance(value, Step) else value
        return MusicConfig(**new)

    def model_dump_jsonable(self) -> dict[str, Any]:
        """JSON-friendly dict: Steps become ``{"step": n}``."""
        return {
            k: ({"step": v.delta} if isinstance(v, Step) else v) for k, v in self.changes().items()
        }


def config_json_schema() -> dict[str, Any]:
    """JSON Schema of MusicConfig (labels as enums), for LLM prompts and external tools."""
    return MusicConfig.model_json_schema()


def parse_assignments(pairs: list[str]) -> dict[str, Label]:
    """Parse CLI ``field=label`` pairs into a dict (validated per field)."""
    out: dict[str, Label] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InvalidConfigError(
                f"--set expects field=label (e.g. tempo=slow), got {pair!r}", value=pair
            )
        key, _, raw = pair.partition("=")
        key = key.strip().lower()
        if key not in FIELDS:
            raise _unknown_field_error("--set", [key])
        out[key] = _normalise_label(FIELDS[key], raw)
    return out
