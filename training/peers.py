"""Offline peer models: other projects' pre-trained classifiers, scored beside ours.

The evaluation report and the benchmarks put a few published, offline classifiers next to
threadguard's own scores, on the same rows and in the same process (so their timings are
comparable). Each peer is an optional install (the `compare` extra); a peer that is not
installed, or does not load, is left out with a reason instead of failing the run.

Peers here:

- `alt-profanity-check`: a calibrated linear SVM on TF-IDF, pickled with scikit-learn. Each
  release pins the scikit-learn it was pickled with; under another scikit-learn it still
  loads, and the `InconsistentVersionWarning`s are recorded on the peer, not shown.
- `hatesonar-hate` and `hatesonar-offensive`: two views of HateSonar's three-class model
  (hate_speech / offensive_language / neither), an ONNX graph run by onnxruntime.

Loading reads only files shipped inside the installed packages: nothing is downloaded.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import pickle
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.exceptions import InconsistentVersionWarning

from app.errors import AppError

logger = logging.getLogger(__name__)

Scores = NDArray[np.float64]

PROFANITY_CHECK = "alt-profanity-check"
HATESONAR_HATE = "hatesonar-hate"
HATESONAR_OFFENSIVE = "hatesonar-offensive"
PEER_NAMES = (PROFANITY_CHECK, HATESONAR_HATE, HATESONAR_OFFENSIVE)

# Column order of HateSonar's probabilities: the ZipMap keys 0, 1, 2 of its ONNX graph, named
# as in `hatesonar.api.Sonar.mapping`.
HATESONAR_CLASSES = ("hate_speech", "offensive_language", "neither")

# onnxruntime's StringNormalizer lowercases with the en_US.UTF-8 locale unless the graph names
# one, and fails to load where that locale is not generated (Debian's default images). glibc's
# C.UTF-8 carries the same Unicode case mapping, so the scores do not change.
_FALLBACK_LOCALE = "C.UTF-8"

# HateSonar's graph builds a dense texts x 28,302 TF-IDF matrix: one run over 10,000 texts takes
# 1 GB and twice the time of 128-text chunks, which are as fast as any chunk size we tried.
_HATESONAR_CHUNK = 128


class PeerError(AppError):
    """A peer is unknown or unavailable here, or was given input it cannot score."""

    code = "peer_error"


# What loading a pickled or ONNX model can raise when the package is broken or does not match
# this scikit-learn / numpy (PeerError wraps onnxruntime's failures); anything else is a bug in
# our code and should propagate.
_LOAD_ERRORS: tuple[type[BaseException], ...] = (
    ImportError,
    OSError,
    EOFError,
    AttributeError,
    KeyError,
    TypeError,
    ValueError,
    pickle.UnpicklingError,
    PeerError,
)


@dataclass(frozen=True)
class Peer:
    """A loaded offline classifier whose scores sit beside threadguard's in reports.

    `task` says what the score is a probability of; `trained_on` names datasets of our
    registry (data/datasets.toml) whose rows the peer may have been trained on, so a report can
    mark its scores there as not a fair comparison; `load_warnings` keeps what loading said
    (version warnings we silenced, workarounds we applied).
    """

    name: str
    version: str
    task: str
    trained_on: tuple[str, ...] = ()
    load_warnings: tuple[str, ...] = ()
    scorer: Callable[[list[str]], Scores] = field(kw_only=True, repr=False, compare=False)

    def score(self, texts: Sequence[str]) -> Scores:
        """One probability in [0, 1] per text, in order (float64, shape `(len(texts),)`).

        Raises:
            PeerError: `texts` is a single string or holds a non-string, or the peer returned
                the wrong number of scores.
        """
        batch = _as_batch(texts)
        if not batch:
            # scikit-learn refuses zero-row inputs; an empty batch has an obvious answer.
            return np.zeros(0, dtype=np.float64)
        scores = np.asarray(self.scorer(batch), dtype=np.float64)
        if scores.shape != (len(batch),):
            raise PeerError(
                f"peer {self.name!r} returned scores of shape {scores.shape} for {len(batch)} texts"
            )
        # Summed class probabilities can overshoot 1 by a rounding error.
        return np.clip(scores, 0.0, 1.0)


def available_peers() -> list[Peer]:
    """The peers that load here, in `PEER_NAMES` order; a missing one is skipped, never raised."""
    peers, _ = _discover()
    return peers


def peer_unavailable_reasons() -> dict[str, str]:
    """Why each peer that does not load here is missing, by peer name (empty when all load)."""
    _, reasons = _discover()
    return reasons


def get_peer(name: str) -> Peer:
    """The peer called `name`, loaded.

    Raises:
        PeerError: no peer has that name, or it is not available here (the message says why).
    """
    if name not in PEER_NAMES:
        raise PeerError(
            f"unknown peer {name!r}; known peers: {', '.join(PEER_NAMES)}", field="peer"
        )
    peers, reasons = _discover()
    for peer in peers:
        if peer.name == name:
            return peer
    raise PeerError(f"peer {name!r} is not available here: {reasons[name]}", field="peer")


def _discover() -> tuple[list[Peer], dict[str, str]]:
    """Run every loader, keeping the peers that load and the reason for each that does not."""
    peers: list[Peer] = []
    reasons: dict[str, str] = {}
    for source in _SOURCES:
        missing = [m for m in source.modules if importlib.util.find_spec(m) is None]
        if missing:
            reason = (
                f"not installed (no module {', '.join(missing)}); "
                f"pip install {source.requirement}, or the `compare` extra"
            )
        else:
            try:
                peers.extend(source.load())
                continue
            except _LOAD_ERRORS as exc:
                reason = f"installed but failed to load: {type(exc).__name__}: {exc}"
        for name in source.names:
            logger.debug("peer %s is unavailable: %s", name, reason)
            reasons[name] = reason
    return peers, reasons


def _as_batch(texts: Sequence[str]) -> list[str]:
    """`texts` as a list of strings, refusing a bare string (which would score per character)."""
    if isinstance(texts, str):
        raise PeerError("expected a sequence of texts, got a single string", field="texts")
    batch = list(texts)
    for index, text in enumerate(batch):
        if not isinstance(text, str):
            raise PeerError(f"text {index} is a {type(text).__name__}, not a string", field="texts")
    return batch


@contextmanager
def _recording_version_warnings(notes: list[str]) -> Iterator[None]:
    """Silence scikit-learn's pickle version warnings inside, summing them up in `notes`.

    Each pair of versions gets one note naming the estimators, e.g. "pickled with scikit-learn
    1.9.0, loaded with 1.9.1 (InconsistentVersionWarning): LinearSVC, TfidfVectorizer". Other
    warnings raised inside are re-issued on exit, so only the version warnings are hidden.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    estimators: dict[tuple[str, str], set[str]] = {}
    for item in caught:
        message = item.message
        if isinstance(message, InconsistentVersionWarning):
            versions = (message.original_sklearn_version, message.current_sklearn_version)
            estimators.setdefault(versions, set()).add(message.estimator_name)
        else:
            warnings.warn_explicit(message, item.category, item.filename, item.lineno)
    for (original, current), names in estimators.items():
        notes.append(
            f"pickled with scikit-learn {original}, loaded with {current} "
            f"(InconsistentVersionWarning): {', '.join(sorted(names))}"
        )


