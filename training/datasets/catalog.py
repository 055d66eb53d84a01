"""The registry of dataset loaders and `load_all`, which combines them into one clean frame.

`LOADERS` is keyed by the dataset names of data/datasets.toml (the directory name, or
``tweeteval-<task>`` for TweetEval's task folders); `threads/` holds parser fixtures, not
training data, and has no loader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from training.datasets.conspiracy import (
    load_covid_vaccine_conspiracy,
    load_pan2024_oppositional,
    load_pan2024_oppositional_train,
    load_prct_youtube,
)
from training.datasets.dedupe import DedupeReport, dedupe
from training.datasets.hate import (
    load_antisemitism_4chan_pol,
    load_antisemitism_tweets_handlabeled,
    load_davidson,
    load_dynahate,
    load_ethos,
    load_fox_news_comments,
    load_hatexplain,
    load_israel_palestine_reddit_stance,
    load_mhs_jewish,
    load_redditbias,
    load_sbic,
    load_stormfront,
    load_toxigen_seeds,
    load_tweeteval_hate,
)
from training.datasets.schema import DatasetError, empty_frame, validate
from training.datasets.stance import (
    load_debagreement,
    load_rumoureval2019,
    load_tweeteval_stance,
    load_vast,
)
from training.datasets.toxic import (
    load_civil_toxic_spans,
    load_tweeteval_offensive,
    load_wiki_toxicity_identity,
)

Loader = Callable[[Path], pd.DataFrame]

LOADERS: dict[str, Loader] = {
    "hatexplain": load_hatexplain,
    "dynahate": load_dynahate,
    "sbic": load_sbic,
    "redditbias": load_redditbias,
    "stormfront": load_stormfront,
    "davidson": load_davidson,
    "ethos": load_ethos,
    "toxigen-seeds": load_toxigen_seeds,
    "civil-toxic-spans": load_civil_toxic_spans,
    "wiki-toxicity-identity": load_wiki_toxicity_identity,
    "fox-news-comments": load_fox_news_comments,
    "tweeteval-hate": load_tweeteval_hate,
    "tweeteval-offensive": load_tweeteval_offensive,
    "tweeteval-stance": load_tweeteval_stance,
    "vast": load_vast,
    "pan2024-oppositional-train": load_pan2024_oppositional_train,
    "pan2024-oppositional": load_pan2024_oppositional,
    "covid-vaccine-conspiracy": load_covid_vaccine_conspiracy,
    "prct-youtube": load_prct_youtube,
    "rumoureval2019": load_rumoureval2019,
    "debagreement": load_debagreement,
    "antisemitism-4chan-pol": load_antisemitism_4chan_pol,
    "antisemitism-tweets-handlabeled": load_antisemitism_tweets_handlabeled,
    "mhs-jewish": load_mhs_jewish,
    "israel-palestine-reddit-stance": load_israel_palestine_reddit_stance,
}


def load_all(
    data_dir: Path, names: Iterable[str] | None = None, *, include_eval_only: bool = True
) -> tuple[pd.DataFrame, DedupeReport]:
    """Load, validate, combine and dedupe the named datasets (all when `names` is None).

    Raises:
        DatasetError: the data dir or a file is missing or unreadable, a name is unknown,
            a label value is unmapped, or a loader's frame breaks the schema.
    """
    if not data_dir.is_dir():
        raise DatasetError(f"data dir does not exist or is not a directory: {data_dir}")
    chosen = list(LOADERS) if names is None else list(dict.fromkeys(names))
    if unknown := [name for name in chosen if name not in LOADERS]:
        raise DatasetError(
            f"unknown dataset {', '.join(unknown)} (known: {', '.join(sorted(LOADERS))})",
            field="names",
        )
    frames = []
    for name in chosen:
        frame = LOADERS[name](data_dir)
        validate(frame, dataset=name)
        frames.append(frame)
    combined = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    # Eval-only rows take part in dedupe even when they are left out afterwards, so the
    # training rows are the same whether or not the caller evaluates on the probes.
    combined, report = dedupe(combined)
    if not include_eval_only:
        combined = combined.loc[~combined["eval_only"]].reset_index(drop=True)
    return combined, report
