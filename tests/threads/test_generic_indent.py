"""The generic HTML reader nests flat blocks by how far each is indented."""

import re

from app.domain import Thread
from app.threads import generic_html, parse
from app.threads.options import ParseOptions
from tests.conftest import DATA

PAGE = DATA / "threads_new" / "generic_margin.html"

# (id, parent, depth, author, text), read off the fixture's margin-left: steps of 30px;
# comment 5 has no margin (top level), comment 6 is three steps in, the deepest open
# level above it being 0, so it replies to 5.
EXPECTED = [
    ("1", None, 0, "Ann", "Congratulations!"),
    ("2", "1", 1, "Ben", "What will you grow?"),
    ("3", "2", 2, "Ann", "Beans, mostly."),
    ("4", "1", 1, "Cy", "Watch out for slugs."),
    ("5", None, 0, "Dee", "Lovely photos."),
    ("6", "5", 1, "Eve", "Skipped a level."),
]
_STYLE_RE = re.compile(
    rb'<div class="comment" (id="comment-\d")(?: style="margin-left: ?(\d+)px[^"]*")?>'
)


def _rows(thread: Thread) -> list[tuple[str, str | None, int, str | None, str]]:
    return [(c.comment_id, c.parent_id, c.depth, c.author, c.text) for c in thread.comments]


def _restyled(replace: object) -> bytes:
    return _STYLE_RE.sub(replace, PAGE.read_bytes())  # type: ignore[arg-type]


def test_margin_left_of_each_block() -> None:
    thread = generic_html.parse(PAGE.read_bytes(), ParseOptions())
    assert _rows(thread) == EXPECTED
    assert thread.source_format == "html-generic"


def test_detected_from_content() -> None:
    assert _rows(parse(PAGE.read_bytes())) == EXPECTED


def test_padding_in_em() -> None:
    def em(match: re.Match[bytes]) -> bytes:
        width = int(match.group(2) or 0) // 30 * 2
        return b'<div class="comment" ' + match.group(1) + b' style="padding-left:%dem">' % width

    assert _rows(generic_html.parse(_restyled(em), ParseOptions())) == EXPECTED


def test_indented_wrapper_of_each_block() -> None:
    data = PAGE.read_bytes()
    data = _STYLE_RE.sub(
        lambda m: (
            b'<div style="margin-left:%spx"><div class="comment" %s>'
            % (m.group(2) or b"0", m.group(1))
        ),
        data,
    )
    data = data.replace(b"</div></div>\n", b"</div></div></div>\n")
    assert _rows(generic_html.parse(data, ParseOptions())) == EXPECTED


def test_spacer_image_width() -> None:
    def spacer(match: re.Match[bytes]) -> bytes:
        width = match.group(2) or b"0"
        return (
            b'<div class="comment" '
            + match.group(1)
            + b'><img src="/img/spacer.gif" width="'
            + width
            + b'" height="1">'
        )

    assert _rows(generic_html.parse(_restyled(spacer), ParseOptions())) == EXPECTED


def test_mixed_units_are_not_compared() -> None:
    data = PAGE.read_bytes().replace(b"margin-left:60px", b"margin-left:4em")
    thread = generic_html.parse(data, ParseOptions())
    assert [c.parent_id for c in thread.comments] == [None] * 6


def test_one_indent_for_all_is_flat() -> None:
    data = _restyled(
        lambda m: b'<div class="comment" ' + m.group(1) + b' style="margin-left: 20px">'
    )
    thread = generic_html.parse(data, ParseOptions())
    assert [c.parent_id for c in thread.comments] == [None] * 6
