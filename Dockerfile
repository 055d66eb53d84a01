# threadguard: the scoring service (uvicorn) with the committed model baked in.
#   docker build -t threadguard .
#   docker run -p 8000:8000 -e THREADGUARD_DATABASE_URL=postgresql://user@db/threadguard threadguard
# Without THREADGUARD_DATABASE_URL the queue is an SQLite file in /srv/threadguard/var
# (mount a volume there to keep it). Bound to 0.0.0.0, every request needs a key:
#   docker exec CONTAINER threadguard keys create --role scorer
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/threadguard

# Dependencies in their own layer, read from pyproject.toml, so a code change does not
# reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md setup.py ./
# training/ stays out of the image: the service never trains.
COPY app ./app
# The model bundle; CURRENT names the version the service loads.
COPY models ./models
ENV THREADGUARD_MODEL_DIR=/srv/threadguard/models \
    THREADGUARD_HOST=0.0.0.0 \
    THREADGUARD_PORT=8000 \
    THREADGUARD_DATABASE_URL=sqlite:////srv/threadguard/var/threadguard.db
# g++ only for compiling app/_speedups.pyx, removed in the same layer (without it the
# image would run the extension's slower pure-Python twins).
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ \
    && pip install --no-deps . \
    && apt-get purge -y --auto-remove g++ \
    && rm -rf /var/lib/apt/lists/* \
    && (cd / && python -c "import app._speedups") \
    && useradd --create-home --uid 10001 threadguard \
    && mkdir -p /srv/threadguard/var \
    && chown threadguard /srv/threadguard/var

USER threadguard
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# Migrations first (idempotent; safe with several replicas on PostgreSQL), then the service.
CMD ["sh", "-c", "threadguard db upgrade && exec threadguard serve"]
