"""Pingbacks and trackbacks: beside the tree by default, in it with `include_pingbacks`."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.domain import Thread
from app.errors import ParseError
from app.threads import ParseOptions, parse
from tests.conftest import DATA

runner = CliRunner()
KEEP = ParseOptions(include_pingbacks=True)
CLASSIC = DATA / "html" / "wordpress_classic.html"

PAGE = """<html><body><article><h1 class="entry-title">Post</h1>
<div class="entry-content"><p>The post.</p></div></article>
<ol class="comment-list">
<li class="comment depth-1" id="comment-1"><div class="comment-body">
  <div class="comment-author"><cite class="fn">Ann</cite> <span class="says">says:</span></div>
  <div class="comment-content"><p>First!</p></div></div></li>
<li class="pingback depth-1" id="comment-2"><div class="comment-body">Pingback:
  <a href="https://other.example/beans/" class="url">Beans &laquo; Other Blog</a></div>
  <ol class="children">
  <li class="comment depth-2" id="comment-3"><div class="comment-body">
    <div class="comment-author"><cite class="fn">Bob</cite></div>
    <div class="comment-content"><p>Nice link.</p></div></div></li>
  </ol></li>
<li class="trackback depth-1" id="comment-4"><div class="comment-body">Trackback:
  <a href="https://third.example/" class="url">Third site</a></div></li>
</ol></body></html>"""


def _kinds(comments: tuple[object, ...]) -> list[tuple[str, str | None, str]]:
    return [(c.comment_id, c.parent_id, c.kind) for c in comments]  # type: ignore[attr-defined]


def test_wordpress_linkbacks_are_set_beside_the_tree() -> None:
    thread = parse(PAGE.encode())
    assert _kinds(thread.comments) == [("1", None, "comment"), ("3", None, "comment")]
    assert _kinds(thread.pingbacks) == [("2", None, "pingback"), ("4", None, "trackback")]
    assert [(p.author, p.position, p.depth) for p in thread.pingbacks] == [
        ("Beans « Other Blog", 0, 0),
        ("Third site", 1, 0),
    ]
    # Bob replied to the pingback: attached to the article, as an orphan is, and said so.
    (warning,) = thread.warnings
    assert (warning.code, warning.comment_id) == ("orphan", "3")
    assert "pingback '2'" in warning.message


def test_include_pingbacks_keeps_them_in_the_tree() -> None:
    thread = parse(PAGE.encode(), options=KEEP)
    assert _kinds(thread.comments) == [
        ("1", None, "comment"),
        ("2", None, "pingback"),
        ("3", "2", "comment"),
        ("4", None, "trackback"),
    ]
    assert thread.pingbacks == ()
    assert thread.warnings == ()


def test_prefix_alone_marks_a_linkback() -> None:
    # A theme without the pingback class, and an author element holding the prefix.
    page = PAGE.replace('class="pingback depth-1"', 'class="comment depth-1"')
    page = page.replace(
        '<li class="trackback depth-1" id="comment-4"><div class="comment-body">Trackback:',
        '<li class="comment depth-1" id="comment-4"><div class="comment-body">'
        '<div class="comment-author">Trackback: Third site</div>',
    )
    thread = parse(page.encode(), format="wordpress", options=KEEP)
    assert [c.kind for c in thread.comments] == ["comment", "pingback", "comment", "trackback"]
    third = thread.get("4")
    assert (third.author, third.author_raw) == ("Third site", "Trackback: Third site")


def test_classic_fixture_with_and_without() -> None:
    default = parse(CLASSIC.read_bytes())
    kept = parse(CLASSIC.read_bytes(), options=KEEP)
    assert (len(default.comments), len(default.pingbacks)) == (3, 1)
    assert (len(kept.comments), len(kept.pingbacks)) == (4, 0)
    assert kept.get("13").kind == "pingback"


WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel><item>
<title>Post</title><link>https://blog.example/post/</link>
{comments}</item></channel></rss>"""


def _wxr_comment(comment_id: str, parent: str, kind: str, author: str) -> str:
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        f"<wp:comment_author>{author}</wp:comment_author>"
        f"<wp:comment_content>text {comment_id}</wp:comment_content>"
        f"<wp:comment_type>{kind}</wp:comment_type>"
        f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
    )


