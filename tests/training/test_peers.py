import importlib.util
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import InconsistentVersionWarning

from training import peers
from training.peers import (
    HATESONAR_CLASSES,
    HATESONAR_HATE,
    HATESONAR_OFFENSIVE,
    PEER_NAMES,
    PROFANITY_CHECK,
    Peer,
    PeerError,
    available_peers,
    get_peer,
    peer_unavailable_reasons,
)

# Hand-written probes: obvious insults and obvious friendly lines (no slurs needed).
INSULTS = ["you are an idiot", "fuck off, you stupid moron", "shut up you worthless piece of shit"]
GREETINGS = ["have a nice day", "thank you for the kind words", "Good morning everyone!"]

# The Python modules each real peer needs, to skip (not fail) where it is not installed.
NEEDS = {
    PROFANITY_CHECK: ("profanity_check",),
    HATESONAR_HATE: ("hatesonar", "onnxruntime", "onnx"),
    HATESONAR_OFFENSIVE: ("hatesonar", "onnxruntime", "onnx"),
}


def half(batch: list[str]) -> np.ndarray:
    return np.full(len(batch), 0.5)


def fake_peer(scorer: Callable[[list[str]], Any] = half, name: str = "fake") -> Peer:
    return Peer(name=name, version="0", task="P(test)", scorer=scorer)


def fake_source(
    names: tuple[str, ...],
    load: Callable[[], tuple[Peer, ...]],
    modules: tuple[str, ...] = ("json",),
) -> peers._Source:
    return peers._Source(requirement="fake==1", modules=modules, names=names, load=load)


def real_peer(name: str) -> Peer:
    """The real peer `name`, or a skip naming the package that is not installed."""
    for module in NEEDS[name]:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"peer {name} needs module {module!r} (pip install -e '.[compare]')")
    return get_peer(name)


# --- the contract, with fake peers ---


def test_score_returns_float_probabilities_in_order() -> None:
    peer = fake_peer(scorer=lambda batch: [float(len(t)) / 10 for t in batch])

    scores = peer.score(["a", "", "abc"])

    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores, [0.1, 0.0, 0.3])


def test_score_clips_rounding_overshoot() -> None:
    peer = fake_peer(scorer=lambda batch: [1.0000001, -1e-9])

    assert peer.score(["a", "b"]).tolist() == [1.0, 0.0]


def test_score_of_no_texts_is_empty_without_calling_the_model() -> None:
    def refuse(batch: list[str]) -> np.ndarray:
        raise AssertionError("the scorer must not see an empty batch")

    scores = fake_peer(scorer=refuse).score([])

    assert scores.shape == (0,)
    assert scores.dtype == np.float64


def test_score_accepts_any_sequence() -> None:
    assert fake_peer().score(("a", "b")).shape == (2,)


def test_score_refuses_a_single_string() -> None:
    with pytest.raises(PeerError, match="got a single string"):
        fake_peer().score("you are an idiot")


def test_score_refuses_non_strings() -> None:
    with pytest.raises(PeerError, match="text 1 is a NoneType, not a string"):
        fake_peer().score(["fine", None])  # type: ignore[list-item]


def test_score_refuses_a_wrong_number_of_scores() -> None:
    peer = fake_peer(scorer=lambda batch: np.zeros(len(batch) + 1), name="broken")

    with pytest.raises(PeerError, match=r"peer 'broken' returned scores of shape \(3,\) for 2"):
        peer.score(["a", "b"])


def test_peer_repr_hides_the_scorer() -> None:
    assert "scorer" not in repr(fake_peer())


def test_missing_and_broken_peers_are_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> tuple[Peer, ...]:
        raise ValueError("pickle from the future")

    sources = (
        fake_source(("absent",), lambda: (), modules=("no_such_module_for_threadguard",)),
        fake_source(("ok",), lambda: (fake_peer(name="ok"),)),
        fake_source(("broken-a", "broken-b"), broken),
    )
    monkeypatch.setattr(peers, "_SOURCES", sources)
    caplog.set_level(logging.DEBUG, logger="training.peers")

    assert [p.name for p in available_peers()] == ["ok"]
    reasons = peer_unavailable_reasons()

    assert set(reasons) == {"absent", "broken-a", "broken-b"}
    assert "not installed (no module no_such_module_for_threadguard)" in reasons["absent"]
    assert "pip install fake==1" in reasons["absent"]
    assert reasons["broken-a"] == (
        "installed but failed to load: ValueError: pickle from the future"
    )
    assert "peer broken-b is unavailable: installed but failed" in caplog.text


def test_get_peer_refuses_an_unknown_name() -> None:
    with pytest.raises(PeerError, match="unknown peer 'perspective'; known peers: alt-prof"):
        get_peer("perspective")


