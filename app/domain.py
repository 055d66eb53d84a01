"""The domain: a comment thread as immutable values. No I/O here.

A `Thread` is one page: the article (title, paragraphs with their provenance) and its
comments in document order. Each `Comment` names its parent (`None` for a reply to the
article) and carries its depth (0 for top-level) and position (0-based document order).

The JSON form (`Thread.to_dict()` / `Thread.from_dict()`) is flat: comments are a list
with parent ids, never nested, so a 10,000-level thread serialises without recursion.
`thread_json_schema()` is generated from these classes, so the schema cannot drift from
the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from app.errors import ParseError

SCHEMA_ID = "threadguard.thread/1"

Provenance = Literal["own", "quoted", "edited"]
"""Where an article paragraph comes from: the page's own words, a verbatim quote of the
original article, or a quote with changes (see `Paragraph.edits`)."""

CommentKind = Literal["comment", "pingback", "trackback"]
"""A comment someone wrote, or a linkback: another site's notice that it linked here."""

ProvenanceBasis = Literal["original", "markup", "none"]
"""What provenance was decided from: a comparison with the original article, the page's
own markup (block quotes, bracketed insertions), or nothing (every paragraph is `own`)."""


@dataclass(frozen=True, slots=True)
class WordEdit:
    """One change between an original paragraph and its quote on the page.

    `op` is `insert` (words only on the page), `delete` (words only in the original) or
    `replace`; `at` is the index of the first affected word in the page paragraph.
    """

    op: Literal["insert", "delete", "replace"]
    at: int
    original: str
    page: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of the article and where it came from."""

    text: str
    provenance: Provenance = "own"
    source_index: int | None = None
    """Index of the matching paragraph in the original article, when one was given."""
    edits: tuple[WordEdit, ...] = ()
    insertions: tuple[str, ...] = ()
    """Bracketed editorial insertions found in the text, e.g. ``[sic]`` or ``[Despite …]``."""


@dataclass(frozen=True, slots=True)
class Article:
    """The post the comments are about."""

    title: str | None = None
    author: str | None = None
    posted_at: datetime | None = None
    paragraphs: tuple[Paragraph, ...] = ()
    provenance_basis: ProvenanceBasis = "none"

    @property
    def text(self) -> str:
        """The article body, paragraphs separated by blank lines."""
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment. `parent_id` is None for a reply to the article itself."""

    comment_id: str
    parent_id: str | None
    text: str
    depth: int
    position: int
    author: str | None = None
    posted_at: datetime | None = None
    date_text: str | None = None
    """The date exactly as the page showed it, kept when it could not be parsed too."""
    url: str | None = None
    anchor: str | None = None
    deleted: bool = False
    """A placeholder for a removed or deleted comment, kept so the tree stays whole."""
    author_raw: str | None = None
    """The author element's text as the page showed it ("Anna sagt:"), when `author`
    differs from it; None when they are the same."""
    kind: CommentKind = "comment"


@dataclass(frozen=True, slots=True)
class ThreadWarning:
    """Something the parser repaired rather than dropped (orphan, cycle, duplicate id)."""

    code: Literal["orphan", "cycle", "duplicate_id", "truncated", "other"]
    message: str
    comment_id: str | None = None


