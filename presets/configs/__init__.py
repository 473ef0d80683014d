"""Named MusicConfig presets, one JSON file each (package data, see presets/README.md)."""
