"""The names every part of threadguard shares, importable without numpy or scikit-learn.

Heads, their labels and the scorer's output columns, and how a page's article becomes the
topic and the parent text of its top-level comments. The CLI, the batch options and the
review queue read these without loading the scoring stack.
"""

from __future__ import annotations

import re

BINARY_HEADS = ("hate", "toxic", "conspiracy")
HATE_TARGETS = (
    "jewish",
    "muslim",
    "christian",
    "black",
    "asian",
    "arab",
    "hispanic",
    "roma",
    "immigrant",
    "women",
    "lgbtq",
    "disability",
    "other",
)
STANCE_LABELS = ("favor", "against", "none")
REPLY_LABELS = ("agree", "disagree", "query", "comment")
# HateXplain's and Davidson et al.'s three annotator classes: hateful is also offensive.
SEVERITY_LABELS = ("normal", "offensive", "hateful")
# The columns the scorer answers with, in order.
OUTPUT_COLUMNS = (
    "hate",
    "hate_flag",
    "hate_target",
    "hate_target_p",
    "toxic",
    "toxic_flag",
    "conspiracy",
    "conspiracy_flag",
    "severity",
    "severity_p",
    *(f"p_severity_{label}" for label in SEVERITY_LABELS),
    "stance",
    "stance_p",
    *(f"p_stance_{label}" for label in STANCE_LABELS),
    "reply_stance",
    "reply_stance_p",
    *(f"p_reply_{label}" for label in REPLY_LABELS),
    "evidence",
    "model_version",
)


def topic_key(topic: str | None) -> str:
    """The key a topic is known by: case-folded words joined by single spaces."""
    if not topic:
        return ""
    return " ".join(re.findall(r"\w+", topic.casefold()))


ARTICLE_CONTEXT_CHARS = 2_000
TOPIC_CHARS = 300


def topic_of(title: str | None, text: str | None) -> str | None:
    """What comments take a stance toward: the title, else the article's opening."""
    if title and title.strip():
        return title.strip()[:TOPIC_CHARS]
    opening = (text or "").strip()
    return opening[:TOPIC_CHARS] if opening else None


def article_context(title: str | None, text: str | None) -> str | None:
    """The parent text of a top-level comment: the title and the article's opening."""
    joined = "\n\n".join(part for part in (title or "", text or "") if part.strip())
    return joined[:ARTICLE_CONTEXT_CHARS] or None
