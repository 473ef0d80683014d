"""Build-time tools for the fast model's vibe library (not shipped with the package)."""
