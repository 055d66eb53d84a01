"""An HTML comment page of any kind: parsed once, then read by the variant that fits.

The variants are tried in order of how sure their markup makes us: Hacker News, old Reddit,
phpBB and vBulletin forums, a rendered Disqus thread, Discourse's crawler view, WordPress (its
comment list, else JSON-LD comments), Blogger, then a recognised comments section that is
empty (a valid thread with no comments), then the generic reader that looks for repeated
comment blocks. The thread's `source_format` names the variant that read it, so
`parse(..., format=thread.source_format)` reads the same page the same way.
"""

from __future__ import annotations

from app.domain import Thread
from app.threads import (
    blogger,
    discourse_html,
    disqus_html,
    forum,
    generic_html,
    hackernews,
    reddit_html,
    wordpress,
)
from app.threads.htmlutil import HtmlPage, parse_with
from app.threads.options import ParseOptions

FORMAT = "html"

NOT_FOUND = (
    "HTML page has no comments section that threadguard recognises (looked for Hacker News "
    "table.comment-tree, old Reddit div.thing.comment, phpBB div.post#pN / vBulletin "
    "li.postcontainer#post_N, Disqus "
    "ul#post-list, Discourse div.crawler-post, WordPress "
    "ol.comment-list / ol.commentlist, Blogger #comment-holder / dl#comments-block, JSON-LD "
    "Comment objects, and repeated comment / reply / post blocks with an author and text)"
)


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The comments of an already parsed page by whichever variant recognises it."""
    # HN's comment tree and forum post ids are unmistakable, and their flat rows would
    # otherwise be misread as repeated blocks without nesting.
    from_hackernews = hackernews.from_tree(page, options)
    if from_hackernews is not None:
        return from_hackernews
    # Old Reddit's div.thing.comment nesting is its own; the generic reader would see
    # votes and buttons as comments.
    from_reddit = reddit_html.from_tree(page, options)
    if from_reddit is not None:
        return from_reddit
    from_forum = forum.from_tree(page, options)
    if from_forum is not None:
        return from_forum
    # A rendered Disqus thread is the page's real comments even when the blog's own
    # (usually empty) comment list is still in the markup.
    from_disqus = disqus_html.from_tree(page, options)
    if from_disqus is not None:
        return from_disqus
    from_discourse = discourse_html.from_tree(page, options)
    if from_discourse is not None:
        return from_discourse
    from_wordpress = wordpress.from_tree(page, options)
    if from_wordpress is not None and from_wordpress.comments:
        return from_wordpress
    from_blogger = blogger.from_tree(page, options)
    if from_blogger is not None and from_blogger.comments:
        return from_blogger
    # A comments section the page marks as such, even an empty one, outranks a guess at
    # repeated blocks (which could be the "related posts" of a post nobody commented on).
    recognised = from_wordpress if from_wordpress is not None else from_blogger
    if recognised is not None:
        return recognised
    return generic_html.from_tree(page, options)


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse an HTML post page with its comments, whatever software rendered it.

    Raises:
        ParseError: the page is not HTML, is nested too deeply, or has no comments
            section that any variant recognises.
    """
    return parse_with(from_tree, data, options, not_found=NOT_FOUND)
