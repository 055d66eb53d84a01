"""Disqus XML exports: choosing the thread, the post tree, and hostile XML."""

from datetime import UTC, datetime
from html import escape as html_escape
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import ParseError
from app.threads import disqus
from app.threads.options import ParseOptions
from tests.conftest import DATA, THREAD_FIXTURES, shared_file

SMALL = DATA / "exports" / "disqus_small.xml"
ROOT = '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
THREAD = '<thread dsq:id="1"><link>https://x.example/</link><title>T</title></thread>'


def _export(body: str) -> bytes:
    return f'<?xml version="1.0"?>{ROOT}{body}</disqus>'.encode()


def _post(post_id: str, parent: str | None, message: str, thread: str = "1") -> str:
    parent_ref = f'<parent dsq:id="{parent}"/>' if parent else ""
    return (
        f'<post dsq:id="{post_id}"><message>{escape(message)}</message>'
        f'<author><name>a{post_id}</name></author><thread dsq:id="{thread}"/>{parent_ref}</post>'
    )


def test_isso_fixture_reads_the_first_thread_with_posts() -> None:
    # Counted by hand in the file: 6 <post>s; thread 2 has 4, 9 (deleted), 5 -> 4 and
    # 11 -> 9; thread 7 has 8; post 6 names thread 1337, which is not defined; thread 3
    # has none.
    data = shared_file(THREAD_FIXTURES / "disqus_export_isso_fixture.xml").read_bytes()
    thread = disqus.parse(data, ParseOptions())
    edges = [(c.comment_id, c.parent_id, c.depth) for c in thread.comments]
    assert edges == [("4", None, 0), ("5", "4", 1), ("9", None, 0), ("11", "9", 1)]
    assert thread.source_format == "disqus"
    assert thread.url == "http://example.org/"
    assert thread.article.title == "Hello, World!"
    assert thread.article.author == "Baz"
    assert thread.article.posted_at == datetime(2012, 12, 12, 12, 12, 12, tzinfo=UTC)
    assert [(c.author, c.text, c.deleted) for c in thread.comments] == [
        ("peter", "...", False),
        ("user", "Hello, World.", False),
        ("peter", "", True),
        ("user", "Hello, World.", False),
    ]
    assert thread.get("5").posted_at == datetime(2013, 10, 11, 6, 51, 33, tzinfo=UTC)
    assert thread.get("5").date_text == "2013-10-11T06:51:33Z"
    assert thread.get("5").url == "http://example.org/#comment-5"
    messages = [w.message for w in thread.warnings]
    assert len(messages) == 2
    assert "2 threads with posts" in messages[0]
    assert "1 post(s) name a thread the export does not define" in messages[1]


def test_isso_fixture_thread_with_empty_title_by_url() -> None:
    data = shared_file(THREAD_FIXTURES / "disqus_export_isso_fixture.xml").read_bytes()
    url = "http://localhost:4000/blog/2013/02/12/redacted/index.html"
    thread = disqus.parse(data, ParseOptions(url=url))
    assert [(c.comment_id, c.parent_id, c.author) for c in thread.comments] == [
        ("8", None, "Empty")
    ]
    assert thread.get("8").text == "Message from thread with empty title and id"
    assert thread.article.title is None
    assert thread.article.author == "Redacted"


def test_small_export_tree() -> None:
    thread = disqus.parse(SMALL.read_bytes(), ParseOptions())
    edges = [(c.comment_id, c.parent_id, c.depth) for c in thread.comments]
    assert edges == [
        ("101", None, 0),
        ("102", "101", 1),
        ("103", None, 0),  # an orphan: its parent 404 is not in the export
        ("104", None, 0),
        ("105", "104", 1),
    ]
    assert thread.get("101").text == "Top comment.\n\nTwo paragraphs,\none break."
    assert thread.get("102").author == "bo_only_username"
    assert [c.comment_id for c in thread.comments if c.deleted] == ["104", "105"]
    assert thread.get("105").text == "Cheap pills"  # spam keeps its text, flagged deleted
    assert [p.text for p in thread.article.paragraphs] == [
        "First paragraph of A.",
        "Second paragraph of A.",
    ]
    codes = [(w.code, w.comment_id) for w in thread.warnings]
    assert ("orphan", "103") in codes
    assert len(codes) == 3


