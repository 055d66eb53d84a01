# threadguard: the scoring service (uvicorn) with the model bundle that models/CURRENT names.
#   docker build -t threadguard .
#   docker run -p 8000:8000 -e THREADGUARD_DATABASE_URL=postgresql://user@db/threadguard threadguard
# Without THREADGUARD_DATABASE_URL the queue is an SQLite file in /srv/threadguard/var
# (mount a volume there to keep it). Bound to 0.0.0.0, every request needs a key:
#   docker exec CONTAINER threadguard keys create --role scorer
#
# BASE_IMAGE is any Debian-like image with apt, ca-certificates and a python3 3.11 that has
# venv (the bundle's scikit-learn pin has wheels for it). Where no registry can be reached,
# `make docker` builds one from Debian's packages (docker/build-base.sh) and passes
# BASE_IMAGE=threadguard-base:bookworm.
# Both stages use the same base, so the venv's python symlink is valid in the final image.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build

# Only for a build behind a TLS-intercepting proxy or a private index. They are used in this
# stage alone, which stays in the local build cache and is never part of the tagged image, so
# neither a CA nor an index address (with any credentials in it) ships.
ARG EXTRA_CA_CERTS
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST

# pip trusts its own certifi bundle by default; pointing it at the system's lets
# EXTRA_CA_CERTS take effect.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PATH=/opt/venv/bin:$PATH

# g++ compiles app/_speedups.pyx (without it the image would run the slower pure-Python twins).
# Debian's python3 ships no headers; python:3.11-slim has its own, which Debian's python3-dev
# would not match.
RUN set -eu; \
    if [ -n "${EXTRA_CA_CERTS:-}" ]; then \
        printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt; \
        update-ca-certificates >/dev/null; \
    fi; \
    headers=; \
    python3 -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_path("include"), "Python.h")))' \
        || headers=python3-dev; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ $headers; \
    rm -rf /var/lib/apt/lists/*; \
    python3 -m venv /opt/venv

WORKDIR /src

# Dependencies in their own layer, read from pyproject.toml, so a code change does not
# reinstall them. The libraries' own test suites were about 130 MB of the venv (pandas's alone
# 46 MB) and the service never runs them; the smoke test below shows nothing needed them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt \
    && find /opt/venv/lib/python3*/site-packages -depth -type d \( -name tests -o -name test \) \
        -exec rm -rf {} +

COPY README.md setup.py ./
# training/ stays out of the image: the service never trains.
COPY app ./app
# Run from / so the import finds the installed package, not ./app: a silent fallback to the
# pure-Python twins fails the build here.
RUN pip install --no-deps . \
    && (cd / && python -c "import app._speedups")

# Every bundle comes in with the context (a build cannot choose its COPY sources), but only
# the one CURRENT names goes on: the others are what was or might be served, not what is.
# CURRENT is the version alone; the bundle's digest file `<version>.sha256` goes with it.
COPY models /tmp/models
RUN set -eu; \
    version=$(awk 'NR == 1 { print $1; exit }' /tmp/models/CURRENT); \
    case "$version" in ""|*/*|.*) echo "models/CURRENT names no version: '$version'" >&2; exit 1;; esac; \
    test -d "/tmp/models/$version" || { echo "models/$version is missing" >&2; exit 1; }; \
    mkdir -p /srv/threadguard/models; \
    test -f "/tmp/models/$version.sha256" || { echo "models/$version.sha256 is missing: run threadguard model-use $version" >&2; exit 1; }; \
    cp -a /tmp/models/CURRENT "/tmp/models/$version" "/tmp/models/$version.sha256" /srv/threadguard/models/; \
    if [ -f /tmp/models/README.md ]; then cp -a /tmp/models/README.md /srv/threadguard/models/; fi; \
    rm -rf /tmp/models

# A smoke test before anything is shipped: the bundle loads (sha256 and scikit-learn version
# checked), a comment is scored through pandas and pyarrow, and the service's and the Dask
# engine's modules import with the test suites gone.
RUN set -eu; \
    cd /tmp; \
    export THREADGUARD_MODEL_DIR=/srv/threadguard/models; \
    threadguard model-info > /dev/null; \
    printf '{"id": "1", "text": "You are an idiot."}\n' > smoke.jsonl; \
    threadguard score smoke.jsonl -o smoke.parquet; \
    python -c "import app.api.app, app.batch.dask_engine, dask.dataframe, distributed, pyarrow.parquet"; \
    rm -f smoke.jsonl smoke.parquet


FROM ${BASE_IMAGE}

# Site-packages belongs to root and the service runs as 10001, so bytecode it tried to write
# would fail anyway; pip already compiled it in the build stage.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    THREADGUARD_MODEL_DIR=/srv/threadguard/models \
    THREADGUARD_HOST=0.0.0.0 \
    THREADGUARD_PORT=8000 \
    THREADGUARD_DATABASE_URL=sqlite:////srv/threadguard/var/threadguard.db

RUN useradd --create-home --uid 10001 threadguard \
    && mkdir -p /srv/threadguard/var \
    && chown threadguard /srv/threadguard/var

COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/threadguard/models /srv/threadguard/models

WORKDIR /srv/threadguard
USER threadguard
EXPOSE 8000
# The port is read at check time so `-e THREADGUARD_PORT=...` (as with --network host) stays healthy.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('THREADGUARD_PORT', '8000'), timeout=2).status != 200)"]
# Migrations first (idempotent; safe with several replicas on PostgreSQL), then the service.
CMD ["sh", "-c", "threadguard db upgrade && exec threadguard serve"]
