"""The one scoring function: a DataFrame of comments in, one row of labels per comment out.

Every entry point (CLI, HTTP, batch, queue) calls `score_frame`; a single comment is a batch
of one and a thread goes through `score_thread`, which adds the tree-reconciled stance.
Pure: no I/O, no globals, the model is an argument.

Thread stance: a comment's stance toward the thread's topic is read two ways. The direct
model reads the comment and the topic. The tree reads the comment's reply stance toward its
parent and the parent's (already reconciled) stance: agreeing inherits it, disagreeing flips
favor and against, a query or a plain comment carries nothing. The article itself counts as
"favor" — the topic is what the article says. The two are mixed with the weight the reply
head gives agree + disagree: a confident "I agree" follows the tree, a comment that argues
on its own terms keeps its direct stance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from app.domain import Thread
from app.errors import AppError
from app.evidence import evidence_by_head
from app.features import thread_frame, topic_key
from app.heads import (
    BINARY_HEADS,
    REPLY_LABELS,
    SEVERITY_LABELS,
    STANCE_LABELS,
    LinearHead,
    decide,
    linear_weights,
    ordered,
    reply_matrix,
    stance_matrix,
)
from app.labels import OUTPUT_COLUMNS
from app.registry import LoadedModel
from app.sentences import original_slice, window_maps
from app.textnorm import Normalised

# A comment longer than a long essay is not a comment; the HTTP layer enforces a tighter cap.
MAX_TEXT_CHARS = 100_000
EVIDENCE_TOP = 5
INPUT_COLUMNS = ("text", "parent_text", "topic")


class ScoringInputError(AppError):
    """A row handed to the scorer is not something it can score."""

    status_code = 422
    code = "invalid_input"


def score_frame(
    model: LoadedModel, frame: pd.DataFrame, *, evidence_top: int = EVIDENCE_TOP
) -> pd.DataFrame:
    """Score every row of `frame` (columns text, optional parent_text and topic), in order.

    Returns a frame with the same index and the columns of OUTPUT_COLUMNS. `stance` is None
    where a row has no topic, `reply_stance` None where it has no parent text; `evidence`
    maps each raised flag to the words that pushed it up.

    Raises:
        ScoringInputError: no `text` column, or a value that is not text, or is too long.
    """
    texts = _column(frame, "text", required=True)
    parents = _column(frame, "parent_text", required=False)
    topics = _column(frame, "topic", required=False)
    if not texts:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in OUTPUT_COLUMNS})
    columns = _score_columns(model, texts, parents, topics, evidence_top)
    index = frame.index
    return pd.DataFrame(
        {
            name: (
                pd.Series(values, index=index, dtype=object)
                if isinstance(values, list)
                else pd.Series(values, index=index)
            )
            for name, values in columns.items()
        },
        index=index,
    )


def score_rows(
    model: LoadedModel,
    texts: Sequence[str],
    parent_texts: Sequence[str | None],
    topics: Sequence[str | None],
    *,
    evidence_top: int = EVIDENCE_TOP,
) -> list[dict[str, Any]]:
    """`score_frame`'s rows as dicts of plain values, for callers that answer in JSON.

    The same computation without a DataFrame on either side: for a single comment, building
    and taking apart the frames costs as much as a third of the scoring.

    Raises:
        ScoringInputError: as `score_frame`.
    """
    frame_like: dict[str, list[Any]] = {
        "text": list(texts),
        "parent_text": list(parent_texts),
        "topic": list(topics),
    }
    checked = {
        name: _checked(values, name, required=name == "text") for name, values in frame_like.items()
    }
    if not checked["text"]:
        return []
    columns = _score_columns(
        model, checked["text"], checked["parent_text"], checked["topic"], evidence_top
    )
    names = list(columns)
    plain = [
        values if isinstance(values, list) else np.asarray(values).tolist()
        for values in columns.values()
    ]
    return [dict(zip(names, row, strict=True)) for row in zip(*plain, strict=True)]


def _score_columns(
    model: LoadedModel,
    texts: list[str],
    parents: list[str | None],
    topics: list[str | None],
    evidence_top: int,
) -> dict[str, Any]:
    """The scoring itself: one array or list per output column, in OUTPUT_COLUMNS order."""
    n = len(texts)
    out: dict[str, Any] = {}
    bundle = model.bundle
    features = bundle.features
    # Normalise and vectorise each distinct string once: thread replies reuse their
    # parent's row, and every comment of a thread shares one topic.
    unique: dict[str, int] = {}
    for value in (*texts, *(p for p in parents if p), *(t for t in topics if t)):
        unique.setdefault(value, len(unique))
    strings = list(unique)
    # Offset maps are kept for the evidence of flagged rows.
    normalised_full = features.normalise_many(strings)
    normalised = [n.text for n in normalised_full]
    # Binary heads: each text's highest decision over the whole text and its sentence
    # windows (app.sentences); `source` says which row gave it, for evidence and target.
    windows = _Windows(model, texts, strings, unique, normalised_full)
    matrix = windows.strings_matrix()
    text_rows: list[int] = windows.text_rows.tolist()
    # Without parents, topics or repeats the texts are the matrix's rows in order.
    x_text = matrix if text_rows == list(range(matrix.shape[0])) else matrix[text_rows]
    sources: dict[str, np.ndarray] = {}
    for head in BINARY_HEADS:
        compiled = model.compiled.binary[head]
        decision, source_rows = windows.highest(compiled)
        p = compiled.proba(decision[:, None])[:, 1]
        out[head] = p.astype(np.float64)
        out[f"{head}_flag"] = p >= model.thresholds[head]
        sources[head] = source_rows

    # The target is named for flagged rows only, so only they are scored for it.
    target_head = model.compiled.hate_target
    target_labels = list(target_head.classes)
    hate_rows = sources["hate"]
    flagged_at = np.flatnonzero(out["hate_flag"])
    out["hate_target"] = [None] * n
    out["hate_target_p"] = np.full(n, math.nan, dtype=np.float64)
    if len(flagged_at):
        target_p = target_head.predict_proba(
            windows.stacked[hate_rows[flagged_at]][:, features.blocks_.word]
        )
        best = target_p.argmax(axis=1)
        for at, b, probabilities in zip(flagged_at.tolist(), best, target_p, strict=True):
            out["hate_target"][at] = target_labels[b]
            out["hate_target_p"][at] = float(probabilities[b])

    _severity(model, out, x_text)
    _stance(model, out, x_text, matrix, unique, normalised, text_rows, topics)
    _reply(model, out, x_text, matrix, unique, texts, parents)

    weights = {head: linear_weights(bundle.binary[head]) for head in BINARY_HEADS}
    found: list[dict[str, list[dict[str, object]]]] = []
    flags = {head: out[f"{head}_flag"] for head in BINARY_HEADS}
    for i, text in enumerate(texts):
        raised = [head for head in BINARY_HEADS if flags[head][i]]
        if evidence_top <= 0 or not raised or not text:
            found.append({})
            continue
        # Heads raised by the same row (the whole text or one window) share one pass.
        by_row: dict[int, list[str]] = {}
        for head in raised:
            by_row.setdefault(int(sources[head][i]), []).append(head)
        items: dict[str, list[dict[str, object]]] = {}
        for row, heads in by_row.items():
            by_head = evidence_by_head(
                features,
                text,
                windows.entries(row),
                {head: weights[head] for head in heads},
                top=evidence_top,
                normalised=windows.map_of(i, row),
            )
            items.update({h: [e.to_dict() for e in found_] for h, found_ in by_head.items()})
        found.append({head: items[head] for head in raised})
    out["evidence"] = found
    out["model_version"] = [model.version] * n
    return {name: out[name] for name in OUTPUT_COLUMNS}


class _Windows:
    """The sentence windows of a batch's texts and the one matrix they are scored from.

    The distinct strings (texts, parents, topics) and every window are vectorised in one
    call: rows 0..len(strings)-1 of `stacked` are the strings, the rest the windows.
    `highest` gives each text's highest decision over its own row and its windows' rows
    and which row it was.
    """

    def __init__(
        self,
        model: LoadedModel,
        texts: list[str],
        strings: list[str],
        unique: dict[str, int],
        normalised: list[Normalised],
    ) -> None:
        self.text_maps = [normalised[unique[t]] for t in texts]
        self.text_rows = np.asarray([unique[t] for t in texts], dtype=np.int64)
        self.maps: list[Normalised] = []
        owners: list[int] = []
        limit = model.bundle.sentence_windows
        if limit > 0:
            for i, full in enumerate(self.text_maps):
                for window in window_maps(full, limit):
                    self.maps.append(window)
                    owners.append(i)
        self.owners = np.asarray(owners, dtype=np.int64)
        self.first_window = len(strings)
        originals = [original_slice(texts[o], m) for o, m in zip(owners, self.maps, strict=True)]
        self.stacked: sp.csr_matrix = model.bundle.features.transform_normalised(
            [*strings, *originals], [*(n.text for n in normalised), *(m.text for m in self.maps)]
        )

    def strings_matrix(self) -> sp.csr_matrix:
        """The rows of the distinct strings alone."""
        if not self.maps:
            return self.stacked
        return self.stacked[: self.first_window]

    def highest(self, head: LinearHead) -> tuple[np.ndarray, np.ndarray]:
        """Per text: the highest decision and the row of `stacked` it came from."""
        every = head.decision(self.stacked)[:, 0]
        decision = every[self.text_rows]
        rows = self.text_rows.copy()
        windowed = every[self.first_window :]
        for k in np.flatnonzero(windowed > decision[self.owners]):
            owner = self.owners[k]
            if windowed[k] > decision[owner]:
                decision[owner] = windowed[k]
                rows[owner] = self.first_window + k
        return decision, rows

    def entries(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Columns and values of a row of `stacked` (without building a 1-row matrix)."""
        start, stop = self.stacked.indptr[row], self.stacked.indptr[row + 1]
        return self.stacked.indices[start:stop], self.stacked.data[start:stop]

    def map_of(self, text: int, row: int) -> Normalised:
        """The offset map of a row of `stacked` (a text's own or one of its windows)."""
        return (
            self.text_maps[text] if row < self.first_window else self.maps[row - self.first_window]
        )


