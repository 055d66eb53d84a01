"""The one walk that tells the site-specific HTML variants whether to look at a page."""

from __future__ import annotations

from app.threads import parse
from app.threads.htmlutil import load_page
from app.threads.options import ParseOptions

WORDPRESS = (
    b"<html><body><article><h1 class='entry-title'>Post</h1></article>"
    b"<ol class='comment-list'><li id='comment-1' class='comment'>"
    b"<article id='div-comment-1'><footer><div class='comment-author'><b class='fn'>Ann</b>"
    b"</div></footer><div class='comment-content'><p>Quoting HN: "
    b"<table class='comment-tree'><tr><td>x</td></tr></table></p></div></article></li></ol>"
    b"</body></html>"
)


def test_a_wordpress_list_is_not_walked_for_other_variants_markers() -> None:
    page = load_page(WORDPRESS, ParseOptions())
    assert page.markers == frozenset()
    assert parse(WORDPRESS).source_format == "wordpress"


def test_each_marker_is_found_outside_comment_lists() -> None:
    body = (
        b"<html><body><table class='comment-tree'></table><div data-fullname='t1_x'></div>"
        b"<div class='topic-body crawler-post'></div><ul id='post-list'></ul>"
        b"<div id='p12' class='post'></div></body></html>"
    )
    assert load_page(body, ParseOptions()).markers == {
        "hackernews",
        "reddit-html",
        "discourse-html",
        "disqus-html",
        "forum",
    }
