"""Reddit thread JSON: the post, the nested comments, more-stubs and deleted comments."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import ParseError
from app.threads import reddit
from app.threads.options import ParseOptions
from tests.conftest import DATA, THREAD_FIXTURES, shared_file

SMALL = DATA / "exports" / "reddit_small.json"


def _listing(*children: Any) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"children": list(children)}}


def _t1(comment_id: str, parent: str, body: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": "t1", "data": {"id": comment_id, "parent_id": parent, "body": body, **extra}}


def _chain(depth: int) -> str:
    """A reply chain `depth` comments deep, written as text (dumping nested dicts recurses)."""
    opening = "".join(
        f'{{"kind": "t1", "data": {{"id": "c{i}", "parent_id": "{parent}", "body": "x", '
        '"replies": {"kind": "Listing", "data": {"children": ['
        for i, parent in enumerate(["t3_p", *(f"t1_c{i}" for i in range(depth - 1))])
    )
    closing = "]}}}}" * depth
    return f'{{"kind": "Listing", "data": {{"children": [{opening}{closing}]}}}}'


def test_debunkthis_fixture() -> None:
    # Counted independently with grep over "parent_id"/"name"/"depth" and a throwaway walk
    # of the raw JSON: 10 t1 comments, depth 0..2, no more-stubs.
    data = shared_file(THREAD_FIXTURES / "reddit_thread_18dmb4_debunkthis.json").read_bytes()
    thread = reddit.parse(data, ParseOptions())
    edges = [(c.comment_id, c.parent_id, c.depth) for c in thread.comments]
    assert edges == [
        ("c8duzth", None, 0),
        ("c8e0ls2", "c8duzth", 1),
        ("c8duhn4", None, 0),
        ("c8e0jxh", "c8duhn4", 1),
        ("c8e0wj3", "c8e0jxh", 2),
        ("c8e0t4f", None, 0),
        ("c8e2l5p", "c8e0t4f", 1),
        ("c8du4n0", None, 0),
        ("c8e3hu9", None, 0),
        ("c99tl5r", None, 0),
    ]
    assert thread.source_format == "reddit"
    assert thread.unloaded_replies == 0
    assert thread.article.title == "Even ants won't eat aspartame!"
    assert thread.article.author == "vinsneezel"
    assert thread.article.posted_at == datetime.fromtimestamp(1360679524, tz=UTC)
    assert thread.url == (
        "https://www.reddit.com/r/DebunkThis/comments/18dmb4/even_ants_wont_eat_aspartame/"
    )
    link = thread.get("c8e0t4f")
    assert link.author == "hollowgram"
    assert link.text == "That picture is from a Chuba-Chups print ad."  # Markdown link rendered
    assert link.posted_at == datetime.fromtimestamp(1360701794, tz=UTC)
    assert link.url == thread.url + "c8e0t4f/"
    assert thread.get("c8duhn4").text.startswith(
        "Snopes has the basics:\nwww.snopes.com/humor/iftrue/antpoison.asp\n"
    )
    gone = thread.get("c99tl5r")  # account deleted, words still on the page
    assert (gone.author, gone.deleted) == (None, False)
    assert gone.text.startswith("There is a very dangerous drug called Placebo")
    assert thread.warnings == ()


def test_small_thread() -> None:
    thread = reddit.parse(SMALL.read_bytes(), ParseOptions())
    edges = [(c.comment_id, c.parent_id, c.depth, c.deleted) for c in thread.comments]
    assert edges == [
        ("c1", None, 0, False),
        ("c2", "c1", 1, True),  # [removed], kept so c3 keeps its parent
        ("c3", "c2", 2, False),
        ("c4", None, 0, False),
        ("c5", None, 0, True),
    ]
    # more m1 (count 5), m2 (count 12) and one "continue this thread" stub (count 0)
    assert thread.unloaded_replies == 5 + 12 + 1
    assert thread.get("c1").text == "It is fake."
    assert thread.get("c3").text == "What did they say?\n\nI missed it."  # from Markdown
    assert thread.get("c2").author == "bob"
    assert thread.get("c4").author is None
    assert [p.text for p in thread.article.paragraphs] == ["Saw it twice today.", "Source unknown."]


def test_lone_comment_listing() -> None:
    data = json.dumps(_listing(_t1("a", "t3_p", "top"), _t1("b", "t1_a", "reply"))).encode()
    thread = reddit.parse(data, ParseOptions(url="https://www.reddit.com/comments/p/"))
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [("a", None), ("b", "a")]
    assert thread.article.title is None
    assert thread.url == "https://www.reddit.com/comments/p/"


def test_parent_from_nesting_when_parent_id_is_missing() -> None:
    child = {"kind": "t1", "data": {"id": "b", "body": "reply"}}
    top = _t1("a", "t3_p", "top", replies=_listing(child))
    thread = reddit.parse(json.dumps(_listing(top)).encode(), ParseOptions())
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [("a", None), ("b", "a")]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("{", r"invalid JSON at line 1 column 2"),
        ("[1, 2]", r"listing 1 is not a \{\"kind\": \"Listing\"\} object"),
        ('{"kind": "Listing", "data": {}}', r"listing 1 has no data.children list"),
        (
            json.dumps(_listing({"kind": "t1", "data": []})),
            r"comment 1: 'data' is an array, not an object",
        ),
        (json.dumps(_listing({"kind": "t1", "data": {"body": "x"}})), r"comment 1: .*no 'id'"),
        (json.dumps(_listing(_t1("a", "t3_p", None))), r"comment 'a': 'body' is null, not text"),
        (json.dumps(_listing({"kind": "t5", "data": {}})), r"unexpected kind 't5'"),
        (json.dumps(_listing("x")), r"comment 1: expected a \{kind, data\} object, got a string"),
    ],
)
def test_malformed_input(value: str, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        reddit.parse(value.encode(), ParseOptions())


def test_ten_thousand_level_reply_chain_is_refused_clearly() -> None:
    depth = 10_000
    data = _chain(depth)
    with pytest.raises(ParseError, match="JSON is nested too deeply"):
        reddit.parse(data.encode(), ParseOptions())


def test_a_moderately_deep_chain_is_read_without_recursion() -> None:
    # 150 levels is about 600 levels of JSON, under json's limit; the walk itself is a loop.
    depth = 150
    data = _chain(depth)
    thread = reddit.parse(data.encode(), ParseOptions())
    assert thread.warnings == ()
    assert len(thread.comments) == depth
    assert thread.comments[-1].depth == depth - 1


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé*[]", min_size=1, max_size=6)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
TEXT = st.lists(st.lists(LINE, min_size=1, max_size=3).map("\n".join), min_size=1, max_size=3).map(
    "\n\n".join
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=30), TEXT), max_size=25))
def test_random_trees_round_trip(spec: list[tuple[int, str]]) -> None:
    # Comment n replies to comment n - 1 - k when there is one, nested in its `replies`.
    top: list[dict[str, Any]] = []
    replies: list[list[dict[str, Any]]] = []
    expected: dict[str, tuple[str | None, str]] = {}
    for n, (k, text) in enumerate(spec):
        parent = n - 1 - k if k < n else None
        node = _t1(f"c{n}", f"t1_c{parent}" if parent is not None else "t3_p", text)
        node["data"]["replies"] = _listing()
        replies.append(node["data"]["replies"]["data"]["children"])
        (top if parent is None else replies[parent]).append(node)
        expected[f"c{n}"] = (None if parent is None else f"c{parent}", text)
    thread = reddit.parse(json.dumps([_listing(), _listing(*top)]).encode(), ParseOptions())
    assert {c.comment_id: (c.parent_id, c.text) for c in thread.comments} == expected