def score_texts(
    model: LoadedModel,
    texts: Sequence[str],
    *,
    parent_texts: Sequence[str | None] | None = None,
    topics: Sequence[str | None] | None = None,
) -> pd.DataFrame:
    """`score_frame` over plain lists (a single comment is a list of one)."""
    frame = pd.DataFrame({"text": list(texts)})
    if parent_texts is not None:
        frame["parent_text"] = list(parent_texts)
    if topics is not None:
        frame["topic"] = list(topics)
    return score_frame(model, frame)


def score_thread(
    model: LoadedModel, thread: Thread, *, evidence_top: int = EVIDENCE_TOP
) -> pd.DataFrame:
    """Score every comment of `thread` with its parent's text and the thread's topic.

    Adds `thread_stance` and `thread_stance_p`: the direct stance reconciled with the tree
    (see the module docstring). The tree columns of `thread_frame` come first.
    """
    frame = thread_frame(thread)
    scores = score_frame(model, frame, evidence_top=evidence_top)
    combined = pd.concat([frame[["comment_id", "parent_id", "author", "depth"]], scores], axis=1)
    reconciled = reconcile_stance(combined)
    combined["thread_stance"] = [label for label, _ in reconciled]
    combined["thread_stance_p"] = [p for _, p in reconciled]
    return combined


