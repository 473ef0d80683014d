"""The README's generated tables must match the code they document."""

from __future__ import annotations

from latentscore import docs
from latentscore.config import FIELDS


def test_readme_tables_are_up_to_date() -> None:
    text = docs.README.read_text(encoding="utf-8")
    assert docs.render_readme(text) == text, "README is stale: run `make readme`"


def test_reference_table_covers_every_field_and_label() -> None:
    table = docs.config_reference_table()
    for name, spec in FIELDS.items():
        assert f"`{name}`" in table
        for label in spec.labels:
            assert f"`{label}`" in table


def test_engine_mapping_lists_tempo_anchors() -> None:
    from synth.params import TEMPO_BPM

    table = docs.engine_mapping_table()
    assert "TEMPO_BPM" in table
    assert f"slow {TEMPO_BPM[1]:g}" in table


def test_check_mode_detects_stale_readme(tmp_path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(
        "x\n<!-- BEGIN GENERATED: config-reference -->\nold\n"
        "<!-- END GENERATED: config-reference -->\n"
        "<!-- BEGIN GENERATED: engine-mapping -->\n<!-- END GENERATED: engine-mapping -->\n"
    )
    assert docs.main(["--check", "--readme", str(stale)]) == 1
    assert docs.main(["--readme", str(stale)]) == 0
    assert docs.main(["--check", "--readme", str(stale)]) == 0
    assert "old" not in stale.read_text()
