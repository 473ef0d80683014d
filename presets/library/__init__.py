"""Shipped vibe library data (built by presets/build/build_library.py)."""
