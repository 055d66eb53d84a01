# threadguard — two commands on a fresh machine: `make run` and `make test`.
# Every target installs what it needs first (a .venv with the project and its dev tools).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SEEDS ?= ../shared/seeds
DATA_DIR ?= ../shared/datasets
BATCH_ROWS ?= 1000000
SEED_PAGE := $(SEEDS)/004_f987b5801adb0d07.txt
SEED_ORIGINAL := $(SEEDS)/000_995f28ecffe272e4.txt
LINTED := app training tests benchmarks

.PHONY: install run seed test lint typecheck pytest bench evaluate train clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,compare]'
	touch $(STAMP)

# The service on 127.0.0.1:8000 with the committed model and an SQLite queue under var/.
run: install
	$(BIN)/threadguard db upgrade
	$(BIN)/threadguard serve

# The seed thread parsed, scored and printed as a tree (what `make run` did before the service).
seed: install
	@test -f $(SEED_PAGE) || { echo "make seed: $(SEED_PAGE) is missing (set SEEDS=...)" >&2; exit 2; }
	$(BIN)/threadguard parse $(SEED_PAGE) --original $(SEED_ORIGINAL) --score

lint: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/parse_bench.py
	$(BIN)/python benchmarks/score_bench.py --data-dir $(DATA_DIR)
	$(BIN)/python benchmarks/http_bench.py
	$(BIN)/python benchmarks/batch_bench.py --data-dir $(DATA_DIR) --rows $(BATCH_ROWS)

evaluate: install
	$(BIN)/threadguard evaluate --data-dir $(DATA_DIR)

# Trains a new version under models/ (CURRENT is moved by hand, after review).
train: install
	$(BIN)/threadguard train --data-dir $(DATA_DIR)

clean:
	rm -rf var $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build *.egg-info
