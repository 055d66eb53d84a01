"""Disqus XML exports, read as a stream.

An export lists ``<thread dsq:id>`` elements (one per page) and ``<post>`` elements that
name their thread, and their parent post when they are a reply, by ``dsq:id``. Threads
may come after the posts that name them, so the export is read twice, each time as a
stream: first for the threads and how many posts each has, then for the posts of the one
thread chosen. That keeps memory to one thread's comments however large the export is.

The thread is the one whose ``<link>`` equals ``options.url`` when that is given, else the
first thread (in document order) that has posts, with a warning naming how many others
were skipped. Deleted and spam posts are kept with ``deleted=True`` so the tree stays
whole; a reply to a post that is not in the export becomes an orphan (see `build_thread`).
Posts naming a thread the export does not define cannot belong to any page; they are
counted in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from app.domain import Article, Paragraph, Thread, ThreadWarning
from app.errors import ParseError
from app.threads.dates import parse_date
from app.threads.options import ParseOptions
from app.threads.tree import RawComment, build_thread
from app.threads.xmlutil import (
    detach,
    element_text,
    html_paragraphs,
    html_to_text,
    local_name,
    namespace,
    stream_xml,
)

_WHAT = "Disqus export"
_LISTED_LINKS = 10


@dataclass
class _ThreadInfo:
    """A ``<thread>`` definition: the page the comments belong to."""

    dsq_id: str
    link: str | None
    title: str | None
    author: str | None
    created_at: str | None
    message: str
    posts: int = 0


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a Disqus XML export into the thread of one of its pages.

    Raises:
        ParseError: not well-formed XML, a DTD or entity declaration, a root other than
            ``<disqus>``, no threads, a thread or post without a ``dsq:id``, or no
            thread matching ``options.url``.
    """
    threads, posts_by_thread = _survey(data)
    if not threads:
        raise ParseError("the Disqus export holds no <thread> definitions")
    by_id = {t.dsq_id: t for t in reversed(threads)}  # the first definition of an id wins
    for dsq_id, count in posts_by_thread.items():
        if dsq_id in by_id:
            by_id[dsq_id].posts += count
    chosen = _choose(threads, options.url)
    warnings: list[ThreadWarning] = []
    with_posts = sum(1 for t in by_id.values() if t.posts)
    if options.url is None and with_posts > 1:
        warnings.append(
            ThreadWarning(
                "other",
                f"the Disqus export holds {with_posts} threads with posts; read the first, "
                f"{chosen.link or chosen.dsq_id!r}, and skipped {with_posts - 1} other(s): "
                "pass the thread's <link> as the page URL (ParseOptions.url) to read another",
            )
        )
    homeless = sum(n for dsq_id, n in posts_by_thread.items() if dsq_id not in by_id)
    if homeless:
        warnings.append(
            ThreadWarning(
                "other",
                f"{homeless} post(s) name a thread the export does not define; "
                "they belong to no page and were skipped",
            )
        )
    return build_thread(
        _posts(data, chosen),
        article=_article(chosen),
        url=options.url or chosen.link,
        source_format="disqus",
        warnings=warnings,
    )


def _survey(data: bytes) -> tuple[list[_ThreadInfo], dict[str, int]]:
    """First pass: the thread definitions in order, and how many posts name each thread id."""
    threads: list[_ThreadInfo] = []
    counts: dict[str, int] = {}
    number = {"thread": 0, "post": 0}
    for event, element, ancestors in stream_xml(data, what=_WHAT):
        if event == "start":
            if not ancestors and local_name(element.tag) != "disqus":
                raise ParseError(
                    f"not a Disqus export: the root element is <{local_name(element.tag)}>, "
                    "not <disqus>"
                )
            continue
        if len(ancestors) != 1:
            continue
        name = local_name(element.tag)
        if name == "thread":
            number["thread"] += 1
            threads.append(_thread_info(element, number["thread"]))
        elif name == "post":
            number["post"] += 1
            _require_id(element, "post", number["post"])
            ref = _ref(element, "thread")
            if ref is not None:
                counts[ref] = counts.get(ref, 0) + 1
        detach(element, ancestors)
    return threads, counts


def _choose(threads: list[_ThreadInfo], url: str | None) -> _ThreadInfo:
    if url is None:
        return next((t for t in threads if t.posts), threads[0])
    matches = [t for t in threads if t.link == url]
    if not matches:
        links = [t.link for t in threads if t.link][:_LISTED_LINKS]
        seen = ", ".join(repr(link) for link in links) or "none"
        raise ParseError(
            f"no thread in the Disqus export has link {url!r}; its threads' links start "
            f"with: {seen}",
            field="url",
        )
    # Disqus can hold several threads for one URL (different identifiers); the one with
    # comments is the one a reader sees.
    return next((t for t in matches if t.posts), matches[0])


def _posts(data: bytes, chosen: _ThreadInfo) -> list[RawComment]:
    """Second pass: the posts of the chosen thread, in document order."""
    records: list[RawComment] = []
    for event, element, ancestors in stream_xml(data, what=_WHAT):
        if event != "end" or len(ancestors) != 1:
            continue
        if local_name(element.tag) == "post" and _ref(element, "thread") == chosen.dsq_id:
            records.append(_post(element, chosen))
        detach(element, ancestors)
    return records


def _post(element: Element, thread: _ThreadInfo) -> RawComment:
    post_id = _dsq_id(element) or ""
    created = _child_text(element, "createdAt") or None
    anchor = f"comment-{post_id}"
    return RawComment(
        comment_id=post_id,
        parent_id=_ref(element, "parent"),
        text=html_to_text(_child_text(element, "message")),
        author=_author(element),
        posted_at=parse_date(created),
        date_text=created,
        url=f"{thread.link}#{anchor}" if thread.link else None,
        anchor=anchor,
        deleted=_is_true(element, "isDeleted") or _is_true(element, "isSpam"),
    )


def _thread_info(element: Element, number: int) -> _ThreadInfo:
    return _ThreadInfo(
        dsq_id=_require_id(element, "thread", number),
        link=_child_text(element, "link") or None,
        title=_child_text(element, "title") or None,
        author=_author(element),
        created_at=_child_text(element, "createdAt") or None,
        message=_child_text(element, "message"),
    )


def _article(thread: _ThreadInfo) -> Article:
    return Article(
        title=thread.title,
        author=thread.author,
        posted_at=parse_date(thread.created_at),
        paragraphs=tuple(Paragraph(text) for text in html_paragraphs(thread.message)),
    )


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def _child_text(element: Element, name: str) -> str:
    return element_text(_child(element, name))


def _dsq_id(element: Element | None) -> str | None:
    """The ``dsq:id`` attribute (in the Disqus internals namespace)."""
    if element is None:
        return None
    for key, value in element.attrib.items():
        if local_name(key) == "id" and namespace(key):
            return value.strip() or None
    return None


def _require_id(element: Element, kind: str, number: int) -> str:
    dsq_id = _dsq_id(element)
    if dsq_id is None:
        raise ParseError(f"<{kind}> number {number} in the Disqus export has no dsq:id")
    return dsq_id


def _ref(element: Element, name: str) -> str | None:
    """The ``dsq:id`` a post's ``<thread>`` or ``<parent>`` child points at."""
    return _dsq_id(_child(element, name))


def _author(element: Element) -> str | None:
    author = _child(element, "author")
    if author is None:
        return None
    return _child_text(author, "name") or _child_text(author, "username") or None


def _is_true(element: Element, name: str) -> bool:
    return _child_text(element, name).lower() == "true"
