from app.threads.tree import RawComment, build_thread


def edges(records: list[RawComment]) -> tuple[list[tuple[str, str | None]], list[str]]:
    thread = build_thread(records, source_format="test")
    return (
        [(c.comment_id, c.parent_id) for c in thread.comments],
        [w.code for w in thread.warnings],
    )


def test_orphans_are_attached_to_the_article_with_a_warning() -> None:
    got, warnings = edges([RawComment("a", None, ""), RawComment("b", "gone", "")])
    assert got == [("a", None), ("b", None)]
    assert warnings == ["orphan"]


def test_replies_before_their_parent_are_laid_out_after_it() -> None:
    got, warnings = edges([RawComment("b", "a", ""), RawComment("a", None, "")])
    assert got == [("a", None), ("b", "a")]
    assert warnings == []


def test_cycles_are_cut_at_their_earliest_comment() -> None:
    got, warnings = edges(
        [RawComment("x", "z", ""), RawComment("y", "x", ""), RawComment("z", "y", "")]
    )
    assert got == [("x", None), ("y", "x"), ("z", "y")]
    assert warnings == ["cycle"]


def test_self_reply_and_duplicate_ids_are_repaired() -> None:
    got, warnings = edges(
        [RawComment("a", "a", ""), RawComment("a", None, ""), RawComment("a", None, "")]
    )
    assert got == [("a", None), ("a~2", None), ("a~3", None)]
    assert warnings == ["duplicate_id", "duplicate_id", "cycle"]


def test_nothing_is_dropped_in_a_tangle() -> None:
    records = [RawComment(str(i), str((i * 7 + 3) % 50), "") for i in range(50)]
    thread = build_thread(records, source_format="test")
    assert sorted(c.comment_id for c in thread.comments) == sorted(str(i) for i in range(50))
    for c in thread.comments:
        assert c.depth == (0 if c.parent_id is None else thread.get(c.parent_id).depth + 1)


def test_deep_chain_costs_no_recursion() -> None:
    records = [RawComment(str(i), str(i - 1) if i else None, "") for i in range(20_000)]
    thread = build_thread(list(reversed(records)), source_format="test")
    assert thread.comments[-1].depth == 19_999
    assert len(thread.ancestors("19999")) == 19_999
    assert len(list(thread.walk())) == 20_000
