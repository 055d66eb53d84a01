import json
from datetime import UTC, datetime

import pytest

from app.domain import SCHEMA_ID, Article, Paragraph, Thread, WordEdit, thread_json_schema
from app.errors import ParseError
from app.threads.tree import RawComment, build_thread


def small_thread() -> Thread:
    records = [
        RawComment("a", None, "top", author="Ann", posted_at=datetime(2024, 1, 2, tzinfo=UTC)),
        RawComment("b", "a", "reply"),
        RawComment("c", "b", "reply to reply"),
        RawComment("d", None, "second top"),
        RawComment("e", "a", "second reply"),
    ]
    article = Article(
        title="T",
        paragraphs=(
            Paragraph("mine"),
            Paragraph("theirs [sic]", "edited", 0, (WordEdit("insert", 1, "", "[sic]"),)),
        ),
        provenance_basis="original",
    )
    return build_thread(records, article=article, url="https://x.test/p", source_format="json")


def test_tree_helpers() -> None:
    thread = small_thread()
    assert [c.comment_id for c in thread.comments] == ["a", "b", "c", "e", "d"]
    assert [c.comment_id for c in thread.children(None)] == ["a", "d"]
    assert [c.comment_id for c in thread.children("a")] == ["b", "e"]
    assert thread.children("c") == ()
    assert [c.comment_id for c in thread.ancestors("c")] == ["b", "a"]
    assert [c.comment_id for c in thread.root_path("c")] == ["a", "b", "c"]
    assert thread.parent(thread.get("c")) == thread.get("b")
    assert thread.parent(thread.get("a")) is None
    assert [c.comment_id for c in thread.walk()] == ["a", "b", "c", "e", "d"]
    assert [c.depth for c in thread.comments] == [0, 1, 2, 1, 0]
    with pytest.raises(KeyError):
        thread.get("zzz")


def test_json_form_round_trips() -> None:
    thread = small_thread()
    data = json.loads(json.dumps(thread.to_dict()))
    assert data["schema"] == SCHEMA_ID
    assert data["comments"][0]["posted_at"] == "2024-01-02T00:00:00Z"
    assert Thread.from_dict(data) == thread


def test_schema_describes_the_json_form() -> None:
    schema = thread_json_schema()
    assert schema["$id"] == SCHEMA_ID
    assert {"schema", "comments"} <= set(schema["required"])
    comment = schema["$defs"]["Comment"]
    assert {"comment_id", "parent_id", "text", "depth", "position"} <= set(comment["required"])
    assert set(small_thread().to_dict()) <= set(schema["properties"])


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: d.update(schema="other/9"), "unsupported thread schema"),
        (lambda d: d["comments"][1].update(depth=5), "has depth 5, not 1"),
        (lambda d: d["comments"][1].update(position=7), "has position 7, not 1"),
        (lambda d: d["comments"][1].update(parent_id="nope"), "which does not come before"),
        (lambda d: d["comments"][1].update(comment_id="a"), "duplicate comment id 'a'"),
        (lambda d: d["comments"][0].pop("text"), r"comments\.0\.text"),
        (lambda d: d.update(comments="x"), "invalid thread at comments"),
    ],
)
def test_from_dict_refuses_inconsistent_threads(change, match) -> None:  # type: ignore[no-untyped-def]
    data = small_thread().to_dict()
    change(data)
    with pytest.raises(ParseError, match=match):
        Thread.from_dict(data)


def test_from_dict_refuses_non_objects() -> None:
    with pytest.raises(ParseError, match="must be a JSON object"):
        Thread.from_dict([])  # type: ignore[arg-type]
