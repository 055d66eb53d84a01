# threadguard: the CLI for now (the service replaces CMD when it exists).
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

COPY README.md ./
COPY app ./app
COPY training ./training
# The model bundle; CURRENT names the version the CLI loads.
COPY models ./models
ENV THREADGUARD_MODEL_DIR=/srv/threadguard/models
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 threadguard

USER threadguard
ENTRYPOINT ["threadguard"]
CMD ["--help"]
