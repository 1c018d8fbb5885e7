# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint docs bench sweep clean-venv

# The install shows what it is doing: one line per package as pip collects it, one as it is
# installed, and what it is still waiting for after 10 quiet seconds (tools/pip_progress.py:
# pip's own output summarised; errors still reach the terminal). About 3 minutes on a fresh
# machine of 2 cores, `make demo` included: its longest silence was 10.6 s (venv creation).
$(STAMP): pyproject.toml constraints.txt
	@echo "== setting up $(VENV) (once; again only when pyproject.toml or constraints.txt change)"
	@test -x $(BIN)/python || { echo "   creating $(VENV) with $(PYTHON) (about 10 s: it installs pip into it)"; $(PYTHON) -m venv $(VENV); }
	@echo "   upgrading pip"
	@$(BIN)/python tools/pip_progress.py install --progress-bar off --upgrade pip
	@echo "   installing flows-workspace with every extra and the dev tools: torch 2.13 (CPU),"
	@echo "   Lightning, W&B, MLflow, gradio, Optuna, Ray, submitit, gin, PyYAML; pytest, ruff, mypy,"
	@echo "   MkDocs; the benchmarks' peers (prefigure, hydra, jsonargparse). About 3 minutes and"
	@echo "   2.6 GB on a fresh machine; a line per package as pip collects it, then as it installs it:"
	@$(BIN)/python tools/pip_progress.py install --progress-bar off -c constraints.txt -e ".[all,dev]"
	@echo "   W&B's published sweep schema for the sweep tests: the sweeps package, alone (its own"
	@echo "   requirements pin numpy<2, so --no-deps; jsonref is what it reads the schema with)"
	@$(BIN)/python tools/pip_progress.py install --progress-bar off --no-deps sweeps==0.3.0 jsonref==1.1.0
	@touch $(STAMP)
	@echo "== $(VENV) is ready; to use it in your shell: source $(VENV)/bin/activate"

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	@echo "== the whole suite: a few minutes on 2 cores. Collecting the tests takes a while (they"
	@echo "   import torch, Lightning, gradio); then a dot per test (.venv/bin/pytest -m 'not slow' skips the slow ones)."
	@echo "   The order is random (pytest-randomly); the seed is printed at the end to replay it."
	$(BIN)/python -m pytest src/test -q

lint: $(STAMP)
	$(BIN)/ruff check config_utils prefigure_compat src/test examples bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports  # the layering contract in pyproject.toml (docs/design.md)

# A small sweep of the main job (4 trials, 2 at a time; about a minute on 2 cores). Each run is a
# new sweep directory; running flow_sweep again on the same directory resumes it.
sweep: $(STAMP)
	$(BIN)/flow_sweep examples/sweep/train.yaml --parallel 2 --sweep-dir logs/sweeps/train-$$(date +%Y-%m-%d_%H-%M-%S)

# The documentation site (MkDocs + Material; API reference from the docstrings) into site/.
# --strict: a dead link, a missing anchor or an API name that no longer resolves fails it.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "== the site is in site/: open site/index.html, or run $(BIN)/mkdocs serve"

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean-venv:
	@echo "remove $(VENV) yourself if you really want to: rm -r $(VENV)"
