"""Flat comment records with an id and a parent id: JSON, JSON Lines and CSV.

Field names come from ``options.columns`` when given, else from `CANDIDATES`, matched
without regard to case, ``_``, ``-`` or spaces (``Parent ID`` finds ``parent_id``). An
empty, ``0`` or ``null`` parent means a reply to the article. Ids are compared as text;
numbers become ``"12"`` (never ``"12.0"``), and so does the text ``"12.0"``, which is how
pandas writes an integer column that has gaps. A record whose text is null is kept as a
deleted placeholder, as is one with a true ``deleted`` / ``is_deleted`` / ``removed`` field.
A ``comment_type`` / ``type`` field of ``pingback`` or ``trackback`` marks a linkback.

Records are flat, so depth costs nothing: a 10,000-level reply chain reads like any other.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.domain import Article, Paragraph, Thread
from app.errors import ParseError
from app.threads.authors import kind_from_value
from app.threads.dates import parse_date
from app.threads.jsonutil import describe_type, load_json
from app.threads.options import CANDIDATES, Columns, ParseOptions, decode_text, normalise_name
from app.threads.tree import RawComment, build_thread, mark_linkback
from app.threads.xmlutil import plain_paragraphs, plain_to_text

_EXTRA_CANDIDATES: dict[str, tuple[str, ...]] = {
    "url": ("url", "permalink", "link"),
    "deleted": ("deleted", "is_deleted", "removed"),
    "kind": ("comment_type", "type"),
}
_ARRAY_KEYS = ("comments", "data", "items")
_TOP_LEVEL = frozenset({"", "0", "null", "none", "nan"})
_INTEGRAL_RE = re.compile(r"^[+-]?\d+\.0+$")
_DELIMITERS = (",", "\t", ";", "|")
_TRUE = frozenset({"true", "1", "yes", "y", "t"})


@dataclass(frozen=True, slots=True)
class _Fields:
    """The field name found for each role (None: the data has no such field)."""

    id: str
    text: str
    parent: str | None
    author: str | None
    date: str | None
    url: str | None
    deleted: str | None
    kind: str | None = None


def parse_json(data: bytes, options: ParseOptions) -> Thread:
    """Parse a JSON array of comment objects, or an object holding one.

    The object form takes the array from ``comments``, ``data`` or ``items`` and the
    article from ``title``, ``url`` and ``article`` (text, or an object with ``title``,
    ``author``, ``text``/``body``/``content`` and ``date``).

    Raises:
        ParseError: not JSON, no comment array, a record that is not an object, no id or
            text field, or a record with a missing id or a non-text body.
    """
    value = load_json(decode_text(data), "JSON")
    article = Article()
    url: str | None = None
    if isinstance(value, dict):
        rows = next((value[k] for k in _ARRAY_KEYS if isinstance(value.get(k), list)), None)
        if rows is None:
            keys = ", ".join(repr(k) for k in list(value)[:20]) or "none"
            raise ParseError(
                "JSON object has no 'comments', 'data' or 'items' array of comments "
                f"(its keys: {keys})"
            )
        article = _article(value)
        url = value["url"] if isinstance(value.get("url"), str) else None
    elif isinstance(value, list):
        rows = value
    else:
        raise ParseError(f"JSON is {describe_type(value)}; expected an array of comment objects")
    labelled = [(f"record {n}", row) for n, row in enumerate(rows, 1)]
    return _build(labelled, options, article=article, url=url, source_format="json")


def parse_jsonl(data: bytes, options: ParseOptions) -> Thread:
    """Parse JSON Lines: one comment object a line (blank lines are skipped).

    Raises:
        ParseError: naming the line that is not valid JSON or not an object, or when no
            id or text field is found or a record has a missing id or a non-text body.
    """
    rows: list[tuple[str, Any]] = []
    for number, line in enumerate(decode_text(data).split("\n"), 1):
        if line.strip():
            rows.append((f"line {number}", load_json(line, f"line {number}")))
    return _build(rows, options, article=Article(), url=None, source_format="jsonl")


def parse_csv(data: bytes, options: ParseOptions) -> Thread:
    """Parse CSV with a header row; the delimiter (``,`` tab ``;`` ``|``) is sniffed.

    Raises:
        ParseError: empty input, a malformed or ragged row (named by number), no id or
            text column in the header, or a row with no id.
    """
    text = decode_text(data)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[str, Any]] = []
    try:
        header = next((row for row in reader if any(f.strip() for f in row)), None)
        if header is None:
            raise ParseError("CSV is empty: a header row naming the columns is required")
        names = [h.strip() for h in header]
        for number, fields in enumerate(reader, 1):
            where = f"row {number} (line {reader.line_num})"
            if not fields or all(not f.strip() for f in fields):
                continue
            # Trailing empty fields (a stray delimiter at the end of a line) are harmless.
            if len(fields) > len(names) and any(f.strip() for f in fields[len(names) :]):
                raise ParseError(
                    f"{where} has {len(fields)} fields but the header names {len(names)}"
                )
            # A short row leaves its last columns empty, as spreadsheets write them.
            row = {name: fields[i] if i < len(fields) else "" for i, name in enumerate(names)}
            rows.append((where, row))
    except csv.Error as exc:
        raise ParseError(f"CSV is malformed near line {reader.line_num}: {exc}") from exc
    return _build(rows, options, article=Article(), url=None, source_format="csv", seen=names)


def _sniff_delimiter(text: str) -> str:
    """The delimiter the header line uses most; a header rarely contains the others."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _build(
    rows: list[tuple[str, Any]],
    options: ParseOptions,
    *,
    article: Article,
    url: str | None,
    source_format: str,
    seen: list[str] | None = None,
) -> Thread:
    for where, row in rows:
        if not isinstance(row, dict):
            raise ParseError(f"{where} is {describe_type(row)}, not an object")
    if seen is None and not rows:
        return build_thread(
            [], article=article, url=options.url or url, source_format=source_format
        )
    fields = _resolve(seen if seen is not None else _keys(row for _, row in rows), options)
    return build_thread(
        _records(rows, fields),
        article=article,
        url=options.url or url,
        source_format=source_format,
        include_pingbacks=options.include_pingbacks,
    )


