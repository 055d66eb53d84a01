"""Social Bias Frames' implied statements as hateful rows, and their negations as benign ones.

SBIC annotators wrote down what an offensive post implies about the group it targets
("jews control the media", "women are objects"). The posts are jokes and tweets whose
hostility is implicit; the statements are the stereotype said outright, which is how
tropes appear in comments and what the hate head missed ("Jews control the banks and the
media" scored .43). Only statements that name a protected group and make a claim about it
are kept: annotators also wrote descriptions of the post ("trivializes harm to victims")
and historical facts ("were killed in the holocaust"), which are not hate. Statements of
posts in SBIC's test file are never used; those of dev posts follow their post's split.

A stated stereotype negated ("jews are not greedy") is not hate. Negated copies teach that
"not" changes the claim, so the head does not learn the stereotype's nouns alone.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pandas as pd

from training.datasets import labels
from training.datasets.reading import read_csv, text_keys
from training.datasets.splits import TRAIN_VAL, hash_split

_GROUP_WORDS = (
    r"black|blacks|african|africans|african americans|women|woman|girls|jewish|jews|jew|"
    r"muslims?|islam|gay|gays|lesbians?|trans|transgender|asians?|chinese|japanese|koreans?|"
    r"mexicans?|latinos?|latinas?|hispanics?|immigrants?|refugees?|arabs?|arabic|indians?|"
    r"disabled|mentally disabled|physically disabled|ethiopians?|christians?|catholics?|"
    r"gypsies|roma|homosexuals?|bisexuals?|feminists?"
)
_STATEMENT = re.compile(
    rf"^(?:all |most |the )?(?:{_GROUP_WORDS})(?: (?:folks|people|men|women|americans|kids))?"
    r" (?:are|is|were not|should|shouldn't|can't|cannot|deserve|don't|do not|have|want|"
    r"control|rule|run|own|only|never|always|smell|steal|like|love|hate|belong|need|must|"
    r"aren't|will|ruin|destroy|bring|cause|commit|get|make|take)\b",
    re.IGNORECASE,
)
# Historical facts and descriptions of the post, not claims about the group.
_NOT_A_CLAIM = re.compile(
    r"\b(?:were (?:killed|victims|gassed|burned|burnt|massacred|enslaved|rounded up)|"
    r"died in|holocaust happened|trivializ|trivialis|makes light|making fun|joke|"
    r"are victims|are oppressed|are discriminated|face discrimination|known for being|"
    r"get (?:shot|killed|arrested|lynched|pepper sprayed|beaten)|(?:are|is) not)\b",
    re.IGNORECASE,
)
_NEGATABLE = re.compile(r"^(?P<subject>.+?) (?P<verb>are|is) (?P<rest>(?!not\b).+)$", re.IGNORECASE)


def stereotype_rows(data_dir: Path, rng: random.Random) -> pd.DataFrame:
    """Hateful statements (hate 1) and negations (hate 0) from SBIC dev posts in train.

    Returns columns text, hate, toxic, group, kind ("statement" or "negation").
    """
    raw = read_csv(
        data_dir,
        "sbic/SBIC.v2.agg.dev.csv",
        columns=("post", "targetMinority", "targetStereotype", "offensiveYN", "whoTarget"),
    )
    raw = raw.loc[raw["post"].notna()].copy()
    # The loader's own split of SBIC dev posts: statements follow their post.
    raw["split"] = hash_split(text_keys(raw["post"]), TRAIN_VAL, salt="sbic")
    chosen = raw[(raw["split"] == "train") & raw["offensiveYN"].ge(0.5) & raw["whoTarget"].ge(0.5)]
    out: list[dict[str, object]] = []
    seen: set[str] = set()
    for minorities, stereotypes in zip(
        chosen["targetMinority"], chosen["targetStereotype"], strict=True
    ):
        group = labels.sbic_target(_json_list(minorities))
        if group is None or group == "other":
            continue
        for statement in _json_list(stereotypes):
            text = " ".join(statement.split()).rstrip(".")
            key = text.lower()
            words = len(text.split())
            if key in seen or not 3 <= words <= 20:
                continue
            if not _STATEMENT.match(text) or _NOT_A_CLAIM.search(text):
                continue
            seen.add(key)
            out.append(
                {"text": text, "hate": 1.0, "toxic": 1.0, "group": group, "kind": "statement"}
            )
            negated = _NEGATABLE.match(text)
            if negated and rng.random() < 0.5:
                text_not = f"{negated['subject']} {negated['verb']} not {negated['rest']}"
                out.append(
                    {"text": text_not, "hate": 0.0, "toxic": 0.0, "group": None, "kind": "negation"}
                )
    return pd.DataFrame(out, columns=["text", "hate", "toxic", "group", "kind"])


def _json_list(value: object) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return []
    return [str(item) for item in parsed] if isinstance(parsed, list) else []
