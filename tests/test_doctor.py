"""``latentscore doctor`` names the extra or command that fixes each missing capability."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentscore import doctor
from latentscore.models.minilm import MODEL_DIR_ENV


def test_missing_extra_names_its_pip_install() -> None:
    extra = doctor.Extra("external", "LLMs", ("json", "no_such_module_for_doctor"))
    check = doctor.check_extra(extra)
    assert check.status == "warn"
    assert "no_such_module_for_doctor" in check.detail and "json" not in check.detail
    assert check.hint == "pip install 'latentscore[external]'"


def test_installed_extra_is_ok() -> None:
    check = doctor.check_extra(doctor.Extra("zeroconf", "mDNS", ("json",)))
    assert check.status == "ok" and check.hint == ""


def test_every_user_extra_is_declared_in_pyproject() -> None:
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    for extra in doctor.EXTRAS:
        assert f"\n{extra.name} = [" in text, extra.name


def test_fast_model_files_are_found_and_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert doctor.check_fast_model().status == "ok"
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    check = doctor.check_fast_model()
    assert check.status == "missing"
    assert str(tmp_path / "tokenizer.json") in check.detail
    assert MODEL_DIR_ENV in check.hint
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 16)
    check = doctor.check_fast_model()
    assert check.status == "missing" and "unreadable" in check.detail


def test_expressive_weights_say_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LATENTSCORE_MODEL_DIR", str(tmp_path))
    check = doctor.check_expressive_weights()
    assert check.status == "warn"
    assert "latentscore download expressive" in check.hint
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert doctor.check_expressive_weights().status == "ok"
