"""Real pages nobody on the project wrote, against gold trees made without the parser.

Each page in tests/data/real/ was copied unchanged from a public repository's test
fixtures (data/README.md, "Real comment pages", names the repository, path, commit and
licence of each). Its `<name>.gold.json` lists the comments in document order as
{"id", "parent", "author"} (an export: in its own order), made by reading the page's own
markup a second way (the file's "method" says how); pingbacks and trackbacks are listed
apart, under "pingbacks", and are not comments of the tree (the parsers keep them in
`Thread.pingbacks`).

A gold file naming a "page" and a "url" is about one post of a many-post export (WXR): the
page is read with `ParseOptions(url=...)`, as a user picks the post.

`app.threads.parse` reads each page with auto-detection (no format given). Comment ids
differ between the page and a parser (some parsers number comments themselves), so parent
edges are compared as positions: comment i's parent is the j-th comment in both trees, the
gold laid out depth first with siblings in source order, as `tree.build_thread` lays out
every thread.

A page the parsers do not read right yet is marked xfail(strict=True): once it passes,
the mark fails the run and must come off.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.domain import Thread
from app.threads import ParseOptions, parse
from tests.conftest import DATA

REAL = DATA / "real"


def _xfail(name: str, reason: str) -> Any:
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason), id=name)


def _ok(name: str) -> Any:
    return pytest.param(name, id=name)


PAGES = [
    # WordPress, German
    _ok("wp_franziska-elea_de"),
    _ok("wp_netzpolitik_de"),
    _ok("wp_lady50plus_de"),
    _ok("wp_moritz-meyer_de"),
    _ok("wp_creativecommons_de"),
    _ok("wp_erp-news_de"),
    _ok("wp_basicthinking_de"),
    _ok("wp_meedia_de"),
    _ok("wp_iloveponysmag_de"),
    _ok("wp_spektrum-scilogs_de"),
    # WordPress, English and Russian
    _ok("wp_stackoverflow-blog_en"),
    _ok("wp_firefox-nightly_en"),
    _ok("wp_epoch_wptavern_en"),
    _ok("wp_dataworld_ru"),
    # Blogger
    _ok("blogger_plentylife_de"),
    # Other sites
    _ok("zeit_de"),
    _ok("pixnet_zh"),
    _ok("hn_item_en"),
    _ok("disqus_embed_ru"),
    _ok("pikabu_ru"),
    _ok("reddit_old_en"),
    _ok("discourse_topic_en"),
    # WordPress WXR export: one export, three posts (the last two chosen by ParseOptions.url)
    _ok("wxr_theme-unit-test_en"),
    _ok("wxr_theme-unit-test_en.template-comments"),
    _ok("wxr_theme-unit-test_en.pingbacks"),
    _ok("habr_ru"),
]


def _gold(name: str) -> dict[str, Any]:
    gold: dict[str, Any] = json.loads((REAL / f"{name}.gold.json").read_text(encoding="utf-8"))
    return gold


def _parent_positions(ids: list[str], parents: list[str | None]) -> list[int | None]:
    """Each comment's parent as a position in document order (None for a top-level one)."""
    where = {comment_id: i for i, comment_id in enumerate(ids)}
    return [None if parent is None else where.get(parent, -1) for parent in parents]


def _tree(thread: Thread) -> tuple[int, list[int | None], list[str | None]]:
    ids = [c.comment_id for c in thread.comments]
    parents = _parent_positions(ids, [c.parent_id for c in thread.comments])
    return len(ids), parents, [c.author for c in thread.comments]


def _threaded(comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comments depth first, siblings in source order: the order `tree.build_thread`
    lays a thread out in. A rendered page's document order already is (checked below)."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for comment in comments:
        children.setdefault(comment["parent"], []).append(comment)
    out: list[dict[str, Any]] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        comment = stack.pop()
        out.append(comment)
        stack.extend(reversed(children.get(comment["id"], [])))
    return out


def _gold_tree(gold: dict[str, Any]) -> tuple[int, list[int | None], list[str | None]]:
    comments = _threaded(gold["comments"])
    ids = [str(c["id"]) for c in comments]
    parents = _parent_positions(ids, [c["parent"] for c in comments])
    return gold["count"], parents, [c["author"] for c in comments]


def _page(name: str, gold: dict[str, Any]) -> Path:
    """The page a gold file is about: its "page" (one export, several posts), else the one
    file of the same name."""
    if "page" in gold:
        return REAL / str(gold["page"])
    (page,) = (p for p in REAL.glob(f"{name}.*") if not p.name.endswith(".gold.json"))
    return page


@pytest.mark.parametrize("name", PAGES)
def test_real_page_matches_its_gold_tree(name: str) -> None:
    gold = _gold(name)
    # A gold file's "url" picks one post of a many-post export (ParseOptions.url).
    thread = parse(_page(name, gold).read_bytes(), options=ParseOptions(url=gold.get("url")))
    count, parents, authors = _tree(thread)
    gold_count, gold_parents, gold_authors = _gold_tree(gold)
    assert count == gold_count, f"{count} comments, the page has {gold_count}"
    assert parents == gold_parents, "parent edges (as positions in document order) differ"
    assert authors == gold_authors
    # Pingbacks and trackbacks sit beside the tree, never in it.
    assert len(thread.pingbacks) == len(gold["pingbacks"])


def test_every_page_has_a_gold_tree_and_a_test() -> None:
    pages = {p.name for p in REAL.iterdir() if not p.name.endswith(".gold.json")}
    golds = {p.name.removesuffix(".gold.json") for p in REAL.glob("*.gold.json")}
    assert {str(p.values[0]) for p in PAGES} == golds
    assert {_page(name, _gold(name)).name for name in golds} == pages


@pytest.mark.parametrize("name", [str(p.values[0]) for p in PAGES])
def test_gold_tree_is_whole(name: str) -> None:
    """The gold files themselves: counts agree, ids are unique, parents come earlier."""
    gold = _gold(name)
    comments: list[dict[str, Any]] = gold["comments"]
    assert gold["count"] == len(comments)
    assert gold["method"]
    ids = [c["id"] for c in comments]
    assert len(set(ids)) == len(ids)
    for i, comment in enumerate(comments):
        assert set(comment) == {"id", "parent", "author"}
        assert comment["parent"] is None or comment["parent"] in ids[:i]
    assert not set(ids) & {p["id"] for p in gold["pingbacks"]}
    if _page(name, gold).suffix == ".html":
        # A rendered page shows its threads depth first already.
        assert _threaded(comments) == comments