def reconcile_stance(scored: pd.DataFrame) -> list[tuple[str | None, float]]:
    """Per row (parents before children), the stance mixed from the direct model and the tree."""
    article = np.array([1.0, 0.0, 0.0])  # favor, against, none: the article states the topic
    final: dict[str, np.ndarray] = {}
    result: list[tuple[str | None, float]] = []
    for row in records(scored):
        direct = np.array(
            [float(row[f"p_stance_{label}"]) for label in STANCE_LABELS], dtype=np.float64
        )
        if np.isnan(direct).any():
            result.append((None, math.nan))
            continue
        parent_id = row["parent_id"]
        parent = final.get(str(parent_id), article) if parent_id else article
        agree = _probability(row["p_reply_agree"])
        disagree = _probability(row["p_reply_disagree"])
        flipped = np.array([parent[1], parent[0], parent[2]])
        tree = agree * parent + disagree * flipped
        tree[2] += max(0.0, 1.0 - agree - disagree)
        weight = agree + disagree
        mixed = (1.0 - weight) * direct + weight * tree
        mixed = mixed / mixed.sum()
        final[str(row["comment_id"])] = mixed
        best = int(mixed.argmax())
        result.append((STANCE_LABELS[best], float(mixed[best])))
    return result


def _probability(value: Any) -> float:
    """A probability cell as a float, 0 where the head gave none (NaN)."""
    number = float(value) if value is not None else math.nan
    return 0.0 if math.isnan(number) else number


