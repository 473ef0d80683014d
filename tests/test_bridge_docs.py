"""The README's OSC section documents every address the registry serves."""

from __future__ import annotations

from pathlib import Path

from bridge.registry import build_registry

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_documents_every_bridge_address() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## OSC bridge") :]
    section = section[: section.index("\n## ", 5)]
    for spec in build_registry():
        if spec.field is None:
            assert f"`{spec.path}`" in section, spec.path
    for group in ("step", "label", "index"):
        assert f"`/latentscore/{group}/<field>`" in section
    assert "`/latentscore/<field>`" in section
    assert "`/latentscore/<field>/step`" in section  # the deprecated aliases are named
