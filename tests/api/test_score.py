from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.registry import LoadedModel
from tests.api.conftest import assert_error, make_client

HATEFUL = "jews are vermin and should be driven out"


def test_one_comment_has_every_head(client: TestClient, tiny_model: LoadedModel) -> None:
    response = client.post(
        "/v1/score",
        json={"id": "c1", "text": HATEFUL, "parent_text": "I agree", "topic": "banks"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "c1"
    assert body["model_version"] == tiny_model.version
    assert set(body["scores"]) == {"hate", "toxic", "conspiracy"}
    for head, p in body["scores"].items():
        assert 0.0 <= p <= 1.0
        assert (head in body["flags"]) == (p >= tiny_model.thresholds[head] - 1e-6)
    assert body["stance"]["label"] in ("favor", "against", "none")
    assert set(body["stance"]["probabilities"]) == {"favor", "against", "none"}
    assert body["reply_stance"]["label"] in ("agree", "disagree", "query", "comment")
    assert body["severity"]["label"] in ("normal", "offensive", "hateful")
    assert sum(body["severity"]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert "hate" in body["flags"]
    assert body["hate_target"]["label"] == "jewish"
    assert set(body["evidence"]) == set(body["flags"])
    for spans in body["evidence"].values():
        assert spans
        for span in spans:
            assert HATEFUL[span["start"] : span["end"]] == span["text"]


def test_without_parent_or_topic_there_is_no_stance(client: TestClient) -> None:
    body = client.post("/v1/score", json={"text": "a nice day at the lake"}).json()
    assert body["stance"] is None
    assert body["reply_stance"] is None
    assert body["id"] is None


def test_batch_keeps_order_and_ids(client: TestClient) -> None:
    comments = [
        {"id": str(i), "text": f"comment number {i} " + HATEFUL * (i % 2)} for i in range(7)
    ]
    response = client.post("/v1/score", json={"comments": comments})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(i) for i in range(7)]
    single = client.post("/v1/score", json=comments[1]).json()
    assert results[1]["scores"] == single["scores"]


def test_batch_over_the_limit_is_413(sqlite_url: str, tiny_model: LoadedModel) -> None:
    with make_client(sqlite_url, tiny_model, max_batch=3) as client:
        response = client.post("/v1/score", json={"comments": [{"text": "hi"}] * 4})
    assert "over the limit of 3" in assert_error(response, 413, "batch_too_large", "comments")


def test_long_text_is_413_naming_the_field(sqlite_url: str, tiny_model: LoadedModel) -> None:
    with make_client(sqlite_url, tiny_model, max_text_bytes=100) as client:
        response = client.post("/v1/score", json={"comments": [{"text": "ok"}, {"text": "é" * 51}]})
        message = assert_error(response, 413, "text_too_long", "comments.1.text")
        assert "102 bytes" in message
        parent = client.post("/v1/score", json={"text": "ok", "parent_text": "x" * 101})
        assert_error(parent, 413, "text_too_long", "parent_text")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "   "}, "text"),
        ({"comments": [{"text": "fine"}, {"text": ""}]}, "comments.1.text"),
    ],
)
def test_blank_text_is_refused(client: TestClient, body: dict[str, object], field: str) -> None:
    assert "empty" in assert_error(client.post("/v1/score", json=body), 422, "comment_empty", field)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": 5},
        {"text": "hi", "colour": "red"},
        {"comments": []},
        {"comments": "hi"},
        [1, 2],
    ],
)
def test_malformed_bodies_are_422(client: TestClient, body: object) -> None:
    assert_error(client.post("/v1/score", json=body), 422, "invalid_input")


def test_invalid_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/score", content=b'{"text": "hi"', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in assert_error(response, 400, "invalid_json")


def test_non_utf8_body_is_refused_clearly(client: TestClient) -> None:
    response = client.post(
        "/v1/score",
        content='{"text": "caf\u00e9"}'.encode("latin-1"),
        headers={"content-type": "application/json"},
    )
    assert "UTF-8" in assert_error(response, 400, "invalid_json")


def test_body_over_the_limit_is_413(sqlite_url: str, tiny_model: LoadedModel) -> None:
    with make_client(sqlite_url, tiny_model, max_body_bytes=2_048, max_text_bytes=1_024) as client:
        big = {"comments": [{"text": "word " * 100}] * 10}
        response = client.post("/v1/score", json=big)
        assert "2,048 bytes" in assert_error(response, 413, "payload_too_large")

        def chunks() -> object:
            for _ in range(10):
                yield b" " * 1_000

        streamed = client.post(
            "/v1/score", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_error(streamed, 413, "payload_too_large")


def test_hostile_text_is_returned_as_data(client: TestClient) -> None:
    # The override comes last: what follows it is shown reversed, so it reads as nothing.
    text = '<script>alert("x")</script> ' + HATEFUL + " \u202e\u0000 x"
    body = client.post("/v1/score", json={"text": text}).json()
    assert body["evidence"]
    for spans in body["evidence"].values():
        for span in spans:
            assert text[span["start"] : span["end"]] == span["text"]
