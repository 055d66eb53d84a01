"""Discourse topic JSON: post 1 as the article, replies by post number, detection."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.errors import ParseError
from app.threads import discourse, parse
from app.threads.options import ParseOptions
from tests.conftest import DATA

TOPIC = DATA / "threads_new" / "discourse_topic.json"

# (id, parent, depth, author, text start, deleted) in threaded order, read off the
# fixture's reply_to_post_number fields; post 5 is a small action ("closed the topic").
EXPECTED = [
    ("2", None, 0, "tom", "Hold the reset button for five seconds.", False),
    ("3", "2", 1, "maria", "tom:\n\nHold the reset button\n\nThat worked", False),
    ("8", "3", 2, "ana", "I think the old firmware", False),
    ("4", None, 0, "lee", "Same question for the v2 model.", False),
    ("6", "4", 1, "sam", "(post deleted by author)", True),
    ("7", "4", 1, "tom", "For v2 see the FAQ.", False),
]


def _topic() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(TOPIC.read_text(encoding="utf-8"))
    return value


def _parse(value: Any) -> Any:
    return discourse.parse(json.dumps(value).encode(), ParseOptions())


def test_topic() -> None:
    thread = discourse.parse(TOPIC.read_bytes(), ParseOptions())
    assert len(thread.comments) == len(EXPECTED)
    for comment, (cid, parent, depth, author, start, deleted) in zip(
        thread.comments, EXPECTED, strict=True
    ):
        assert (comment.comment_id, comment.parent_id, comment.depth) == (cid, parent, depth)
        assert comment.author == author
        assert comment.text.startswith(start), comment.text
        assert comment.deleted is deleted
        assert comment.anchor == f"post_{cid}"
    assert thread.get("2").posted_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert thread.source_format == "discourse"
    assert thread.title == "How to calibrate the sensor?"
    assert thread.article.author == "maria"
    assert [p.text for p in thread.article.paragraphs] == [
        "How do I calibrate the sensor?",
        "The manual says nothing.",
    ]
    # stream names 10 posts, 8 were sent.
    assert thread.unloaded_replies == 2
    assert thread.warnings == ()


def test_detected_from_content() -> None:
    thread = parse(TOPIC.read_bytes())
    assert thread.source_format == "discourse"
    assert [c.parent_id for c in thread.comments] == [row[1] for row in EXPECTED]


def test_detected_when_compact() -> None:
    thread = parse(json.dumps(_topic(), separators=(",", ":")))
    assert thread.source_format == "discourse"


def test_reply_to_a_post_not_sent_is_an_orphan() -> None:
    topic = _topic()
    topic["post_stream"]["posts"][-1]["reply_to_post_number"] = 9
    thread = _parse(topic)
    assert thread.get("8").parent_id is None
    assert [w.code for w in thread.warnings] == ["orphan"]


def test_deleted_at_marks_a_placeholder() -> None:
    topic = _topic()
    post = topic["post_stream"]["posts"][1]
    post["deleted_at"] = "2024-05-03T00:00:00.000Z"
    post["cooked"] = ""
    thread = _parse(topic)
    assert thread.get("2").deleted
    assert thread.get("2").text == "[deleted]"
    assert thread.get("3").parent_id == "2"


def test_only_the_opening_post_is_a_thread_without_comments() -> None:
    topic = _topic()
    topic["post_stream"]["posts"] = topic["post_stream"]["posts"][:1]
    topic["post_stream"]["stream"] = [9001]
    thread = _parse(topic)
    assert thread.comments == ()
    assert thread.title == "How to calibrate the sensor?"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t["post_stream"].update(posts=[]), "has no posts"),
        (lambda t: t.pop("post_stream"), "no post_stream.posts list"),
        (lambda t: t["post_stream"]["posts"].append("x"), "post 9: expected an object"),
        (lambda t: t["post_stream"]["posts"][2].pop("post_number"), "post 3: 'post_number'"),
        (lambda t: t["post_stream"]["posts"][2].update(cooked=7), "post 3: 'cooked' is a num"),
    ],
)
def test_bad_topics_are_refused(change: Any, match: str) -> None:
    topic = _topic()
    change(topic)
    with pytest.raises(ParseError, match=match):
        _parse(topic)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ParseError, match="expected an object with post_stream, got an array"):
        discourse.parse(b"[1, 2]", ParseOptions())
