"""Reading and deciding queue items: order, pagination, context, decisions, stats, export."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import ApiKey, Role
from app.policy import Policy, load_policy
from app.queue.ingest import Incoming, ThreadInfo, ingest_comments
from app.queue.keys import SqlKeyStore
from app.queue.review import (
    FEEDBACK_SCHEMA,
    DecisionRefused,
    Filters,
    InvalidCursor,
    InvalidDecision,
    InvalidFilter,
    ItemNotFound,
    Labels,
    NeedsAdmin,
    StaleDecision,
    decide,
    export_feedback,
    get_item,
    history,
    judgment,
    list_items,
    stats,
)
from app.queue.store import decisions, make_engine, utcnow
from tests.queue.test_ingest import THRESHOLDS, scores

if TYPE_CHECKING:
    from app.registry import LoadedModel

INFO = ThreadInfo(
    source="story-1", source_format="api", title="Bridges", article_text="The council voted."
)


@pytest.fixture
def policy() -> Policy:
    return load_policy(None, THRESHOLDS)


@pytest.fixture
def keys(engine: Engine) -> dict[str, ApiKey]:
    store = SqlKeyStore(engine)
    return {
        "ann": store.create(Role.moderator, "ann").key,
        "bob": store.create(Role.moderator, "bob").key,
        "root": store.create(Role.admin, "root").key,
    }


def put(engine: Engine, model: LoadedModel, policy: Policy, *incoming: Incoming) -> list[int]:
    return ingest_comments(engine, model, policy, INFO, list(incoming)).items_created


@pytest.fixture
def thread_items(engine: Engine, tiny_model: LoadedModel, policy: Policy) -> dict[str, int]:
    """A small thread: a hateful root with replies, a toxic sibling, a clean comment."""
    put(
        engine,
        tiny_model,
        policy,
        Incoming("root", "vile root", author="x", scores=scores(hate=0.9, hate_target="jewish")),
        Incoming("agree", "so true", parent_id="root", scores=scores(reply_stance="agree")),
        Incoming("deep", "deeper", parent_id="agree", scores=scores(conspiracy=0.8)),
        Incoming("other", "you fool", scores=scores(toxic=0.7)),
        Incoming("calm", "calm words", parent_id="root", scores=scores()),
    )
    return {i["comment"]["comment_id"]: i["item_id"] for i in list_items(engine, Filters()).items}


def test_items_are_listed_most_urgent_first(engine: Engine, thread_items: dict[str, int]) -> None:
    listed = list_items(engine, Filters()).items
    assert [i["comment"]["comment_id"] for i in listed] == ["root", "deep", "other"]
    assert [i["queue"] for i in listed] == ["hate", "conspiracy", "toxic"]
    assert listed[0]["thread"]["title"] == "Bridges"
    assert listed[0]["flags"] == ["hate"] and listed[0]["hate_target"] == "jewish"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(queue="toxic"), ["other"]),
        (Filters(label="hate"), ["root"]),
        (Filters(target="jewish"), ["root"]),
        (Filters(min_probability=0.75), ["root", "deep"]),
        (Filters(status="rejected"), []),
        (Filters(since=utcnow() + timedelta(hours=1)), []),
        (Filters(until=utcnow() + timedelta(hours=1)), ["root", "deep", "other"]),
    ],
)
def test_filters(
    engine: Engine, thread_items: dict[str, int], filters: Filters, expected: list[str]
) -> None:
    listed = list_items(engine, filters).items
    assert [i["comment"]["comment_id"] for i in listed] == expected


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (Filters(queue="spam"), "queue"),
        (Filters(status="done"), "status"),
        (Filters(label="rude"), "label"),
        (Filters(target="martians"), "target"),
    ],
)
def test_unknown_filter_values_are_refused(engine: Engine, filters: Filters, field: str) -> None:
    with pytest.raises(InvalidFilter, match=f"{field} must be one of") as caught:
        list_items(engine, filters)
    assert caught.value.field == field


@pytest.mark.parametrize("order", ["priority", "newest", "oldest"])
def test_cursor_pages_visit_every_item_once_while_items_arrive(
    engine: Engine, tiny_model: LoadedModel, policy: Policy, order: Any
) -> None:
    # Equal priorities on purpose: the tie-break by id must keep pages disjoint.
    put(
        engine,
        tiny_model,
        policy,
        *(Incoming(f"c{i}", f"text {i}", scores=scores(hate=0.6 + (i % 3) / 10)) for i in range(8)),
    )
    seen: list[int] = []
    cursor = None
    for n in range(10):
        page = list_items(engine, Filters(), order=order, limit=3, cursor=cursor)
        seen.extend(i["item_id"] for i in page.items)
        if n == 0:  # a new, less urgent item arrives mid-way
            put(engine, tiny_model, policy, Incoming("late", "late", scores=scores(hate=0.58)))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    everything = [i["item_id"] for i in list_items(engine, Filters(), order=order).items]
    if order == "newest":
        assert seen == [i for i in everything if i in seen]
    else:
        assert seen == everything


def test_a_cursor_keeps_its_order_and_garbage_is_refused(
    engine: Engine, thread_items: dict[str, int]
) -> None:
    everything = [item["item_id"] for item in list_items(engine, Filters()).items]
    cursor = list_items(engine, Filters(), limit=1).next_cursor
    assert cursor is not None
    rest = list_items(engine, Filters(), order="newest", cursor=cursor).items
    assert [item["item_id"] for item in rest] == everything[1:]
    for garbage in ("!!not-a-cursor", "p1", "n0", "x12", "n12_0.5", "p12_"):
        with pytest.raises(InvalidCursor, match="next_cursor"):
            list_items(engine, Filters(), cursor=garbage)


def test_an_item_comes_with_its_thread_around_it(
    engine: Engine, thread_items: dict[str, int]
) -> None:
    item = get_item(engine, thread_items["deep"])
    context = item["context"]
    assert [c["comment_id"] for c in context["ancestors"]] == ["root", "agree"]
    assert context["ancestors"][0]["labels"]["hate"] == pytest.approx(0.9)
    assert context["siblings"] == [] and context["replies"] == []
    root = get_item(engine, thread_items["root"])["context"]
    assert [c["comment_id"] for c in root["replies"]] == ["agree", "calm"]
    assert [c["comment_id"] for c in root["siblings"]] == ["other"]
    assert root["replies"][0]["labels"]["reply_stance"] == "agree"
    assert item["comment"]["text"] == "deeper"
    assert item["comment"]["scores"]["conspiracy"] == pytest.approx(0.8)
    assert item["thread"]["article_excerpt"] == "The council voted."


def test_an_unknown_item_is_not_found(engine: Engine, keys: dict[str, ApiKey]) -> None:
    with pytest.raises(ItemNotFound, match="id 999"):
        get_item(engine, 999)
    with pytest.raises(ItemNotFound):
        history(engine, 999)
    with pytest.raises(ItemNotFound):
        decide(engine, 999, action="approve", item_version=1, key=keys["ann"])


def test_a_decision_moves_the_item_and_is_kept(
    engine: Engine, thread_items: dict[str, int], keys: dict[str, ApiKey]
) -> None:
    item_id = thread_items["root"]
    made = decide(
        engine,
        item_id,
        action="reject",
        item_version=1,
        key=keys["ann"],
        reason="slur",
        note="see the code word",
    )
    assert made["item"] == {"item_id": item_id, "status": "rejected", "version": 2}
    assert (made["moderator"], made["key_id"]) == ("ann", keys["ann"].key_id)
    assert made["status_after"] == "rejected" and made["reason"] == "slur"
    assert get_item(engine, item_id)["status"] == "rejected"
    assert list_items(engine, Filters(status="rejected")).items[0]["item_id"] == item_id


def test_a_stale_decision_loses_with_the_current_state(
    engine: Engine, thread_items: dict[str, int], keys: dict[str, ApiKey]
) -> None:
    item_id = thread_items["root"]
    decide(engine, item_id, action="approve", item_version=1, key=keys["ann"])
    with pytest.raises(StaleDecision, match="version 2 .approved., not 1") as caught:
        decide(engine, item_id, action="reject", item_version=1, key=keys["bob"])
    assert caught.value.current == {"item_id": item_id, "status": "approved", "version": 2}
    assert [d["moderator"] for d in history(engine, item_id)] == ["ann"]


def test_undo_is_a_new_decision_and_history_keeps_everything(
    engine: Engine, thread_items: dict[str, int], keys: dict[str, ApiKey]
) -> None:
    item_id = thread_items["root"]
    decide(engine, item_id, action="reject", item_version=1, key=keys["ann"])
    decide(engine, item_id, action="reopen", item_version=2, key=keys["ann"])
    decide(
        engine,
        item_id,
        action="label",
        item_version=3,
        key=keys["bob"],
        labels=Labels(hate=True, hate_target="muslim"),
    )
    log = history(engine, item_id)
    assert [(d["action"], d["status_after"], d["item_version"]) for d in log] == [
        ("reject", "rejected", 1),
        ("reopen", "open", 2),
        ("label", "open", 3),
    ]
    assert log[2]["labels"] == {"hate": True, "hate_target": "muslim"}


def test_an_escalated_item_waits_for_an_admin(
    engine: Engine, thread_items: dict[str, int], keys: dict[str, ApiKey]
) -> None:
    item_id = thread_items["other"]
    decide(engine, item_id, action="escalate", item_version=1, key=keys["ann"])
    with pytest.raises(NeedsAdmin, match="escalated"):
        decide(engine, item_id, action="approve", item_version=2, key=keys["bob"])
    done = decide(engine, item_id, action="approve", item_version=2, key=keys["root"])
    assert done["item"]["status"] == "approved"


def test_a_superseded_item_points_to_its_replacement(
    engine: Engine,
    tiny_model: LoadedModel,
    policy: Policy,
    thread_items: dict[str, int],
    keys: dict[str, ApiKey],
) -> None:
    [new_item] = put(
        engine, tiny_model, policy, Incoming("other", "you absolute fool", scores=scores(toxic=0.8))
    )
    old = thread_items["other"]
    with pytest.raises(StaleDecision):
        decide(engine, old, action="approve", item_version=1, key=keys["ann"])
    with pytest.raises(DecisionRefused, match=f"decide item {new_item} instead"):
        decide(engine, old, action="approve", item_version=2, key=keys["ann"])
    item = get_item(engine, new_item)
    assert item["replaces_item_id"] == old
    assert [v["text"] for v in item["previous_versions"]] == ["you fool"]


@pytest.mark.parametrize(
    ("action", "labels", "match"),
    [
        ("delete", None, "action must be one of"),
        ("label", None, "needs at least one label"),
        ("label", Labels(hate_target="martians"), "labels.hate_target must be one of"),
        ("reject", Labels(stance="maybe"), "labels.stance must be one of"),
        ("approve", Labels(hate=False, hate_target="jewish"), "hate is false"),
    ],
)
def test_invalid_decisions_are_refused_and_nothing_changes(
    engine: Engine,
    thread_items: dict[str, int],
    keys: dict[str, ApiKey],
    action: str,
    labels: Labels | None,
    match: str,
) -> None:
    with pytest.raises(InvalidDecision, match=match):
        decide(
            engine,
            thread_items["root"],
            action=action,
            item_version=1,
            key=keys["ann"],
            labels=labels,
        )
    assert history(engine, thread_items["root"]) == []
    assert get_item(engine, thread_items["root"])["version"] == 1


def test_decisions_are_only_ever_appended(
    engine: Engine, thread_items: dict[str, int], keys: dict[str, ApiKey]
) -> None:
    # Two decisions on one version cannot both stand, whatever the code above the database.
    decide(engine, thread_items["root"], action="approve", item_version=1, key=keys["ann"])
    row = dict(history(engine, thread_items["root"])[0])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            decisions.insert().values(
                item_id=row["item_id"],
                item_version=1,
                action="reject",
                status_after="rejected",
                moderator="bob",
                decided_at=utcnow(),
            )
        )


def test_parallel_decisions_on_one_item_have_exactly_one_winner(
    migrated_url: str, tiny_model: LoadedModel, policy: Policy
) -> None:
    engine = make_engine(migrated_url)
    try:
        [item_id] = put(engine, tiny_model, policy, Incoming("c", "vile", scores=scores(hate=0.9)))
        store = SqlKeyStore(engine)
        moderators = [store.create(Role.moderator, f"m{i}").key for i in range(20)]
    finally:
        engine.dispose()
    start = threading.Barrier(20)
    won: list[str] = []
    lost: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def attempt(key: ApiKey) -> None:
        own = make_engine(migrated_url)
        try:
            start.wait()
            decide(own, item_id, action="reject", item_version=1, key=key)
            won.append(key.name)
        except StaleDecision as stale:
            lost.append(stale.current)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            own.dispose()

    workers = [threading.Thread(target=attempt, args=(key,)) for key in moderators]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert len(won) == 1 and len(lost) == 19
    assert all(current["version"] == 2 for current in lost)
    engine = make_engine(migrated_url)
    try:
        assert [d["moderator"] for d in history(engine, item_id)] == won
    finally:
        engine.dispose()


def test_judgment_reads_approve_and_reject_against_the_items_head() -> None:
    assert judgment("hate", "hate", "reject", None) == {"hate": True}
    assert judgment("hate", "hate", "approve", None) == {"hate": False}
    assert judgment("uncertain", "toxic", "approve", None) == {"toxic": False}
    assert judgment("reported", None, "reject", None) == {}
    assert judgment("hate", "hate", "escalate", None) == {}
    assert judgment("hate", "hate", "approve", {"hate": False, "hate_target": "jewish"}) == {
        "hate": False
    }
    assert judgment("toxic", "toxic", "reject", {"hate": True, "hate_target": "muslim"}) == {
        "toxic": True,
        "hate": True,
        "hate_target": "muslim",
    }


def test_stats_count_queues_moderators_precision_and_agreement(
    engine: Engine, thread_items: dict[str, int], keys: dict[str, ApiKey]
) -> None:
    root, deep = thread_items["root"], thread_items["deep"]
    decide(engine, root, action="reject", item_version=1, key=keys["ann"])
    decide(engine, root, action="reopen", item_version=2, key=keys["ann"])
    decide(engine, root, action="reject", item_version=3, key=keys["bob"])  # agrees with ann
    decide(engine, deep, action="approve", item_version=1, key=keys["ann"])
    decide(engine, deep, action="reopen", item_version=2, key=keys["ann"])
    decide(engine, deep, action="reject", item_version=3, key=keys["bob"])  # disagrees
    found = stats(engine)
    assert found.open_by_queue == {
        "hate": 0,
        "conspiracy": 0,
        "toxic": 1,
        "reported": 0,
        "uncertain": 0,
    }
    assert found.decisions_by_moderator == {"ann": 4, "bob": 2}
    assert found.precision["hate"] == {"judged": 1, "confirmed": 1, "precision": 1.0}
    assert found.precision["conspiracy"] == {"judged": 1, "confirmed": 1, "precision": 1.0}
    assert found.precision["toxic"] == {"judged": 0, "confirmed": 0, "precision": None}
    assert found.agreement["items"] == 2 and found.agreement["agreed"] == 1
    assert found.agreement["rate"] == 0.5


def test_export_writes_training_rows_in_decision_order(
    engine: Engine, thread_items: dict[str, int], keys: dict[str, ApiKey]
) -> None:
    decide(engine, thread_items["root"], action="reject", item_version=1, key=keys["ann"])
    before = utcnow()
    decide(
        engine,
        thread_items["deep"],
        action="approve",
        item_version=1,
        key=keys["bob"],
        labels=Labels(stance="against"),
    )
    rows = list(export_feedback(engine))
    assert [r["schema"] for r in rows] == [FEEDBACK_SCHEMA] * 2
    first, second = rows
    assert first["doc_id"] == "story-1#root@1"
    assert (first["hate"], first["hate_target"], first["toxic"]) == (1, "jewish", None)
    assert first["parent_text"] == "Bridges\n\nThe council voted."
    assert first["topic"] == "Bridges" and first["moderator"] == "ann"
    assert second["conspiracy"] == 0 and second["stance"] == "against"
    assert second["parent_text"] == "so true"
    assert [r["decision_id"] for r in export_feedback(engine, since=before)] == [
        second["decision_id"]
    ]


def test_open_counts_stop_at_the_cap(engine: Engine, thread_items: dict[str, int]) -> None:
    from app.queue.review import open_count

    assert open_count(engine) == {
        "hate": 1,
        "conspiracy": 1,
        "toxic": 1,
        "reported": 0,
        "uncertain": 0,
    }
    assert open_count(engine, ("hate", "toxic"), cap=1) == {"hate": 1, "toxic": 1}
    assert open_count(engine, ("hate",), cap=0) == {"hate": 0}