def _column(frame: pd.DataFrame, name: str, *, required: bool) -> list[Any]:
    """A column's values as text (None for a missing optional value), checked row by row."""
    if name not in frame.columns:
        if required:
            raise ScoringInputError(f"the input has no {name!r} column", field=name)
        return [None] * len(frame)
    return _checked(frame[name].tolist(), name, required=required)


def _checked(column: Sequence[Any], name: str, *, required: bool) -> list[Any]:
    """The values of an input column, each checked to be text (or missing where allowed)."""
    values: list[Any] = []
    for position, value in enumerate(column):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if required:
                raise ScoringInputError(
                    f"row {position}: {name} is missing", field=f"{name}[{position}]"
                )
            values.append(None)
            continue
        if not isinstance(value, str):
            raise ScoringInputError(
                f"row {position}: {name} must be text, not {type(value).__name__}",
                field=f"{name}[{position}]",
            )
        if len(value) > MAX_TEXT_CHARS:
            raise ScoringInputError(
                f"row {position}: {name} has {len(value):,} characters; the limit is "
                f"{MAX_TEXT_CHARS:,}",
                field=f"{name}[{position}]",
            )
        values.append(value if value.strip() or name == "text" else None)
    return values


def _stance(
    model: LoadedModel,
    out: dict[str, Any],
    x_text: sp.csr_matrix,
    matrix: sp.csr_matrix,
    unique: dict[str, int],
    normalised: list[str],
    text_rows: list[int],
    topics: list[str | None],
) -> None:
    """Fill the stance columns for rows that have a topic."""
    bundle = model.bundle
    has = [i for i, t in enumerate(topics) if t]
    probs = np.full((len(topics), len(STANCE_LABELS)), np.nan)
    if has:
        topic_rows = matrix[[unique[str(topics[i])] for i in has]]
        x = stance_matrix(
            bundle.features,
            x_text[has],
            topic_rows,
            [normalised[text_rows[i]] for i in has],
            [str(topics[i]) for i in has],
            bundle.stance_topics,
        )
        head = model.compiled.stance
        probs[has] = ordered(head.classes, head.predict_proba(x), STANCE_LABELS)
        own = model.compiled.stance_topics
        if own:
            keys = [topic_key(topics[i]) for i in has]
            for key in set(keys) & set(own):
                rows = [i for i, k in zip(has, keys, strict=True) if k == key]
                topic_head = own[key]
                probs[rows] = ordered(
                    topic_head.classes, topic_head.predict_proba(x_text[rows]), STANCE_LABELS
                )
    _decide(out, "stance", "p_stance", probs, STANCE_LABELS, model.class_bias["stance"])


