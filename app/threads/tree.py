"""Turn the flat records a parser found into a consistent `Thread`.

Every parser ends here, so the repairs are the same for every format: duplicate ids are
renamed, replies to a missing parent (orphans) are attached to the article, cycles are
broken, and every repair becomes a `ThreadWarning`. Nothing is dropped. All walks are
iterative, so a 10,000-level thread costs no recursion.

Pingbacks and trackbacks (a parser's `kind`, see `mark_linkback` for prefixes) are
set beside the tree in `Thread.pingbacks` unless `include_pingbacks`; a reply to one is
attached to the article, as an orphan is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.domain import Article, Comment, CommentKind, Thread, ThreadWarning
from app.threads.authors import clean_author, linkback_kind


@dataclass(slots=True)
class RawComment:
    """A comment as a parser found it, before the tree is checked."""

    comment_id: str
    parent_id: str | None
    text: str
    author: str | None = None
    posted_at: datetime | None = None
    date_text: str | None = None
    url: str | None = None
    anchor: str | None = None
    deleted: bool = False
    author_raw: str | None = None
    kind: CommentKind = "comment"


def build_thread(
    records: Iterable[RawComment],
    *,
    article: Article | None = None,
    url: str | None = None,
    source_format: str,
    unloaded_replies: int = 0,
    warnings: Iterable[ThreadWarning] = (),
    include_pingbacks: bool = False,
) -> Thread:
    """Check and repair the tree, then lay the comments out in threaded display order.

    The order is depth-first with siblings in the order the source gave them: for a
    rendered page that is its document order; for an export (WXR, Disqus, JSON) it is the
    order a threaded page would show.
    """
    notes = list(warnings)
    nodes: list[RawComment] = []
    index: dict[str, int] = {}
    linkbacks: list[RawComment] = []
    for raw in records:
        if raw.comment_id in index:
            new_id = _unique_id(raw.comment_id, index)
            notes.append(
                ThreadWarning(
                    "duplicate_id",
                    f"comment id {raw.comment_id!r} appears again; renamed to {new_id!r}",
                    new_id,
                )
            )
            raw.comment_id = new_id
        index[raw.comment_id] = len(nodes)
        nodes.append(raw)

    if not include_pingbacks and any(raw.kind != "comment" for raw in nodes):
        linkbacks = [raw for raw in nodes if raw.kind != "comment"]
        set_aside = {raw.comment_id: raw.kind for raw in linkbacks}
        nodes = [raw for raw in nodes if raw.kind == "comment"]
        index = {raw.comment_id: i for i, raw in enumerate(nodes)}
        for raw in nodes:
            kind = set_aside.get(raw.parent_id or "")
            if kind is not None:
                notes.append(
                    ThreadWarning(
                        "orphan",
                        f"comment {raw.comment_id!r} replies to the {kind} {raw.parent_id!r}, "
                        "which is kept beside the tree; attached to the article",
                        raw.comment_id,
                    )
                )
                raw.parent_id = None

    for raw in nodes:
        if raw.parent_id is not None and raw.parent_id not in index:
            notes.append(
                ThreadWarning(
                    "orphan",
                    f"comment {raw.comment_id!r} replies to {raw.parent_id!r}, which is not "
                    "in the source; attached to the article",
                    raw.comment_id,
                )
            )
            raw.parent_id = None
        elif raw.parent_id == raw.comment_id:
            notes.append(
                ThreadWarning(
                    "cycle",
                    f"comment {raw.comment_id!r} replies to itself; attached to the article",
                    raw.comment_id,
                )
            )
            raw.parent_id = None

    notes.extend(_break_cycles(nodes, index))

    children: dict[str | None, list[int]] = {}
    for i, raw in enumerate(nodes):
        children.setdefault(raw.parent_id, []).append(i)

    comments: list[Comment] = []
    stack: list[tuple[int, int]] = [(i, 0) for i in reversed(children.get(None, []))]
    while stack:
        i, depth = stack.pop()
        raw = nodes[i]
        comments.append(_comment(raw, raw.parent_id, depth, len(comments)))
        stack.extend((k, depth + 1) for k in reversed(children.get(raw.comment_id, [])))

    return Thread(
        comments=tuple(comments),
        article=article or Article(),
        url=url,
        source_format=source_format,
        unloaded_replies=unloaded_replies,
        warnings=tuple(notes),
        pingbacks=tuple(_comment(raw, None, 0, i) for i, raw in enumerate(linkbacks)),
    )


def mark_linkback(raw: RawComment) -> RawComment:
    """Mark a comment that WordPress prefixed "Pingback:" / "Trackback:" as one, and take
    the prefix out of its author. For the formats that have linkbacks (not Reddit's or
    Disqus's, where such a prefix is only what someone wrote)."""
    if raw.kind == "comment":
        # The raw author first: an HTML parser has already taken the prefix off the name.
        raw.kind = linkback_kind(raw.author_raw or raw.author, raw.text) or "comment"
    if raw.kind != "comment" and raw.author is not None:
        author, shown = clean_author(raw.author)
        if shown is not None:
            raw.author, raw.author_raw = author, raw.author_raw or shown
    return raw


def _comment(raw: RawComment, parent_id: str | None, depth: int, position: int) -> Comment:
    return Comment(
        comment_id=raw.comment_id,
        parent_id=parent_id,
        text=raw.text,
        depth=depth,
        position=position,
        author=raw.author,
        posted_at=raw.posted_at,
        date_text=raw.date_text,
        url=raw.url,
        anchor=raw.anchor,
        deleted=raw.deleted,
        author_raw=raw.author_raw,
        kind=raw.kind,
    )


def _unique_id(comment_id: str, taken: dict[str, int]) -> str:
    n = 2
    while f"{comment_id}~{n}" in taken:
        n += 1
    return f"{comment_id}~{n}"


def _break_cycles(nodes: list[RawComment], index: dict[str, int]) -> list[ThreadWarning]:
    """Find every cycle of parent links and cut each at its earliest comment."""
    notes: list[ThreadWarning] = []
    state = [0] * len(nodes)  # 0 unseen, 1 on the current path, 2 known to reach the root
    for start in range(len(nodes)):
        path: list[int] = []
        i: int | None = start
        while i is not None and state[i] == 0:
            state[i] = 1
            path.append(i)
            parent = nodes[i].parent_id
            i = None if parent is None else index[parent]
        if i is not None and state[i] == 1:
            cycle = path[path.index(i) :]
            cut = min(cycle)  # the earliest in the source, so the result does not depend on
            # which comment the walk happened to start from
            members = ", ".join(repr(nodes[k].comment_id) for k in sorted(cycle))
            notes.append(
                ThreadWarning(
                    "cycle",
                    f"comments {members} reply to each other in a cycle; "
                    f"{nodes[cut].comment_id!r} attached to the article",
                    nodes[cut].comment_id,
                )
            )
            nodes[cut].parent_id = None
        for k in path:
            state[k] = 2
    return notes
