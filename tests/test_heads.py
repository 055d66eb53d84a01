import numpy as np

from app.heads import compile_head, reply_matrix, stance_matrix
from app.registry import LoadedModel, default_model_dir, load_current

TEXTS = ["you are an idiot and a moron", "thanks for the thoughtful article", "", "zio swamp!!"]


def _check_every_head(model: LoadedModel) -> None:
    bundle = model.bundle
    x = bundle.features.transform(TEXTS)
    for head, estimator in bundle.binary.items():
        fast = model.compiled.binary[head].predict_proba(x)
        np.testing.assert_allclose(fast, estimator.predict_proba(x), rtol=1e-6, atol=1e-9)
    words = x[:, bundle.features.blocks_.word]
    np.testing.assert_allclose(
        compile_head(bundle.hate_target).predict_proba(words),
        bundle.hate_target.predict_proba(words),
        rtol=1e-6,
        atol=1e-6,
    )
    topics = ["Nuclear power"] * len(TEXTS)
    xs = stance_matrix(
        bundle.features,
        x,
        bundle.features.transform(topics),
        bundle.features.normalise_all(TEXTS),
        topics,
        bundle.stance_topics,
    )
    np.testing.assert_allclose(
        model.compiled.stance.predict_proba(xs), bundle.stance.predict_proba(xs), atol=1e-6
    )
    options: dict[str, object] = {"parent_weight": bundle.reply_parent_weight}
    if bundle.reply_cues:
        options.update(texts=TEXTS, parents=TEXTS[::-1])
    xr = reply_matrix(bundle.features, x, x[::-1], **options)  # type: ignore[arg-type]
    np.testing.assert_allclose(
        model.compiled.reply_stance.predict_proba(xr),
        bundle.reply_stance.predict_proba(xr),
        atol=1e-6,
    )


def _check_topic_heads(model: LoadedModel) -> None:
    x = model.bundle.features.transform(TEXTS)
    for key, estimator in model.bundle.stance_topic_heads:
        np.testing.assert_allclose(
            model.compiled.stance_topics[key].predict_proba(x),
            estimator.predict_proba(x),
            atol=1e-6,
        )


def test_compiled_heads_give_scikit_learns_probabilities(tiny_model: LoadedModel) -> None:
    _check_every_head(tiny_model)
    _check_topic_heads(tiny_model)


def test_compiled_heads_of_the_shipped_bundle_match() -> None:
    model = load_current(default_model_dir())
    _check_every_head(model)
    _check_topic_heads(model)
