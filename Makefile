# LatentScore developer tasks. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The core install needs no torch; the [expressive] and [build] extras (the expressive model, and
# the sentence-transformers reference the tests compare against) do. torch is installed first,
# from the CPU wheel index, so they do not pull a multi-GB CUDA build (one quick retry where that index is unreachable, then
# the configured indexes). `make TORCH_INDEX=` uses only the configured indexes.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: venv demo test lint format bench readme clean

venv: $(STAMP)

# Reinstall only when the project metadata changes (the stamp is newer than pyproject.toml).
$(STAMP): pyproject.toml latentscore/models/_halfgemm.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install --retries 1 torch==2.13.0 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -e '.[dev,external,expressive,link,build]'
	touch $(STAMP)

demo: venv
	$(BIN)/latentscore demo --duration 20

test: venv
	$(BIN)/python -m pytest -q

# ruff (lint + formatting) and mypy (settings in pyproject.toml); CI runs this before the tests.
lint: venv
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

format: venv
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python -m ruff format .

bench: venv
	@set -e; for script in benchmarks/[!_]*.py; do \
		[ -e "$$script" ] || { echo "no benchmarks yet"; break; }; \
		echo "== $$script"; $(BIN)/python "$$script"; \
	done

readme: venv
	$(BIN)/python -m latentscore.docs

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache latentscore/models/_halfgemm*.so
