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

.PHONY: install run seed test lint typecheck pytest browser screenshots bench evaluate train clean

install: $(STAMP)

# pip compiles app/_speedups.pyx (Cython, C++) into app/; a change to it reinstalls.
$(STAMP): pyproject.toml setup.py app/_speedups.pyx
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

# The review page's browser test drives Debian's chromium (Playwright downloads nothing):
# installed with apt when missing, as root or through passwordless sudo.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO="sudo -n"; \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium; \
	} || { echo "make browser: could not install Debian's chromium; run apt-get install chromium" >&2; exit 1; }

# THREADGUARD_REQUIRE_BROWSER=1: a missing chromium fails the browser test instead of skipping it;
# THREADGUARD_REQUIRE_COMPILED=1: a missing compiled module fails instead of using the twins.
pytest: install browser
	THREADGUARD_REQUIRE_BROWSER=1 THREADGUARD_REQUIRE_COMPILED=1 $(BIN)/pytest

test: lint typecheck pytest

# The review page's pictures in docs/img, taken by its browser test at 1280 and 390 px wide.
screenshots: install browser
	THREADGUARD_REQUIRE_BROWSER=1 THREADGUARD_SCREENSHOTS=docs/img $(BIN)/pytest -q -p no:randomly \
		tests/browser/test_review_cases.py

bench: install
	$(BIN)/python benchmarks/parse_bench.py
	$(BIN)/python benchmarks/score_bench.py --data-dir $(DATA_DIR)
	$(BIN)/python benchmarks/http_bench.py
	$(BIN)/python benchmarks/batch_bench.py --data-dir $(DATA_DIR) --rows $(BATCH_ROWS)
	$(BIN)/python benchmarks/queue_bench.py

# `make evaluate` reports on the version CURRENT names. `make evaluate MODEL_VERSION=v` reports
# on v beside CURRENT (the model v would replace) on the same test rows; BASELINE=w compares
# with w instead, BASELINE=none with nothing.
MODEL_VERSION ?=
BASELINE ?= $(if $(MODEL_VERSION),$(shell cat models/CURRENT 2>/dev/null))
evaluate: install
	$(BIN)/threadguard evaluate --data-dir $(DATA_DIR) \
		$(if $(MODEL_VERSION),--version $(MODEL_VERSION)) \
		$(if $(filter-out none,$(BASELINE)),--baseline $(BASELINE))

# Trains a new version under models/ (CURRENT is moved by hand, after review);
# FEEDBACK=decisions.jsonl adds the moderators' decisions from `threadguard queue export`.
FEEDBACK ?=
train: install
	$(BIN)/threadguard train --data-dir $(DATA_DIR) $(if $(FEEDBACK),--feedback $(FEEDBACK))

clean:
	rm -rf var $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build *.egg-info \
		app/_speedups.cpp app/_speedups.*.so

# `make docker` builds the service image IMAGE. Its base is BASE_IMAGE: by default the Debian
# bookworm image that docker/build-base.sh makes from Debian's packages (built the first time),
# because the project's machines reach Debian's mirror but no container registry; elsewhere
# `make docker BASE_IMAGE=python:3.11-slim`, or plain `docker build .`, which defaults to it.
# A daemon is started first where only the client is installed (docker/start-dockerd.sh).
# Locally added CAs (a TLS-intercepting proxy's) and an http(s) PIP_INDEX_URL or
# PIP_EXTRA_INDEX_URL in the environment reach only the build stage, never the image.
DOCKER ?= docker
IMAGE ?= threadguard:latest
LOCAL_BASE_IMAGE := threadguard-base:bookworm
BASE_IMAGE ?= $(LOCAL_BASE_IMAGE)
DOCKER_NETWORK ?= host
DOCKER_EXTRA_CA ?= $(wildcard /usr/local/share/ca-certificates/*.crt)
DOCKER_BUILD_ARGS := --build-arg BASE_IMAGE=$(BASE_IMAGE) \
	$(if $(filter http://% https://%,$(PIP_INDEX_URL)),--build-arg PIP_INDEX_URL=$(PIP_INDEX_URL)) \
	$(if $(filter http://% https://%,$(PIP_EXTRA_INDEX_URL)),--build-arg "PIP_EXTRA_INDEX_URL=$(filter http://% https://%,$(PIP_EXTRA_INDEX_URL))") \
	$(if $(PIP_TRUSTED_HOST),--build-arg "PIP_TRUSTED_HOST=$(PIP_TRUSTED_HOST)")

.PHONY: docker docker-daemon docker-base docker-test

docker-daemon:
	docker/start-dockerd.sh

# Only the local base is built here; any other BASE_IMAGE is the registry's to provide.
docker-base: docker-daemon
	@if [ "$(BASE_IMAGE)" = "$(LOCAL_BASE_IMAGE)" ] && ! $(DOCKER) image inspect $(BASE_IMAGE) >/dev/null 2>&1; then \
		docker/build-base.sh $(BASE_IMAGE); \
	fi

docker: docker-base
	$(DOCKER) build --network $(DOCKER_NETWORK) $(DOCKER_BUILD_ARGS) \
		$(if $(DOCKER_EXTRA_CA),--build-arg EXTRA_CA_CERTS="$$(cat $(DOCKER_EXTRA_CA))") \
		-t $(IMAGE) .
	$(DOCKER) image ls $(IMAGE)

# The container tests against the image just built, failing rather than skipping. `make test`
# runs them too, but skips them where no daemon answers or the image is missing or stale.
docker-test: docker install
	THREADGUARD_DOCKER_IMAGE=$(IMAGE) THREADGUARD_REQUIRE_DOCKER=1 $(BIN)/pytest -m docker tests/test_docker.py