def _severity(model: LoadedModel, out: dict[str, Any], x_text: sp.csr_matrix) -> None:
    """Fill the severity columns (None and NaN for bundles without the head)."""
    head = model.compiled.severity
    probs = np.full((x_text.shape[0], len(SEVERITY_LABELS)), np.nan)
    bias = model.class_bias.get("severity") or dict.fromkeys(SEVERITY_LABELS, 0.0)
    if head is not None:
        probs = ordered(head.classes, head.predict_proba(x_text), SEVERITY_LABELS)
    _decide(out, "severity", "p_severity", probs, SEVERITY_LABELS, bias)


def _reply(
    model: LoadedModel,
    out: dict[str, Any],
    x_text: sp.csr_matrix,
    matrix: sp.csr_matrix,
    unique: dict[str, int],
    texts: list[str],
    parents: list[str | None],
) -> None:
    """Fill the reply-stance columns for rows that have a parent text."""
    bundle = model.bundle
    has = [i for i, p in enumerate(parents) if p]
    probs = np.full((len(parents), len(REPLY_LABELS)), np.nan)
    if has:
        parent_rows = matrix[[unique[str(parents[i])] for i in has]]
        cues = bundle.reply_cues
        x = reply_matrix(
            bundle.features,
            x_text[has],
            parent_rows,
            parent_weight=bundle.reply_parent_weight,
            texts=[texts[i] for i in has] if cues else None,
            parents=[str(parents[i]) for i in has] if cues else None,
        )
        head = model.compiled.reply_stance
        probs[has] = ordered(head.classes, head.predict_proba(x), REPLY_LABELS)
    _decide(out, "reply_stance", "p_reply", probs, REPLY_LABELS, model.class_bias["reply_stance"])


def _decide(
    out: dict[str, Any],
    name: str,
    prefix: str,
    probs: np.ndarray,
    labels: Sequence[str],
    bias: Mapping[str, float],
) -> None:
    """Fill a multiclass head's label, confidence and per-label columns (None without input)."""
    decided: list[str | None] = [None] * len(probs)
    confidence = np.full(len(probs), math.nan)
    known = ~np.isnan(probs).any(axis=1)
    if known.any():
        rows = np.flatnonzero(known)
        best = decide(probs[rows], bias, labels)
        for row, chosen in zip(rows, best, strict=True):
            decided[row] = labels[int(chosen)]
            confidence[row] = probs[row, chosen]
    out[name] = decided
    out[f"{name}_p"] = confidence
    for j, label in enumerate(labels):
        out[f"{prefix}_{label}"] = probs[:, j]


def records(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts of plain Python values, in order.

    `DataFrame.to_dict(orient="records")` costs milliseconds even for one row; converting
    each column once with `tolist` is what makes single-comment requests cheap.
    """
    names = [str(name) for name in scored.columns]
    columns = [scored[name].tolist() for name in scored.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def topic_known(model: LoadedModel, topic: str | None) -> bool:
    """Whether the stance head was trained on this topic (its topic crosses apply)."""
    return topic_key(topic) in model.bundle.stance_topics


def score_records(scored: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """`score_thread`'s rows as JSON-ready dicts keyed by comment id (NaN becomes None)."""
    out: dict[str, dict[str, Any]] = {}
    keep = [c for c in scored.columns if c not in ("comment_id", "parent_id", "author", "depth")]
    for record in records(scored):
        clean: dict[str, Any] = {}
        for key in keep:
            value = record[key]
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, float) and math.isnan(value):
                value = None
            elif isinstance(value, float):
                value = round(value, 4)
            clean[key] = value
        out[str(record["comment_id"])] = clean
    return out
