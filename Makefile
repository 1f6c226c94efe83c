# The two commands a user needs:  make run  (the main job)  and  make test  (lint, types, tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test venv lint typecheck pytest test-slow bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The main job: the quick review. Every method (triplet, six self-supervised, a denoiser) on the
# embedded mnist-mini, finished runs reused, then the side-by-side report in
# runs/review_quick/report/ (index.html with the embedding explorer, report.md). <= 5 min on 2 cores.
# One torch thread: on a busy 2-core machine two threads ran the same runs 2x slower (docs/review.md).
run: $(STAMP)
	$(BIN)/mnistmax data fetch --dataset mnist
	$(BIN)/mnistmax data info --dataset mnist
	$(BIN)/mnistmax review --budget quick --threads 1 --out runs/review_quick

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info src/*.egg-info
