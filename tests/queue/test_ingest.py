"""Ingest into the review queue: idempotent by (source, comment id), edits as new versions."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import ApiKey, Role
from app.domain import Article, Comment, Paragraph, Thread
from app.policy import Policy, ScoreRowError, load_policy
from app.queue.ingest import (
    Incoming,
    IngestError,
    Report,
    ThreadInfo,
    UnknownComment,
    ingest_comments,
    ingest_thread,
    thread_source,
)
from app.queue.keys import SqlKeyStore
from app.queue.review import decide, history
from app.queue.store import comments, item_reasons, items, make_engine, reports

if TYPE_CHECKING:
    from app.registry import LoadedModel

THRESHOLDS = {"hate": 0.57, "toxic": 0.5, "conspiracy": 0.6}
INFO = ThreadInfo(source="https://example.org/story", source_format="api", title="Bridges")


def scores(**values: Any) -> dict[str, Any]:
    """A score record as the model gives it, clean unless told otherwise."""
    row: dict[str, Any] = {
        "hate": 0.01,
        "toxic": 0.02,
        "conspiracy": 0.03,
        "hate_flag": False,
        "toxic_flag": False,
        "conspiracy_flag": False,
        "hate_target": None,
        "stance": "none",
        "reply_stance": "comment",
        "evidence": {},
        "model_version": "test-1",
    }
    row.update(values)
    return row


@pytest.fixture
def moderator(engine: Engine) -> ApiKey:
    return SqlKeyStore(engine).create(Role.moderator, "ann").key


@pytest.fixture
def policy() -> Policy:
    return load_policy(None, THRESHOLDS)


def item_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(sa.select(items).order_by(items.c.item_id)).all()


def reason_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(item_reasons).order_by(item_reasons.c.item_id, item_reasons.c.queue)
        ).all()


def comment_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(sa.select(comments).order_by(comments.c.id)).all()


def ingest(
    engine: Engine, model: LoadedModel, policy: Policy, *incoming: Incoming
) -> dict[str, Any]:
    return ingest_comments(engine, model, policy, INFO, list(incoming)).as_dict()


def test_pre_scored_comments_are_routed_by_their_scores(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    result = ingest(
        engine,
        tiny_model,
        policy,
        Incoming("c1", "clean words", scores=scores()),
        Incoming("c2", "vile words", scores=scores(hate=0.9, hate_target="jewish")),
    )
    assert result["comments"] == {"new": 2, "edited": 0, "unchanged": 0}
    [item] = item_rows(engine)
    assert (item.queue, item.status, item.version, item.head) == ("hate", "open", 1, "hate")
    assert item.priority == pytest.approx(0.9)
    assert item.flags == ",hate," and item.hate_target == "jewish"
    assert item.model_version == "test-1"
    assert result["item_ids"] == [item.item_id]


def test_reingesting_the_same_comments_adds_nothing(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    comment = Incoming("c2", "vile words", scores=scores(hate=0.9))
    ingest(engine, tiny_model, policy, comment)
    again = ingest(engine, tiny_model, policy, comment)
    assert again["comments"] == {"new": 0, "edited": 0, "unchanged": 1}
    assert again["items_created"] == 0
    assert len(item_rows(engine)) == 1 and len(comment_rows(engine)) == 1


def test_an_edit_is_a_new_version_that_supersedes_the_open_items(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    ingest(engine, tiny_model, policy, Incoming("c2", "vile words", scores=scores(hate=0.9)))
    result = ingest(
        engine, tiny_model, policy, Incoming("c2", "viler words", scores=scores(hate=0.95))
    )
    assert result["comments"]["edited"] == 1
    assert result["items_superseded"] == 1
    old_row, new_row = comment_rows(engine)
    assert (old_row.version, new_row.version) == (1, 2)
    assert new_row.previous_id == old_row.id
    assert old_row.superseded_at is not None and new_row.superseded_at is None
    old_item, new_item = item_rows(engine)
    assert (old_item.status, old_item.version) == ("superseded", 2)
    assert new_item.replaces_item_id == old_item.item_id
    statuses = {(r.item_id, r.status) for r in reason_rows(engine)}
    assert statuses == {(old_item.item_id, "superseded"), (new_item.item_id, "open")}
    assert new_item.comment_row_id == new_row.id and new_item.status == "open"


def test_a_comment_with_no_scores_is_scored_with_the_model(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    ingest(engine, tiny_model, policy, Incoming("c1", "I agree with the plan."))
    [row] = comment_rows(engine)
    assert row.model_version == tiny_model.version
    assert 0.0 <= row.scores["hate"] <= 1.0
    assert set(row.scores) >= {"hate", "toxic", "conspiracy", "stance", "evidence"}


def test_a_report_on_a_stored_comment_opens_one_reported_item(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    ingest(engine, tiny_model, policy, Incoming("c1", "clean words", scores=scores()))
    assert item_rows(engine) == []
    report = Incoming("c1", None, report=Report("spam", "reader-1"))
    first = ingest(engine, tiny_model, policy, report)
    second = ingest(engine, tiny_model, policy, Incoming("c1", None, report=Report("rude")))
    assert (first["reports"], second["reports"]) == (1, 1)
    [item] = item_rows(engine)
    assert item.queue == "reported" and item.priority == pytest.approx(0.5, abs=0.05)
    with engine.connect() as connection:
        stored = connection.execute(sa.select(reports.c.reason)).scalars().all()
    assert sorted(stored) == ["rude", "spam"]


def test_a_new_reported_comment_goes_to_every_queue_it_earns(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    ingest(
        engine,
        tiny_model,
        policy,
        Incoming("c1", "vile", scores=scores(hate=0.9), report=Report("hate")),
    )
    [case] = item_rows(engine)
    assert sorted(r.queue for r in reason_rows(engine)) == ["hate", "reported"]
    assert {r.item_id for r in reason_rows(engine)} == {case.item_id}


def test_a_comment_with_several_flags_is_one_case_with_every_reason(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    result = ingest(
        engine,
        tiny_model,
        policy,
        Incoming("c1", "vile", scores=scores(hate=0.8, toxic=0.95, hate_target="jewish")),
    )
    [case] = item_rows(engine)
    reasons = {r.queue: r for r in reason_rows(engine)}
    assert set(reasons) == {"hate", "toxic"}
    assert result["items_created"] == 1 and result["by_queue"] == {"hate": 1, "toxic": 1}
    # The case is described by its most urgent reason; each reason keeps its own numbers.
    top = max(reasons.values(), key=lambda r: r.priority)
    assert (case.queue, case.head, case.priority) == (top.queue, top.head, top.priority)
    assert reasons["hate"].probability == pytest.approx(0.8)
    assert reasons["toxic"].probability == pytest.approx(0.95)
    assert all(r.status == "open" and r.from_item_id is None for r in reasons.values())


def test_a_report_adds_a_reason_to_the_comments_case_instead_of_a_second_item(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    ingest(engine, tiny_model, policy, Incoming("c1", "vile", scores=scores(hate=0.9)))
    result = ingest(engine, tiny_model, policy, Incoming("c1", None, report=Report("spam")))
    [case] = item_rows(engine)
    assert sorted(r.queue for r in reason_rows(engine)) == ["hate", "reported"]
    assert result["items_created"] == 0 and result["by_queue"] == {"reported": 1}
    assert case.status == "open" and case.version == 1


def test_a_report_on_an_approved_case_opens_it_again_through_the_audit_log(
    engine: Engine, tiny_model: LoadedModel, policy: Policy, moderator: ApiKey
) -> None:
    ingest(engine, tiny_model, policy, Incoming("c1", "vile", scores=scores(hate=0.9)))
    [case] = item_rows(engine)
    decide(engine, case.item_id, action="approve", item_version=1, key=moderator)
    ingest(engine, tiny_model, policy, Incoming("c1", None, report=Report("threats")))
    [case] = item_rows(engine)
    assert (case.status, case.version) == ("open", 3)
    assert {r.status for r in reason_rows(engine)} == {"open"}
    reopen = history(engine, case.item_id)[-1]
    assert reopen["action"] == "reopen" and reopen["key_id"] is None
    assert "threats" in reopen["reason"] and reopen["queue"] == "reported"


def test_a_report_on_a_rejected_case_leaves_it_rejected(
    engine: Engine, tiny_model: LoadedModel, policy: Policy, moderator: ApiKey
) -> None:
    ingest(engine, tiny_model, policy, Incoming("c1", "vile", scores=scores(hate=0.9)))
    [case] = item_rows(engine)
    decide(engine, case.item_id, action="reject", item_version=1, key=moderator)
    ingest(engine, tiny_model, policy, Incoming("c1", None, report=Report("threats")))
    [case] = item_rows(engine)
    assert (case.status, case.version) == ("rejected", 2)
    assert {r.status for r in reason_rows(engine)} == {"rejected"}


def test_a_report_without_text_on_an_unknown_comment_is_refused(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    with pytest.raises(UnknownComment, match="'nope' of 'https://example.org/story'"):
        ingest(engine, tiny_model, policy, Incoming("nope", None, report=Report("x")))


def test_a_comment_without_text_that_is_no_report_is_refused(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    with pytest.raises(IngestError, match="needs its text") as caught:
        ingest(engine, tiny_model, policy, Incoming("c1", None))
    assert caught.value.field == "comments.0.text"


@pytest.mark.parametrize(
    ("given", "error", "match"),
    [
        ({"hate": 0.1, "toxic": 0.1}, IngestError, "scores lack conspiracy"),
        ({"hate": 1.5, "toxic": 0.1, "conspiracy": 0.1}, ScoreRowError, "hate must be"),
        ({"hate": "high", "toxic": 0.1, "conspiracy": 0.1}, ScoreRowError, "not 'high'"),
        ({"hate": True, "toxic": 0.1, "conspiracy": 0.1}, ScoreRowError, "not True"),
    ],
)
def test_bad_caller_scores_are_refused_and_nothing_is_stored(
    engine: Engine,
    tiny_model: LoadedModel,
    policy: Policy,
    given: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        ingest(
            engine,
            tiny_model,
            policy,
            Incoming("ok", "fine", scores=scores()),
            Incoming("bad", "text", scores=given),
        )
    assert comment_rows(engine) == []


def test_a_reply_agreeing_with_a_flagged_parent_is_boosted(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    ingest(
        engine,
        tiny_model,
        policy,
        Incoming("p", "vile", scores=scores(hate=0.9)),
        Incoming("r", "yes, vile", parent_id="p", scores=scores(toxic=0.6, reply_stance="agree")),
    )
    [_, reply] = item_rows(engine)
    assert reply.queue == "toxic"
    assert reply.priority == pytest.approx(0.6 * 0.5 * policy.reply_boost)
    assert "agrees with a flagged parent" in reply.reason


def test_depth_and_position_follow_the_parent_when_not_given(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    ingest(engine, tiny_model, policy, Incoming("a", "one", scores=scores()))
    ingest(
        engine,
        tiny_model,
        policy,
        Incoming("b", "two", parent_id="a", scores=scores()),
        Incoming("c", "three", parent_id="b", scores=scores()),
    )
    rows = {r.comment_id: (r.depth, r.position) for r in comment_rows(engine)}
    assert rows == {"a": (0, 0), "b": (1, 1), "c": (2, 2)}


def page(*texts: str, title: str = "A story") -> Thread:
    return Thread(
        comments=tuple(
            Comment(
                comment_id=f"c{i}",
                parent_id=None if i == 0 else "c0",
                text=text,
                depth=0 if i == 0 else 1,
                position=i,
                author=f"author{i}",
            )
            for i, text in enumerate(texts)
        ),
        article=Article(title=title, paragraphs=(Paragraph("The article."),)),
        source_format="test",
    )


def test_a_page_is_found_again_without_a_url_by_its_content() -> None:
    assert thread_source(page("a", "b"), None) == thread_source(page("a", "b"), None)
    assert thread_source(page("a", "b"), None) != thread_source(page("x", "b"), None)
    assert thread_source(page("a"), " mine ") == "mine"
    with pytest.raises(IngestError, match="source must not be empty"):
        thread_source(page("a"), "  ")


def test_a_page_reingested_with_one_edit_scores_only_that_comment(
    engine: Engine, tiny_model: LoadedModel, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest_thread(engine, tiny_model, policy, page("one", "two", "three"), source="s")
    assert first.new == 3
    import app.queue.ingest as ingest_module

    seen: list[int] = []
    real = ingest_module._score

    def counting(model: LoadedModel, frame: Any, evidence_top: int) -> Any:
        seen.append(len(frame))
        return real(model, frame, evidence_top)

    monkeypatch.setattr(ingest_module, "_score", counting)
    again = ingest_thread(engine, tiny_model, policy, page("one", "TWO!", "three"), source="s")
    assert (again.new, again.edited, again.unchanged) == (0, 1, 2)
    assert seen == [1]


def test_scores_given_by_the_caller_for_a_page_are_used(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    thread = page("one", "two")
    ingest_thread(
        engine, tiny_model, policy, thread, source="s", scored=[scores(hate=0.9), scores()]
    )
    [item] = item_rows(engine)
    assert item.queue == "hate" and item.model_version == "test-1"
    with pytest.raises(ValueError, match="1 score records for 2 comments"):
        ingest_thread(engine, tiny_model, policy, page("x", "y"), source="t", scored=[scores()])


def test_a_deleted_placeholder_is_not_queued(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    thread = page("one", "")
    gone = Thread(
        comments=(thread.comments[0], Comment("c1", "c0", "", 1, 1, deleted=True)),
        article=thread.article,
    )
    result = ingest_thread(engine, tiny_model, policy, gone, source="s")
    assert result.new == 1 and [r.comment_id for r in comment_rows(engine)] == ["c0"]


def test_parallel_ingests_of_one_page_store_each_comment_once(
    migrated_url: str, tiny_model: LoadedModel, policy: Policy
) -> None:
    thread = page(*(f"comment number {i} about bridges" for i in range(40)))
    scored = [scores(hate=0.9 if i % 3 == 0 else 0.01) for i in range(40)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        engine = make_engine(migrated_url)
        try:
            start.wait()
            ingest_thread(engine, tiny_model, policy, thread, source="same", scored=scored)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            engine.dispose()

    workers = [threading.Thread(target=run) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    engine = make_engine(migrated_url)
    try:
        stored = comment_rows(engine)
        queued = item_rows(engine)
    finally:
        engine.dispose()
    assert sorted(r.comment_id for r in stored) == sorted(c.comment_id for c in thread.comments)
    assert len(queued) == 14
    assert len({(i.comment_row_id, i.queue) for i in queued}) == len(queued)


def test_one_id_twice_with_different_texts_is_refused(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    with pytest.raises(IngestError, match="'c1' comes twice with different texts") as caught:
        ingest(
            engine,
            tiny_model,
            policy,
            Incoming("c1", "one", scores=scores()),
            Incoming("c1", "two", scores=scores()),
        )
    assert caught.value.field == "comments.1.comment_id"
    assert comment_rows(engine) == []


def test_a_nul_from_a_caller_is_refused_and_one_in_a_page_is_dropped(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    with pytest.raises(IngestError, match="NUL") as caught:
        ingest(engine, tiny_model, policy, Incoming("c1", "a\x00b", scores=scores()))
    assert caught.value.field == "comments.0.text"
    ingest_thread(engine, tiny_model, policy, page("a\x00b", "two"), source="s")
    again = ingest_thread(engine, tiny_model, policy, page("a\x00b", "two"), source="s")
    assert again.unchanged == 2
    assert sorted(r.text for r in comment_rows(engine)) == ["ab", "two"]


def test_a_page_time_without_a_zone_is_stored_as_utc(
    engine: Engine, tiny_model: LoadedModel, policy: Policy
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    thread = page("one")
    naive = replace(thread.comments[0], posted_at=datetime(2019, 5, 30, 13, 6))
    ingest_thread(engine, tiny_model, policy, replace(thread, comments=(naive,)), source="s")
    [row] = comment_rows(engine)
    assert row.posted_at == datetime(2019, 5, 30, 13, 6, tzinfo=UTC)
