"""Preset data shipped with LatentScore (installed as the package ``latentscore._presetdata``)."""