def test_get_peer_says_why_a_peer_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = (fake_source((PROFANITY_CHECK,), lambda: (), modules=("no_such_module_tg",)),)
    monkeypatch.setattr(peers, "_SOURCES", sources)

    with pytest.raises(
        PeerError, match="'alt-profanity-check' is not available here: not installed"
    ):
        get_peer(PROFANITY_CHECK)


def version_warning(estimator: str, original: str = "1.9.0") -> InconsistentVersionWarning:
    return InconsistentVersionWarning(
        estimator_name=estimator,
        current_sklearn_version="1.9.1",
        original_sklearn_version=original,
    )


def test_version_warnings_are_summed_up_and_other_warnings_pass() -> None:
    notes: list[str] = []

    with pytest.warns(UserWarning, match="unrelated"):
        with peers._recording_version_warnings(notes):
            warnings.warn(version_warning("TfidfVectorizer"), stacklevel=1)
            warnings.warn(version_warning("LinearSVC"), stacklevel=1)
            warnings.warn(version_warning("LinearSVC"), stacklevel=1)
            warnings.warn(version_warning("Pipeline", original="1.8.0"), stacklevel=1)
            warnings.warn("unrelated", UserWarning, stacklevel=1)

    assert notes == [
        "pickled with scikit-learn 1.9.0, loaded with 1.9.1 (InconsistentVersionWarning): "
        "LinearSVC, TfidfVectorizer",
        "pickled with scikit-learn 1.8.0, loaded with 1.9.1 (InconsistentVersionWarning): Pipeline",
    ]


def test_version_warnings_do_not_escape() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with peers._recording_version_warnings([]):
            warnings.warn(version_warning("X"), stacklevel=1)


# --- the real peers, where installed ---


@pytest.mark.parametrize("name", PEER_NAMES)
def test_real_peer_scores_are_probabilities_of_the_right_length(name: str) -> None:
    peer = real_peer(name)
    texts = [*INSULTS, "", *GREETINGS, "   ", "émoji 🙂 ÜBER"]

    scores = peer.score(texts)

    assert scores.shape == (len(texts),)
    assert scores.dtype == np.float64
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    assert peer.version
    assert peer.task


@pytest.mark.parametrize("name", PEER_NAMES)
def test_real_peer_ranks_insults_above_greetings(name: str) -> None:
    peer = real_peer(name)

    insults, greetings = peer.score(INSULTS), peer.score(GREETINGS)

    assert insults.min() > greetings.max(), (insults, greetings)


@pytest.mark.parametrize("name", PEER_NAMES)
def test_real_peer_scores_a_text_the_same_alone_or_in_a_batch(name: str) -> None:
    peer = real_peer(name)
    texts = [*INSULTS, "", *GREETINGS] * 50  # crosses HateSonar's 128-text chunks

    batch = peer.score(texts)
    alone = np.array([peer.score([t])[0] for t in texts[:7]])

    np.testing.assert_allclose(batch[:7], alone, rtol=1e-6)
    np.testing.assert_allclose(batch[7:14], alone, rtol=1e-6)


def test_profanity_check_matches_its_own_api() -> None:
    peer = real_peer(PROFANITY_CHECK)
    from profanity_check import predict_prob

    texts = [*INSULTS, *GREETINGS]

    np.testing.assert_allclose(peer.score(texts), predict_prob(texts))


def test_hatesonar_matches_its_own_api(tmp_path: Path) -> None:
    hate, offensive = real_peer(HATESONAR_HATE), real_peer(HATESONAR_OFFENSIVE)
    from hatesonar import Sonar
    from hatesonar.api import DEFAULT_MODEL_FILE

    # Sonar's own model file needs the en_US.UTF-8 locale; the same graph with C.UTF-8 set
    # (what the peer falls back to) loads everywhere, through Sonar's public constructor.
    model_file = tmp_path / "model.onnx"
    model_file.write_bytes(peers._model_with_locale(Path(DEFAULT_MODEL_FILE), "C.UTF-8"))
    sonar = Sonar(model_file)
    texts = [*INSULTS, "", *GREETINGS]

    expected = np.array([[c["confidence"] for c in sonar.ping(t)["classes"]] for t in texts])

    assert [c["class_name"] for c in sonar.ping("x")["classes"]] == list(HATESONAR_CLASSES)
    np.testing.assert_allclose(hate.score(texts), expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(offensive.score(texts), expected[:, :2].sum(axis=1), rtol=1e-6)


def test_hatesonar_peers_say_which_class_they_score() -> None:
    hate, offensive = real_peer(HATESONAR_HATE), real_peer(HATESONAR_OFFENSIVE)

    assert hate.task.startswith("P(hate_speech) of")
    assert offensive.task.startswith("P(hate_speech) + P(offensive_language)")
    assert hate.trained_on == ("davidson",)
