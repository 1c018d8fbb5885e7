# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest src/test -q

lint: $(STAMP)
	$(BIN)/ruff check config_utils prefigure_compat src/test examples bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean-venv:
	@echo "remove $(VENV) yourself if you really want to: rm -r $(VENV)"