@dataclass(frozen=True)
class Thread:
    """A page: its article and its comments in document order."""

    comments: tuple[Comment, ...]
    article: Article = field(default_factory=Article)
    url: str | None = None
    source_format: str = "unknown"
    unloaded_replies: int = 0
    """Replies the source mentions but does not contain (e.g. Reddit "load more" stubs)."""
    warnings: tuple[ThreadWarning, ...] = ()
    pingbacks: tuple[Comment, ...] = ()
    """Pingbacks and trackbacks, kept beside the tree (not in `comments`) unless the parser
    was told to include them; each has depth 0, no parent, and its position among them."""

    @property
    def title(self) -> str | None:
        """The article's title."""
        return self.article.title

    @cached_property
    def _by_id(self) -> dict[str, Comment]:
        return {c.comment_id: c for c in self.comments}

    @cached_property
    def _children(self) -> dict[str | None, tuple[Comment, ...]]:
        kids: dict[str | None, list[Comment]] = {}
        for c in self.comments:
            kids.setdefault(c.parent_id, []).append(c)
        return {k: tuple(v) for k, v in kids.items()}

    def get(self, comment_id: str) -> Comment:
        """The comment with this id. Raises KeyError when there is none."""
        return self._by_id[comment_id]

    def children(self, comment_id: str | None) -> tuple[Comment, ...]:
        """Direct replies to a comment (or, for None, the top-level comments), in order."""
        return self._children.get(comment_id, ())

    def parent(self, comment: Comment) -> Comment | None:
        """The comment this one replies to, or None for a top-level comment."""
        return None if comment.parent_id is None else self._by_id[comment.parent_id]

    def ancestors(self, comment_id: str) -> list[Comment]:
        """The comments above `comment_id`, nearest first (its parent, grandparent, …)."""
        out: list[Comment] = []
        parent = self._by_id[comment_id].parent_id
        while parent is not None:
            node = self._by_id[parent]
            out.append(node)
            parent = node.parent_id
        return out

    def root_path(self, comment_id: str) -> list[Comment]:
        """The path from the top-level comment down to `comment_id`, inclusive."""
        path = self.ancestors(comment_id)
        path.reverse()
        path.append(self._by_id[comment_id])
        return path

    def walk(self) -> Iterator[Comment]:
        """Every comment, depth-first pre-order (parents before their replies)."""
        stack = list(reversed(self.children(None)))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(self.children(node.comment_id)))

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (see `thread_json_schema`)."""
        data: dict[str, Any] = _THREAD_ADAPTER.dump_python(self, mode="json")
        return {"schema": SCHEMA_ID, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thread:
        """Read the JSON form back, checking that depths and positions agree with the tree.

        Raises:
            ParseError: the data is not a valid thread.
        """
        if not isinstance(data, dict):
            raise ParseError("a thread must be a JSON object")
        body = {k: v for k, v in data.items() if k != "schema"}
        schema = data.get("schema", SCHEMA_ID)
        if schema != SCHEMA_ID:
            raise ParseError(f"unsupported thread schema {schema!r}; expected {SCHEMA_ID!r}")
        try:
            thread = _THREAD_ADAPTER.validate_python(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ParseError(f"invalid thread at {where}: {first['msg']}", field=where) from exc
        check_consistent(thread)
        return thread


def check_consistent(thread: Thread) -> None:
    """Check ids are unique, parents exist and precede, depths and positions are right
    (pingbacks kept beside the tree are top-level and numbered among themselves).

    Raises:
        ParseError: naming the first comment that breaks the rule.
    """
    depth: dict[str, int] = {}
    for index, c in enumerate(thread.comments):
        if c.comment_id in depth:
            raise ParseError(f"duplicate comment id {c.comment_id!r}")
        if c.position != index:
            raise ParseError(f"comment {c.comment_id!r} has position {c.position}, not {index}")
        if c.parent_id is None:
            expected = 0
        elif c.parent_id in depth:
            expected = depth[c.parent_id] + 1
        else:
            raise ParseError(
                f"comment {c.comment_id!r} replies to {c.parent_id!r}, "
                "which does not come before it"
            )
        if c.depth != expected:
            raise ParseError(f"comment {c.comment_id!r} has depth {c.depth}, not {expected}")
        depth[c.comment_id] = expected
    for index, c in enumerate(thread.pingbacks):
        if c.comment_id in depth:
            raise ParseError(f"duplicate comment id {c.comment_id!r}")
        if c.position != index or c.depth != 0 or c.parent_id is not None:
            raise ParseError(
                f"pingback {c.comment_id!r} must have position {index}, depth 0 and no parent"
            )
        depth[c.comment_id] = 0


_THREAD_ADAPTER: TypeAdapter[Thread] = TypeAdapter(Thread)


def thread_json_schema() -> dict[str, Any]:
    """The JSON Schema of `Thread.to_dict()`, generated from the dataclasses above."""
    schema: dict[str, Any] = _THREAD_ADAPTER.json_schema(mode="serialization")
    schema["properties"] = {
        "schema": {"const": SCHEMA_ID, "title": "Schema"},
        **schema["properties"],
    }
    schema["required"] = ["schema", *schema.get("required", [])]
    schema["$id"] = SCHEMA_ID
    schema["title"] = "threadguard thread"
    return schema
