"""BridgeState: what the daemon is playing, as controllers see it.

It holds a label for every MusicConfig field plus, for ordered fields, the exact 0..1
position (a fader may sit between two labels; tempo's may pass the ends when an exact BPM is
set, see :func:`synth.params.bpm_to_tempo`), and the daemon settings (transition, seed,
volume, playing, title). It is the source of ``/latentscore/state`` replies, feedback
values and OSCQuery ``VALUE``; :meth:`synth_params` turns it into engine controls.

Not thread-safe by itself: the :class:`~bridge.controller.Controller` guards it with a lock.
"""

from __future__ import annotations

from typing import Any, cast

from bridge.osc_codec import OscValue
from bridge.registry import FieldValue, ParamSpec
from latentscore.config import FIELDS, Label, MusicConfig
from latentscore.params import to_synth_params
from synth.params import CONTINUOUS, SynthParams, bpm_to_tempo, tempo_to_bpm


def config_value(config: MusicConfig, name: str) -> FieldValue:
    """Field ``name`` of ``config``: its label, and for ordered fields the label's position
    (tempo: the exact ``bpm``'s position when the config sets one)."""
    if name == "tempo" and config.bpm is not None:
        return bpm_value(config.bpm)
    spec, label = FIELDS[name], getattr(config, name)
    return FieldValue(label, spec.position(label) if spec.ordered else None)


def bpm_value(bpm: float) -> FieldValue:
    """The tempo field value that plays ``bpm`` exactly (its label the nearest one)."""
    position = round(bpm_to_tempo(bpm), 9)
    return FieldValue(FIELDS["tempo"].nearest_label(position), position)


class BridgeState:
    """Current values of every readable bridge address (see module docstring)."""

    def __init__(
        self,
        config: MusicConfig,
        *,
        seed: int,
        transition: float,
        volume: float,
        playing: bool = True,
        title: str = "",
    ) -> None:
        self.labels: dict[str, Label] = {}
        self.positions: dict[str, float] = {}
        self._label_params: tuple[tuple[Label, ...], SynthParams] | None = None
        self.set_config(config)
        self.seed = seed
        self.transition = transition
        self.volume = volume
        self.playing = playing
        self.audio = "ok"  # "lost" while the audio output is gone
        self.title = title

    # --- fields --------------------------------------------------------------------------
    @property
    def config(self) -> MusicConfig:
        """The MusicConfig of the current labels (nearest labels for in-between positions)."""
        return MusicConfig(**cast(dict[str, Any], self.labels))

    def set_config(self, config: MusicConfig) -> set[str]:
        """Take every label of ``config`` (positions snap to labels); returns changed fields."""
        changed: set[str] = set()
        for name in FIELDS:
            if self.set_field(name, config_value(config, name)):
                changed.add(name)
        return changed

    @property
    def bpm(self) -> float:
        """The tempo in BPM the tempo position plays."""
        return tempo_to_bpm(self.positions["tempo"])

    def set_field(self, name: str, value: FieldValue) -> bool:
        """Set one field; returns whether its label or position changed."""
        before = (self.labels.get(name), self.positions.get(name))
        self.labels[name] = value.label
        if value.position is not None:
            self.positions[name] = value.position
        return before != (self.labels[name], self.positions.get(name))

    def synth_params(self) -> SynthParams:
        """Engine controls: the labels' mapping, with ordered fields at their exact positions."""
        key = tuple(self.labels.values())
        if self._label_params is None or self._label_params[0] != key:  # labels rarely move
            self._label_params = (key, to_synth_params(self.config))
        params = self._label_params[1]
        continuous = {name: self.positions[name] for name in CONTINUOUS}
        density = FIELDS["density"]
        lo, hi = min(density.labels), max(density.labels)
        continuous["density"] = lo + (hi - lo) * self.positions["density"]  # type: ignore[operator]
        return params.with_values(**continuous)

    # --- values as OSC arguments -----------------------------------------------------------
    def value(self, spec: ParamSpec) -> tuple[OscValue, ...] | None:
        """The current value of a readable address as OSC arguments (None: no value)."""
        if spec.field is not None:
            name = spec.field.name
            if spec.role == "label" or (spec.role == "field" and not spec.field.ordered):
                return (self.labels[name],)
            if spec.role == "field":  # a fader reports 0..1 (an exact BPM may pass the ends)
                return (min(1.0, max(0.0, float(self.positions[name]))),)
            if spec.role == "index":
                return (spec.field.labels.index(self.labels[name]),)
            return None
        values: dict[str, tuple[OscValue, ...]] = {
            "transition": (float(self.transition),),
            "seed": (int(self.seed),),
            "volume": (float(self.volume),),
            "bpm": (round(self.bpm, 3),),
            "playing": (int(self.playing),),
            "audio": (self.audio,),
            "title": (self.title,),
        }
        return values.get(spec.name)