@cache
def _load_profanity_check() -> tuple[Peer, ...]:
    """Load alt-profanity-check (its import unpickles the model) and wrap `predict_prob`."""
    notes: list[str] = []
    with _recording_version_warnings(notes):
        module = importlib.import_module("profanity_check")
    predict_prob: Callable[[list[str]], Any] = module.predict_prob
    for note in notes:
        logger.info("alt-profanity-check: %s", note)

    def score(batch: list[str]) -> Scores:
        return np.asarray(predict_prob(batch), dtype=np.float64)

    peer = Peer(
        name=PROFANITY_CHECK,
        # The package's own __version__ lags its releases; the distribution's version is the
        # one that names the model (it matches the scikit-learn it was trained with).
        version=importlib.metadata.version("alt-profanity-check"),
        task="P(offensive or profane), calibrated linear SVM on TF-IDF words",
        # Its README: Davidson et al. tweets plus the Jigsaw Wikipedia talk comments, of which
        # our wiki-toxicity-identity comments may be a part.
        trained_on=("davidson", "wiki-toxicity-identity"),
        load_warnings=tuple(notes),
        scorer=score,
    )
    return (peer,)


@cache
def _load_hatesonar() -> tuple[Peer, ...]:
    """Load HateSonar's ONNX model once and expose its hate and offensive probabilities."""
    session, notes = _hatesonar_session()
    version = importlib.metadata.version("hatesonar")

    def class_probabilities(batch: list[str]) -> Scores:
        # The graph takes a batch of strings and returns one {class index: probability} map
        # per text (its ZipMap output); Sonar.ping does the same one text at a time.
        rows: list[dict[int, float]] = []
        for start in range(0, len(batch), _HATESONAR_CHUNK):
            chunk = np.array(batch[start : start + _HATESONAR_CHUNK], dtype=object)
            _, chunk_rows = session.run(None, {"text": chunk})
            rows.extend(chunk_rows)
        return np.array(
            [[row[k] for k in range(len(HATESONAR_CLASSES))] for row in rows], dtype=np.float64
        )

    def hate(batch: list[str]) -> Scores:
        column: Scores = class_probabilities(batch)[:, 0]
        return column

    def offensive(batch: list[str]) -> Scores:
        total: Scores = class_probabilities(batch)[:, :2].sum(axis=1)
        return total

    common: dict[str, Any] = {
        "version": version,
        # HateSonar's trainer reads the Davidson et al. labeled_data.csv.
        "trained_on": ("davidson",),
        "load_warnings": notes,
    }
    return (
        Peer(
            name=HATESONAR_HATE,
            task="P(hate_speech) of HateSonar's 3 classes (hate / offensive / neither)",
            scorer=hate,
            **common,
        ),
        Peer(
            name=HATESONAR_OFFENSIVE,
            task="P(hate_speech) + P(offensive_language) of HateSonar's 3 classes",
            scorer=offensive,
            **common,
        ),
    )