def test_wxr_comment_type() -> None:
    data = WXR.format(
        comments="".join(
            [
                _wxr_comment("1", "0", "", "Ann"),
                _wxr_comment("2", "0", "pingback", "Other Blog"),
                _wxr_comment("3", "2", "comment", "Bob"),
                _wxr_comment("4", "0", "trackback", "Third"),
            ]
        )
    ).encode()
    thread = parse(data)
    assert _kinds(thread.comments) == [("1", None, "comment"), ("3", None, "comment")]
    assert _kinds(thread.pingbacks) == [("2", None, "pingback"), ("4", None, "trackback")]
    assert [w.code for w in thread.warnings] == ["orphan"]
    kept = parse(data, options=KEEP)
    assert _kinds(kept.comments) == [
        ("1", None, "comment"),
        ("2", None, "pingback"),
        ("3", "2", "comment"),
        ("4", None, "trackback"),
    ]


def test_json_records_type_field() -> None:
    rows = [
        {"id": 1, "text": "First", "author": "Ann", "type": "comment"},
        {"id": 2, "text": "[…] linked […]", "author": "Other Blog", "type": "Pingback"},
        {"id": 3, "text": "Reply", "parent_id": 2, "author": "Bob"},
    ]
    thread = parse(json.dumps(rows).encode(), format="json")
    assert _kinds(thread.comments) == [("1", None, "comment"), ("3", None, "comment")]
    assert _kinds(thread.pingbacks) == [("2", None, "pingback")]


def test_csv_comment_type_column() -> None:
    data = b"id,parent_id,author,text,comment_type\n1,,Ann,Hi,\n2,,Site,Linked,trackback\n"
    thread = parse(data, format="csv", options=KEEP)
    assert _kinds(thread.comments) == [("1", None, "comment"), ("2", None, "trackback")]


def test_a_record_that_states_its_type_is_not_read_by_prefix() -> None:
    # Only formats that have linkbacks read the prefix; a record's words stay a comment
    # when the record says what it is.
    rows = [{"id": 1, "text": "Pingback: my blog", "type": "comment", "author": "Ann"}]
    thread = parse(json.dumps(rows).encode(), format="json")
    assert thread.pingbacks == ()


def test_json_form_round_trips_kind_and_pingbacks() -> None:
    for options in (ParseOptions(), KEEP):
        thread = parse(PAGE.encode(), options=options)
        data = json.loads(json.dumps(thread.to_dict()))
        assert Thread.from_dict(data) == thread
        again = parse(json.dumps(data).encode(), format="threadguard-json")
        assert again == thread
    data = parse(PAGE.encode()).to_dict()
    assert [p["kind"] for p in data["pingbacks"]] == ["pingback", "trackback"]
    # A document written before pingbacks were kept apart still loads.
    del data["pingbacks"]
    assert Thread.from_dict(data).pingbacks == ()


def test_json_form_rejects_a_pingback_with_a_parent() -> None:
    data = parse(PAGE.encode()).to_dict()
    data["pingbacks"][0]["parent_id"] = "1"
    with pytest.raises(ParseError, match="pingback '2'"):
        Thread.from_dict(data)


def test_cli_counts_and_includes_pingbacks(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    result = runner.invoke(app, ["parse", str(page)])
    assert result.exit_code == 0, result.output
    summary = result.stdout.splitlines()[1]
    assert summary.startswith("wordpress · 2 comments · 1 pingback · 1 trackback · ")
    assert "Beans" not in result.stdout
    kept = runner.invoke(app, ["parse", str(page), "--include-pingbacks"])
    assert kept.exit_code == 0, kept.output
    assert kept.stdout.splitlines()[1].startswith(
        "wordpress · 2 comments · 1 pingback · 1 trackback"
    )
    assert "Beans « Other Blog · pingback" in kept.stdout
    as_json = runner.invoke(app, ["parse", str(page), "--output", "json"])
    data = json.loads(as_json.stdout)
    assert (len(data["comments"]), len(data["pingbacks"])) == (2, 2)


def test_queue_ingest_takes_the_option() -> None:
    result = runner.invoke(app, ["queue", "ingest", "--help"])
    assert result.exit_code == 0
    assert "--include-pingbacks" in result.stdout
