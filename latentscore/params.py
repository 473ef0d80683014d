"""Label -> engine number mapping: MusicConfig (labels) to synth.SynthParams (0..1 axes).

For an ordered field with ``n`` labels, label ``i`` sits at position ``i / (n - 1)`` on the
field's 0..1 axis (tempo ``slow`` = 0.25, brightness ``bright`` = 0.75, attack ``sharp`` = 1.0).
``synth.params`` then turns each position into physical values (BPM, cutoff Hz, reverb T60,
echo feedback, ...) by interpolating between one anchor per label. Because the axis is
continuous, the bridge (or any caller) can set positions between labels, e.g. brightness 0.63.
``density`` stays on its own 2..6 scale; root is a pitch class 0..11.

The README's "Label -> engine mapping" table is generated from these same tables.
"""

from __future__ import annotations

from typing import Any, cast

from latentscore.config import FIELDS, MusicConfig
from synth.params import CONTINUOUS, LAYERS, SynthParams, bpm_to_tempo

ROOT_PITCH_CLASS: dict[str, int] = {label: i for i, label in enumerate(FIELDS["root"].labels)}  # type: ignore[misc]


def position(field: str, label: str | int) -> float:
    """The 0..1 axis position of an ordered field's label."""
    return FIELDS[field].position(label)


def to_synth_params(config: MusicConfig) -> SynthParams:
    """Map a validated MusicConfig onto the engine's numeric controls (an exact ``bpm`` wins)."""
    values = {name: position(name, getattr(config, name)) for name in CONTINUOUS}
    if config.bpm is not None:
        values["tempo"] = bpm_to_tempo(config.bpm)
    return SynthParams(
        **values,
        density=float(config.density),
        root=ROOT_PITCH_CLASS[config.root],
        mode=config.mode,
        styles={layer: getattr(config, layer) for layer in LAYERS},
    )


def nearest_config(params: SynthParams) -> MusicConfig:
    """The MusicConfig whose labels are closest to (possibly in-between) engine values."""
    values: dict[str, str | int] = {
        name: FIELDS[name].nearest_label(getattr(params, name)) for name in CONTINUOUS
    }
    values["density"] = int(round(params.density))
    values["root"] = FIELDS["root"].labels[params.root % 12]
    values["mode"] = params.mode
    values.update(params.styles)
    return MusicConfig(**cast(dict[str, Any], values))