def _keys(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Every key any record has, in the order first seen."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _resolve(seen: list[str], options: ParseOptions) -> _Fields:
    """Pick the field for each role: the one `options.columns` names, else a candidate.

    Raises:
        ParseError: a named column is not in the data, or no id or text field is found.
    """
    columns: Columns = options.columns
    listed = ", ".join(repr(k) for k in seen[:30]) or "none"
    chosen: dict[str, str | None] = {}
    for role, candidates in (*CANDIDATES.items(), *_EXTRA_CANDIDATES.items()):
        given: str | None = getattr(columns, role, None)
        if given is not None:
            if given not in seen:
                raise ParseError(
                    f"the {role} column {given!r} is not in the data; columns seen: {listed}",
                    field=f"columns.{role}",
                )
            chosen[role] = given
        else:
            chosen[role] = _find(seen, candidates)
    for role in ("id", "text"):
        if chosen[role] is None:
            wanted = ", ".join(CANDIDATES[role])
            raise ParseError(
                f"no {role} column found (looked for {wanted}; columns seen: {listed}); "
                # Both ways of naming it: the command line's option and the Python API's.
                f"name it with --{role}-column (Columns({role}=...) from Python)",
                field=f"columns.{role}",
            )
    return _Fields(
        id=chosen["id"] or "",
        text=chosen["text"] or "",
        parent=chosen["parent"],
        author=chosen["author"],
        date=chosen["date"],
        url=chosen["url"],
        deleted=chosen["deleted"],
        kind=chosen["kind"],
    )


def _find(seen: list[str], candidates: tuple[str, ...]) -> str | None:
    by_norm: dict[str, str] = {}
    for key in seen:
        by_norm.setdefault(normalise_name(key), key)
    return next(
        (by_norm[normalise_name(c)] for c in candidates if normalise_name(c) in by_norm), None
    )


def _records(rows: list[tuple[str, Any]], fields: _Fields) -> Iterator[RawComment]:
    for where, row in rows:
        comment_id = _id_text(row.get(fields.id), where, fields.id)
        if comment_id is None:
            raise ParseError(f"{where} has no id (field {fields.id!r} is empty)")
        parent = _id_text(row.get(fields.parent), where, fields.parent) if fields.parent else None
        if parent is not None and parent.lower() in _TOP_LEVEL:
            parent = None
        body = row.get(fields.text)
        if body is not None and not isinstance(body, str):
            raise ParseError(
                f"{where}: the text field {fields.text!r} is {describe_type(body)}, not text"
            )
        date = row.get(fields.date) if fields.date else None
        stated = row.get(fields.kind) if fields.kind else None
        record = RawComment(
            comment_id=comment_id,
            parent_id=parent,
            text=plain_to_text(body or ""),
            author=_author(row.get(fields.author) if fields.author else None, where),
            posted_at=parse_date(date) if isinstance(date, str | int | float) else None,
            date_text=str(date) if isinstance(date, str | int | float) and date != "" else None,
            url=_optional_text(row.get(fields.url)) if fields.url else None,
            deleted=body is None or _is_true(row.get(fields.deleted) if fields.deleted else None),
            kind=kind_from_value(stated),
        )
        # A record that names its type is taken at its word, even when its text happens to
        # begin "Pingback:".
        yield mark_linkback(record) if stated in (None, "") else record


def _id_text(value: Any, where: str, field: str | None) -> str | None:
    """An id as text: numbers without a ``.0``, blanks and NaN as None.

    Raises:
        ParseError: the value is an object, a list or a boolean.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParseError(f"{where}: the id field {field!r} is {describe_type(value)}, not an id")
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    if _INTEGRAL_RE.match(text):
        text = text.split(".", 1)[0].lstrip("+")
    return text or None


def _author(value: Any, where: str) -> str | None:
    if isinstance(value, dict):
        # Exports of some APIs nest the user: {"user": {"name": ..., "id": ...}}.
        value = next((value[k] for k in ("name", "username", "login") if k in value), None)
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, str | int | float):
        raise ParseError(f"{where}: the author is {describe_type(value)}, not a name")
    return str(value).strip() or None


def _optional_text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _is_true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str | int) and str(value).strip().lower() in _TRUE


def _article(value: dict[str, Any]) -> Article:
    title = _optional_text(value.get("title"))
    body = value.get("article")
    if isinstance(body, str):
        return Article(title=title, paragraphs=tuple(Paragraph(p) for p in plain_paragraphs(body)))
    if not isinstance(body, dict):
        return Article(title=title)
    text = next((body[k] for k in ("text", "body", "content") if isinstance(body.get(k), str)), "")
    date = next((body[k] for k in ("date", "posted_at", "created_at") if k in body), None)
    return Article(
        title=_optional_text(body.get("title")) or title,
        author=_optional_text(body.get("author")),
        posted_at=parse_date(date) if isinstance(date, str | int | float) else None,
        paragraphs=tuple(Paragraph(p) for p in plain_paragraphs(text)),
    )