def _hatesonar_session() -> tuple[Any, tuple[str, ...]]:
    """An onnxruntime session on HateSonar's shipped model, and notes on any workaround used.

    Raises:
        PeerError: onnxruntime cannot load the model, even with the locale workaround.
    """
    ort = importlib.import_module("onnxruntime")
    api = importlib.import_module("hatesonar.api")
    model_file = Path(api.DEFAULT_MODEL_FILE)
    ort_errors = _onnxruntime_errors()
    options = ort.SessionOptions()
    # Severity 4 (fatal only): a missing locale is handled below and should not print a C++
    # error line to stderr first.
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(
            str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return session, ()
    except ort_errors as exc:
        if "locale" not in str(exc):
            raise PeerError(f"onnxruntime cannot load {model_file}: {exc}") from exc
    try:
        session = ort.InferenceSession(
            _model_with_locale(model_file, _FALLBACK_LOCALE),
            providers=["CPUExecutionProvider"],
        )
    except ort_errors as exc:
        raise PeerError(f"onnxruntime cannot load {model_file}: {exc}") from exc
    note = (
        "the en_US.UTF-8 locale that HateSonar's StringNormalizer uses is missing here; "
        f"ran it with {_FALLBACK_LOCALE} (same lowercasing)"
    )
    logger.info("hatesonar: %s", note)
    return session, (note,)


def _model_with_locale(model_file: Path, locale: str) -> bytes:
    """The ONNX model at `model_file` with `locale` set on every StringNormalizer lacking one."""
    onnx = importlib.import_module("onnx")
    model = onnx.load(str(model_file))
    for node in model.graph.node:
        if node.op_type == "StringNormalizer" and all(a.name != "locale" for a in node.attribute):
            node.attribute.append(onnx.helper.make_attribute("locale", locale))
    data: bytes = model.SerializeToString()
    return data


def _onnxruntime_errors() -> tuple[type[BaseException], ...]:
    """The exception classes onnxruntime raises (Fail, InvalidGraph, ...), which are not OSError."""
    state = importlib.import_module("onnxruntime.capi.onnxruntime_pybind11_state")
    return tuple(
        value
        for value in vars(state).values()
        if isinstance(value, type) and issubclass(value, Exception)
    )


@dataclass(frozen=True)
class _Source:
    """One package of peers: what it needs importable, and its loader (all its peers or none)."""

    requirement: str
    modules: tuple[str, ...]
    names: tuple[str, ...]
    load: Callable[[], tuple[Peer, ...]]


_SOURCES = (
    _Source(
        requirement="alt-profanity-check==1.9.1",
        modules=("profanity_check",),
        names=(PROFANITY_CHECK,),
        load=_load_profanity_check,
    ),
    # onnx is needed only for the locale workaround, so its absence is a load failure there.
    _Source(
        requirement="hatesonar==0.1.0",
        modules=("hatesonar", "onnxruntime"),
        names=(HATESONAR_HATE, HATESONAR_OFFENSIVE),
        load=_load_hatesonar,
    ),
)
