"""Counterfactual identity swaps of dataset rows: the same sentence about another group.

Groups are named at very different rates in hateful and benign rows of the datasets (trans
people mostly in hateful ones, immigrants in HatEval's mixed ones), so a linear head learns
a weight for each group's name, and "We have a trans mayor" scores above "I hate
immigrants". A sentence keeps its label when the group it names is swapped for another
(Dixon et al. 2018; Garg et al. 2019, "Counterfactual fairness in text classification"),
so each swapped copy pulls the group words' weights toward each other.

Only rows that name exactly one group by one of the forms below are swapped, and a plural
form is replaced by a plural, an adjective by an adjective, so the copy stays grammatical.
"""

from __future__ import annotations

import random
import re

import pandas as pd

from training.augment.lexicon import GROUPS

# Surface forms per group that can stand in for each other: (plural nouns, adjectives).
_FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "jewish": (("jews",), ("jewish",)),
    "muslim": (("muslims",), ("muslim",)),
    "christian": (("christians",), ("christian",)),
    "black": (("black people", "blacks", "african americans"), ("black",)),
    "asian": (("asians", "chinese people"), ("asian",)),
    "arab": (("arabs",), ("arab",)),
    "hispanic": (("hispanics", "latinos", "mexicans"), ("hispanic", "latino", "mexican")),
    "roma": (("gypsies", "roma"), ("romani",)),
    "immigrant": (("immigrants", "refugees", "migrants"), ("immigrant",)),
    "women": (("women",), ("female",)),
    "lgbtq": (("gays", "gay people", "trans people", "lesbians", "homosexuals"), ("gay", "trans")),
    "disability": (("disabled people", "the disabled", "autistic people"), ("disabled",)),
}
_ALL = {
    form: (group, kind)
    for group, (plurals, adjectives) in _FORMS.items()
    for kind, forms in (("plural", plurals), ("adjective", adjectives))
    for form in forms
}
_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(f) for f in sorted(_ALL, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_SLUGS = tuple(g.slug for g in GROUPS)


def swap_rows(rows: pd.DataFrame, rng: random.Random, *, limit: int) -> pd.DataFrame:
    """Up to `limit` swapped copies of `rows` (columns text, hate, toxic), one per row.

    Returns text, hate, toxic, group (the new group), origin (the source swapped from).
    """
    out: list[dict[str, object]] = []
    order = list(range(len(rows)))
    rng.shuffle(order)
    texts = rows["text"].tolist()
    for i in order:
        if len(out) >= limit:
            break
        text = texts[i]
        matches = list(_PATTERN.finditer(text))
        groups = {_ALL[m.group().lower()][0] for m in matches}
        if len(groups) != 1 or len(text) > 600:
            continue
        (old,) = groups
        new = rng.choice([slug for slug in _SLUGS if slug != old])
        choice = {
            kind: rng.choice(forms)
            for kind, forms in zip(("plural", "adjective"), _FORMS[new], strict=True)
        }

        def replace(match: re.Match[str], choice: dict[str, str] = choice) -> str:
            word = choice[_ALL[match.group().lower()][1]]
            return word.capitalize() if match.group()[0].isupper() else word

        row = rows.iloc[i]
        out.append(
            {
                "text": _PATTERN.sub(replace, text),
                "hate": row["hate"],
                "toxic": row["toxic"],
                "group": new,
                "origin": row["source"],
            }
        )
    return pd.DataFrame(out, columns=["text", "hate", "toxic", "group", "origin"])
