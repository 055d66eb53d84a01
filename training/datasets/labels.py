"""The one table that maps every dataset's own label values onto threadguard's label heads.

Loaders never decide a label themselves: they turn each source row into an `original` label
string (the raw value, or for scores a named band such as ``score>0.5``) and look it up here,
so every mapping decision, and the reason for it, is in one reviewable place. A value that is
not in the table is an error, not a silent default. The group code books (which source words
mean which `HATE_TARGETS` entry) live here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.datasets.schema import DatasetError


class LabelError(DatasetError):
    """A dataset holds a label value that the mapping table does not cover."""

    code = "label_error"


@dataclass(frozen=True)
class LabelMapping:
    """How one label value of one dataset maps onto the heads (None = says nothing).

    `tag` marks every row with this value (e.g. PAN's CRITICAL texts are "critical");
    `drop` leaves such rows out altogether (undecided, unannotated, notes).
    """

    dataset: str
    original: str
    hate: float | None
    toxic: float | None
    conspiracy: float | None
    stance: str | None
    reply_stance: str | None
    why: str
    tag: str | None = None
    drop: bool = False


def _hate(
    dataset: str, original: str, hate: float | None, why: str, *, tag: str | None = None
) -> LabelMapping:
    return LabelMapping(dataset, original, hate, None, None, None, None, why, tag=tag)


def _toxic(dataset: str, original: str, toxic: float, why: str) -> LabelMapping:
    return LabelMapping(dataset, original, None, toxic, None, None, None, why)


def _conspiracy(
    dataset: str, original: str, value: float, why: str, *, tag: str | None = None
) -> LabelMapping:
    return LabelMapping(dataset, original, None, None, value, None, None, why, tag=tag)


def _stance(dataset: str, original: str, stance: str, why: str) -> LabelMapping:
    return LabelMapping(dataset, original, None, None, None, stance, None, why)


def _reply(dataset: str, original: str, reply_stance: str, why: str) -> LabelMapping:
    return LabelMapping(dataset, original, None, None, None, None, reply_stance, why)


def _dropped(dataset: str, original: str, why: str) -> LabelMapping:
    return LabelMapping(dataset, original, None, None, None, None, None, why, drop=True)


# Free-text notes some RedditBias annotators typed into bias_sent instead of 0/1.
_REDDITBIAS_NOTES = (
    "biased?",
    "re-state",
    "question",
    "1 - context needed",
    "toxic-unrelated",
    "fact?",
)

LABEL_MAPPINGS: tuple[LabelMapping, ...] = (
    # --- hate speech ------------------------------------------------------------------
    LabelMapping("hatexplain", "normal", 0.0, 0.0, None, None, None, "Majority said normal."),
    LabelMapping(
        "hatexplain", "hatespeech", 1.0, 1.0, None, None, None, "Hate speech is also toxic."
    ),
    LabelMapping(
        "hatexplain", "offensive", 0.0, 1.0, None, None, None, "Offensive is toxic, not hate."
    ),
    _dropped("hatexplain", "undecided", "No 2-of-3 majority, so no reliable label."),
    _hate("dynahate", "hate", 1.0, "Annotated hateful; DynaHate has no separate toxicity."),
    _hate("dynahate", "nothate", 0.0, "Not hateful, but may still be rude, so toxic says nothing."),
    LabelMapping(
        "sbic",
        "offensive_group",
        1.0,
        1.0,
        None,
        None,
        None,
        "Offensive (offensiveYN>=0.5) and aimed at a group (whoTarget>=0.5) is hate.",
    ),
    LabelMapping(
        "sbic",
        "offensive_no_group",
        0.0,
        1.0,
        None,
        None,
        None,
        "Offensive but aimed at no group is toxic, not hate.",
    ),
    LabelMapping("sbic", "not_offensive", 0.0, 0.0, None, None, None, "offensiveYN<0.5: neither."),
    _hate("redditbias", "1", 1.0, "Biased/stereotyping comment about the file's group."),
    _hate("redditbias", "0", 0.0, "Annotated as not biased toward the group."),
    _dropped("redditbias", "2", "Undocumented third value in the female file."),
    _dropped("redditbias", "", "Left unannotated by the RedditBias authors."),
    *(
        _dropped("redditbias", note, "A free-text annotator note, not a label.")
        for note in _REDDITBIAS_NOTES
    ),
    _hate("stormfront", "hate", 1.0, "Sentence is hate speech on its own."),
    _hate("stormfront", "noHate", 0.0, "Sentence is not hate speech."),
    _dropped("stormfront", "relation", "Hateful only together with neighbouring sentences."),
    _dropped("stormfront", "idk/skip", "Annotators could not decide."),
    LabelMapping("davidson", "0", 1.0, 1.0, None, None, None, "Class 0 is hate speech."),
    LabelMapping("davidson", "1", 0.0, 1.0, None, None, None, "Class 1 is offensive but not hate."),
    LabelMapping("davidson", "2", 0.0, 0.0, None, None, None, "Class 2 is neither."),
    _hate("ethos", "isHate>=0.5", 1.0, "At least half the annotators called it hate."),
    _hate("ethos", "isHate<0.5", 0.0, "Fewer than half called it hate; rudeness unknown."),
    _hate("toxigen-seeds", "hate", 1.0, "Curated hateful seed statement about the group."),
    _hate("toxigen-seeds", "neutral", 0.0, "Curated benign statement about the group."),
    _hate(
        "fox-news-comments",
        "1",
        1.0,
        "Gao & Huang define hateful as attacking a person or group for identity.",
    ),
    _hate("fox-news-comments", "0", 0.0, "Not hateful; rudeness was not annotated."),
    _hate("tweeteval-hate", "1", 1.0, "HatEval hate against immigrants or women."),
    _hate("tweeteval-hate", "0", 0.0, "Not hateful toward immigrants or women."),
    _hate("antisemitism-4chan-pol", "1", 1.0, "Annotated antisemitic."),
    _hate("antisemitism-4chan-pol", "0", 0.0, "Not antisemitic and free of slur keywords."),
    _hate(
        "antisemitism-4chan-pol",
        "0_with_slur",
        None,
        "0 means only 'not antisemitic'; with a slur or racist keyword it may be other hate.",
    ),
    _hate("antisemitism-tweets-handlabeled", "1", 1.0, "Hand-labelled antisemitic."),
    _hate("antisemitism-tweets-handlabeled", "0", 0.0, "Hand-labelled not antisemitic."),
    _hate("mhs-jewish", "score>0.5", 1.0, "MHS card: a score above 0.5 is hate speech."),
    _hate(
        "mhs-jewish",
        "score<-1",
        0.0,
        "MHS card: below -1 is supportive or counter speech.",
        tag="counter_speech",
    ),
    _hate(
        "mhs-jewish",
        "-1<=score<=0.5",
        None,
        "Neutral/ambiguous band: kept for evaluation, not a training label.",
    ),
    *(
        _hate(
            "israel-palestine-reddit-stance",
            sentiment,
            0.0,
            "Political talk about Israel/Gaza, whichever side, must not flag as hate.",
            tag="political",
        )
        for sentiment in ("Pro-Israel", "Pro-Palestine", "Neutral")
    ),
    # --- toxicity -----------------------------------------------------------------------
    _toxic(
        "civil-toxic-spans",
        "raters_agree_toxic",
        1.0,
        "Most span raters did not tick 'not toxic', agreeing with the original crowd.",
    ),
    _toxic(
        "civil-toxic-spans",
        "raters_disagree",
        0.0,
        "Borderline: raters disagreed with the original crowd (half or more ticked).",
    ),
    _dropped("civil-toxic-spans", "unrated", "No span rater saw the post, so it cannot be graded."),
    _toxic("wiki-toxicity-identity", "True", 1.0, "Wikipedia Talk comment rated toxic."),
    _toxic("wiki-toxicity-identity", "False", 0.0, "Wikipedia Talk comment rated not toxic."),
    _toxic("wiki-toxicity-fuzzed", "True", 1.0, "Same label as the unfuzzed comment."),
    _toxic("wiki-toxicity-fuzzed", "False", 0.0, "Same label as the unfuzzed comment."),
    _toxic("bias-madlibs", "BAD", 1.0, "Templated sentence built to be toxic."),
    _toxic("bias-madlibs", "NOT_BAD", 0.0, "Templated sentence built to be benign."),
    _toxic("tweeteval-offensive", "1", 1.0, "OLID offensive: insults, profanity, threats."),
    _toxic("tweeteval-offensive", "0", 0.0, "OLID not offensive."),
    # --- conspiracy ---------------------------------------------------------------------
    *(
        mapping
        for dataset in ("pan2024-oppositional-train", "pan2024-oppositional")
        for mapping in (
            _conspiracy(dataset, "CONSPIRACY", 1.0, "Conspiracy narrative (secret plot)."),
            _conspiracy(
                dataset,
                "CRITICAL",
                0.0,
                "Critical of authorities without a secret plot: a hard negative.",
                tag="critical",
            ),
        )
    ),
    _conspiracy("covid-vaccine-conspiracy", "1", 1.0, "Labelled as a vaccine conspiracy."),
    _conspiracy("covid-vaccine-conspiracy", "0", 0.0, "Labelled as no conspiracy."),
    _conspiracy("prct-youtube", "PRCT", 1.0, "Human-checked Great Replacement conspiracy."),
    _conspiracy("prct-youtube", "Non-PRCT", 0.0, "Human-checked: no replacement conspiracy."),
    # --- stance -------------------------------------------------------------------------
    _stance("tweeteval-stance", "0", "none", "TweetEval mapping: 0 none."),
    _stance("tweeteval-stance", "1", "against", "TweetEval mapping: 1 against."),
    _stance("tweeteval-stance", "2", "favor", "TweetEval mapping: 2 favor."),
    _stance("vast", "FAVOR", "favor", "In favour of the topic phrase."),
    _stance("vast", "AGAINST", "against", "Against the topic phrase."),
    _stance("vast", "NONE", "none", "Neutral or no stance toward the topic phrase."),
    # --- reply stance -------------------------------------------------------------------
    _reply("rumoureval2019", "support", "agree", "Supporting the rumour is agreeing."),
    _reply("rumoureval2019", "deny", "disagree", "Denying the rumour is disagreeing."),
    _reply("rumoureval2019", "query", "query", "Asks for evidence."),
    _reply("rumoureval2019", "comment", "comment", "Comments without taking a side."),
    _reply("debagreement", "0", "disagree", "DEBAGREEMENT 0 is disagree."),
    _reply("debagreement", "1", "comment", "Neutral replies take no side, like a comment."),
    _reply("debagreement", "2", "agree", "DEBAGREEMENT 2 is agree."),
)

_INDEX: dict[tuple[str, str], LabelMapping] = {
    (mapping.dataset, mapping.original): mapping for mapping in LABEL_MAPPINGS
}


def lookup(dataset: str, original: str) -> LabelMapping:
    """The mapping row for one label value of one dataset.

    Raises:
        LabelError: the table has no row for that value.
    """
    try:
        return _INDEX[(dataset, original)]
    except KeyError:
        raise LabelError(
            f"{dataset}: label value {original!r} is not in the mapping table", field="label"
        ) from None


def map_labels(frame: pd.DataFrame, dataset: str, originals: pd.Series) -> pd.DataFrame:
    """`frame` with the label heads (and tags) set from `originals`; dropped values removed.

    `originals` holds each row's label value as the table spells it, aligned with `frame`.
    Heads the table leaves as None become NaN; tags from the table replace `tag`.

    Raises:
        LabelError: some value is not in the mapping table.
    """
    unknown = sorted(
        {str(value) for value in originals.unique() if (dataset, str(value)) not in _INDEX}
    )
    if unknown:
        shown = ", ".join(repr(value) for value in unknown[:10])
        raise LabelError(
            f"{dataset}: label value(s) not in the mapping table: {shown}", field="label"
        )
    keys = originals.astype(str)
    rows = {value: _INDEX[(dataset, value)] for value in keys.unique()}
    out = frame.copy()
    for head in ("hate", "toxic", "conspiracy"):
        values = {value: _float(getattr(row, head)) for value, row in rows.items()}
        out[head] = keys.map(values).astype("float64")
    for head in ("stance", "reply_stance"):
        out[head] = keys.map({value: getattr(row, head) for value, row in rows.items()})
    tags = keys.map({value: row.tag for value, row in rows.items()})
    if "tag" in out.columns:
        out["tag"] = tags.where(tags.notna(), out["tag"])
    else:
        out["tag"] = tags
    keep = ~keys.map({value: row.drop for value, row in rows.items()}).astype(bool)
    return out.loc[keep.to_numpy()]


def label_strings(values: pd.Series) -> pd.Series:
    """Label values as the mapping table spells them: whole numbers as "0"/"1", NaN as ""."""
    return values.map(spell_label).astype("str")


def spell_label(value: object) -> str:
    """One label value as the table spells it (1, 1.0 and "1.0" all become "1")."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else str(value)
    text = str(value).strip()
    # A column mixing numbers and notes is read as text, so "1.0" must match "1" too.
    if _WHOLE_NUMBER.fullmatch(text):
        return str(int(float(text)))
    return text


_WHOLE_NUMBER = re.compile(r"-?\d+(?:\.0+)?")


def _float(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def datasets_in_table() -> frozenset[str]:
    """Every dataset (source) name that has rows in the mapping table."""
    return frozenset(mapping.dataset for mapping in LABEL_MAPPINGS)


# --- group code books --------------------------------------------------------------------

# Every code that occurs in the DynaHate dev/test files, mapped deliberately. None means the
# row names no target. Compound codes ("bla.wom") go to the group the code starts with;
# groups outside HATE_TARGETS (working class, Nazis, old people, ...) go to "other".
DYNAHATE_TARGETS: dict[str, str | None] = {
    "none": None,
    "notgiven": None,
    "notargetrecorded": None,
    "jew": "jewish",
    "mus": "muslim",
    "mus.wom": "muslim",
    "chr": "christian",
    "bla": "black",
    "bla.man": "black",
    "bla.wom": "black",
    "african": "black",
    "wom": "women",
    "immig": "immigrant",
    "ref": "immigrant",
    "asylum": "immigrant",
    "for": "immigrant",  # "foreigners" in the DynaHate code book
    "gay": "lgbtq",
    "gay.man": "lgbtq",
    "gay.wom": "lgbtq",
    "bis": "lgbtq",
    "trans": "lgbtq",
    "lgbtq": "lgbtq",
    "gendermin": "lgbtq",
    "dis": "disability",
    "arab": "arab",
    "asi": "asian",
    "asi.south": "asian",
    "asi.east": "asian",
    "asi.chin": "asian",
    "asi.pak": "asian",
    "asi.wom": "asian",
    "chinese": "asian",
    "hispanic": "hispanic",
    "latinx": "hispanic",
    "trav": "roma",  # Travellers, which the code book counts with Roma and Gypsies
    "gypsy": "roma",
    "roma": "roma",
    "indig": "other",
    "indig.wom": "other",
    "mixed.race": "other",
    "non.white": "other",
    "ethnic.minority": "other",
    "eastern.europe": "other",
    "pol": "other",
    "russian": "other",
    "other.national": "other",
    "other.religion": "other",
    "other.glorification": "other",
    "wc": "other",
    "old.people": "other",
    "nazis": "other",
    "hitler": "other",
}


def dynahate_target(codes: object) -> str | None:
    """The HATE_TARGETS entry for a DynaHate target field (comma-joined codes), or None."""
    if not isinstance(codes, str):
        return None
    mapped = [DYNAHATE_TARGETS.get(code.strip(), "other") for code in codes.split(",")]
    return _first_specific(mapped)


def _first_specific(mapped: Iterable[str | None]) -> str | None:
    # Several groups: the first named one wins, so a row about "wc, immig" counts for
    # immigrants rather than disappearing into "other".
    present = [target for target in mapped if target is not None]
    specific = [target for target in present if target != "other"]
    if specific:
        return specific[0]
    return "other" if present else None


TOXIGEN_TARGETS: dict[str, str] = {
    "asian": "asian",
    "chinese": "asian",
    "black": "black",
    "jewish": "jewish",
    "muslim": "muslim",
    "latino": "hispanic",
    "mexican": "hispanic",
    "middle_east": "arab",
    "immigrant": "immigrant",
    "women": "women",
    "lgbtq": "lgbtq",
    "bisexual": "lgbtq",
    "trans": "lgbtq",
    "mental_disability": "disability",
    "mental_dis": "disability",
    "physical_disability": "disability",
    "physical_dis": "disability",
    "native_american": "other",
}

REDDITBIAS_GROUPS: dict[str, str] = {
    "religion1_jews": "jewish",
    "religion2_muslims": "muslim",
    "race_black": "black",
    "gender_female": "women",
    "orientation_lgbtq": "lgbtq",
}

# SBIC's targetMinority is free text typed by annotators (~380 distinct phrases). Each
# phrase goes to the first pattern that matches; the order puts the narrower group first
# ("lesbian women" is lgbtq, "black jew" is jewish). Holocaust jokes are counted as about
# Jews, which is what they are in SBIC. Unmatched phrases (victims, liberals, ...) -> other.
SBIC_TARGET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (target, re.compile(pattern))
    for target, pattern in (
        ("jewish", r"\bjew|holocaust|israel"),
        (
            "lgbtq",
            r"\bgays?\b|lesbian|\btrans\b|bisexual|lgbt|homosexual|non-?binary|non binary"
            r"|gender fluid|asexual|queer",
        ),
        ("muslim", r"muslim|islam"),
        ("christian", r"christian|catholic|priest|\bnuns?\b|mormon|jehova"),
        ("arab", r"arab|middle east|syria|saudi|lebanese"),
        ("roma", r"gyps|\broma\b"),
        (
            "hispanic",
            r"latin[oax]|hispanic|mexic|puerto ric|dominican|colombia|brazil",
        ),
        (
            "black",
            r"\bblacks?\b|african|\bafrica\b|ethiop|etiop|ehiop|ethip|niger|haiti|jamai|mulatto",
        ),
        (
            "asian",
            r"asian|chinese|japanese|korea|vietnam|veitnam|\bindians?\b|\bindia\b|pakistan"
            r"|filipin|\bthai\b|oriental",
        ),
        ("immigrant", r"immigra|refugee|migrant|non-americans|do not speak english"),
        (
            "disability",
            r"disab|mental|illness|disorder|autis|austis|aspberg|\bblind\b|dwar[fv]"
            r"|little people",
        ),
        ("women", r"\bwom[ae]n\b|\bgirls?\b|feminis|femininist|female"),
    )
)


def sbic_phrase_target(phrase: str) -> str:
    """The HATE_TARGETS entry for one SBIC target phrase (other when no group matches)."""
    lowered = phrase.strip().lower()
    for target, pattern in SBIC_TARGET_PATTERNS:
        if pattern.search(lowered):
            return target
    return "other"


def sbic_target(phrases: Iterable[str]) -> str | None:
    """The most named HATE_TARGETS entry over all annotators' phrases (ties: first named)."""
    counts: dict[str, int] = {}
    for phrase in phrases:
        for part in phrase.split(","):
            if part.strip():
                target = sbic_phrase_target(part)
                counts[target] = counts.get(target, 0) + 1
    if not counts:
        return None
    specific = {target: n for target, n in counts.items() if target != "other"}
    pool = specific or counts
    # dicts keep insertion order, so max() returns the first-named group among equals.
    return max(pool, key=lambda target: pool[target])
