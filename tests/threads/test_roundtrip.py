"""Any tree, written in a format threadguard can write, parses back to the same tree."""

import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import Article, Paragraph, Thread
from app.threads import parse
from app.threads.textdump import render
from app.threads.tree import RawComment, build_thread

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄéß’", min_size=1, max_size=8)
LINE = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
TEXT = st.lists(PARAGRAPH, min_size=1, max_size=3).map("\n\n".join)
AUTHOR = st.lists(WORD, min_size=1, max_size=3).map(" ".join).map(str.title)
DATE = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@st.composite
def threads(draw: st.DrawFn) -> Thread:
    """A random tree: each comment replies to the article or to an earlier comment."""
    n = draw(st.integers(min_value=0, max_value=40))
    records: list[RawComment] = []
    for i in range(n):
        parent = draw(st.none() | st.integers(min_value=0, max_value=max(i - 1, 0)))
        when = draw(st.none() | DATE)
        records.append(
            RawComment(
                comment_id=f"c{i}",
                parent_id=None if parent is None or i == 0 else f"c{parent}",
                text=draw(TEXT),
                author=draw(AUTHOR),
                posted_at=when,
                date_text=when.strftime("%B %-d, %Y at %-I:%M %p") if when else None,
            )
        )
    article = Article(
        title=draw(LINE).title(),
        paragraphs=tuple(Paragraph(p) for p in draw(st.lists(LINE, max_size=4))),
    )
    return build_thread(records, article=article, source_format="test")


def shape(thread: Thread) -> list[tuple[int, int | None, str | None, str, object]]:
    """The tree independent of ids: (position, parent position, author, text, date)."""
    where = {c.comment_id: c.position for c in thread.comments}
    return [
        (
            c.position,
            None if c.parent_id is None else where[c.parent_id],
            c.author,
            c.text,
            c.posted_at,
        )
        for c in thread.comments
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(threads())
def test_json_form_round_trips(thread: Thread) -> None:
    again = parse(json.dumps(thread.to_dict()).encode())
    assert again.comments == thread.comments
    assert again.article.title == thread.article.title


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(threads().filter(lambda t: len(t.comments) > 0))
def test_text_dump_round_trips(thread: Thread) -> None:
    again = parse(render(thread).encode())
    assert again.source_format == "text"
    assert shape(again) == shape(thread)
    assert again.article.title == thread.article.title
    assert [p.text for p in again.article.paragraphs] == [p.text for p in thread.article.paragraphs]