def test_thread_defined_after_its_posts() -> None:
    thread = disqus.parse(SMALL.read_bytes(), ParseOptions(url="https://news.example/b/"))
    assert [c.comment_id for c in thread.comments] == ["301"]
    assert thread.article.title == "Story B"


def test_empty_thread_by_url() -> None:
    thread = disqus.parse(SMALL.read_bytes(), ParseOptions(url="https://news.example/empty/"))
    assert thread.comments == ()
    assert thread.article.title == "Nobody commented"


def test_unknown_url_names_the_links() -> None:
    with pytest.raises(
        ParseError, match=r"no thread .* 'https://nope/'.*'https://news.example/a/'"
    ):
        disqus.parse(SMALL.read_bytes(), ParseOptions(url="https://nope/"))


def test_duplicate_post_ids_are_renamed() -> None:
    data = _export(THREAD + _post("1", None, "one") + _post("1", None, "again"))
    thread = disqus.parse(data, ParseOptions())
    assert [c.comment_id for c in thread.comments] == ["1", "1~2"]
    assert [w.code for w in thread.warnings] == ["duplicate_id"]


def test_reply_cycle_is_broken() -> None:
    data = _export(THREAD + _post("a", "b", "A") + _post("b", "a", "B"))
    thread = disqus.parse(data, ParseOptions())
    assert [(c.comment_id, c.parent_id, c.depth) for c in thread.comments] == [
        ("a", None, 0),
        ("b", "a", 1),
    ]
    assert [w.code for w in thread.warnings] == ["cycle"]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"<disqus>", r"not well-formed XML"),
        (b"<rss><channel/></rss>", r"root element is <rss>, not <disqus>"),
        (_export(""), r"holds no <thread> definitions"),
        (_export("<thread><link>x</link></thread>"), r"<thread> number 1 .* has no dsq:id"),
        (_export(THREAD + "<post><message>m</message></post>"), r"<post> number 1 .* no dsq:id"),
    ],
)
def test_malformed_input(data: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        disqus.parse(data, ParseOptions())


def test_billion_laughs_is_refused_without_expanding() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    data = (
        f'<?xml version="1.0"?><!DOCTYPE disqus [<!ENTITY lol0 "lol">{lol}]>'
        f"{ROOT}{THREAD}{_post('1', None, 'x').replace('x</message>', '&lol9;</message>')}"
        "</disqus>"
    ).encode()
    # The message says the document was refused before its entities were read.
    with pytest.raises(ParseError, match="refuses to read, so nothing in it is expanded"):
        disqus.parse(data, ParseOptions())


def test_external_entity_is_refused_without_reading_it() -> None:
    data = (
        '<?xml version="1.0"?><!DOCTYPE disqus [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'{ROOT}{THREAD}<post dsq:id="1"><message>&xxe;</message><thread dsq:id="1"/></post>'
        "</disqus>"
    ).encode()
    with pytest.raises(ParseError, match="declares a DTD or entities") as caught:
        disqus.parse(data, ParseOptions())
    assert "root:" not in str(caught.value)


def test_ten_thousand_level_reply_chain() -> None:
    chain = "".join(_post(str(i), str(i - 1) if i else None, f"c{i}") for i in range(10_000))
    thread = disqus.parse(_export(THREAD + chain), ParseOptions())
    assert len(thread.comments) == 10_000
    assert thread.comments[-1].comment_id == "9999"
    assert thread.comments[-1].depth == 9999


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé<&>", min_size=1, max_size=6)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
PARAGRAPHS = st.lists(st.lists(LINE, min_size=1, max_size=3), min_size=1, max_size=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=30), PARAGRAPHS), max_size=25))
def test_random_trees_round_trip(spec: list[tuple[int, list[list[str]]]]) -> None:
    # Post n replies to post n - 1 - k when there is one; a message is HTML paragraphs.
    expected = {
        str(n): (str(n - 1 - k) if k < n else None, paragraphs)
        for n, (k, paragraphs) in enumerate(spec)
    }
    posts = "".join(
        _post(
            n,
            parent,
            "".join(f"<p>{'<br>'.join(html_escape(line) for line in p)}</p>" for p in paras),
        )
        for n, (parent, paras) in expected.items()
    )
    thread = disqus.parse(_export(THREAD + posts), ParseOptions())
    got = {c.comment_id: (c.parent_id, c.text) for c in thread.comments}
    assert got == {
        n: (parent, "\n\n".join("\n".join(p) for p in paras))
        for n, (parent, paras) in expected.items()
    }
