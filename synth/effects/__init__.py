"""Stateful effects processed one engine quantum at a time (state persists across blocks)."""
