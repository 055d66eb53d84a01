from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.compat import is_english, sentence_spans, utf16_offsets
from app.api.deps import Services
from app.api.errors import install_error_handlers
from app.api.metrics import Metrics
from app.api.routes import perspective
from app.auth import ApiKey, Role
from app.config import Settings
from app.registry import LoadedModel
from app.scoring import score_frame

URL = "/v1alpha1/comments:analyze"
HATEFUL = "jews are vermin and should be driven out"
BENIGN = "the report discusses attacks on jews and condemns them"


class MemoryKeys:
    """A KeyStore kept in a dict: secret -> key."""

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}

    def add(self, secret: str, role: Role, *, revoked: bool = False) -> ApiKey:
        now = datetime.now(UTC)
        key = ApiKey(f"k{len(self.keys)}", "test", role, now, now if revoked else None)
        self.keys[secret] = key
        return key

    def verify(self, secret: str) -> ApiKey | None:
        key = self.keys.get(secret)
        return key if key is not None and key.active else None

    def any_key_made(self) -> bool:
        return bool(self.keys)


def make_app(model: LoadedModel, keys: MemoryKeys | None = None, **settings: Any) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(perspective.router)
    app.state.services = Services(
        settings=Settings(**{"anonymous_scoring": "loopback", **settings}),
        model=model,
        keys=keys or MemoryKeys(),
        metrics=Metrics(model.version),
    )
    app.state.log_exception = lambda exc: None
    return app


@pytest.fixture
def client(tiny_model: LoadedModel) -> Iterator[TestClient]:
    with TestClient(make_app(tiny_model)) as test_client:
        yield test_client


def analyze(text: str | None = HATEFUL, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"requestedAttributes": {"TOXICITY": {}}}
    if text is not None:
        body["comment"] = {"text": text}
    body.update(fields)
    return body


def assert_perspective_error(
    response: Any, error_type: str | None, *, status: int = 400, field: str | None = None
) -> str:
    """Check Google's error shape and Perspective's error type; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == status
    assert error["status"] == {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED"}[status]
    assert error["message"]
    details = error.get("details", [])
    types = [d["errorType"] for d in details if d["@type"].endswith("v1alpha1.Error")]
    assert types == ([error_type] if error_type else [])
    if field is not None:
        violations = [
            d for d in details if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"
        ]
        assert violations[0]["fieldViolations"][0]["field"] == field
    message: str = error["message"]
    return message


def head_scores(model: LoadedModel, texts: list[str], head: str) -> list[float]:
    scored = score_frame(model, pd.DataFrame({"text": texts}), evidence_top=0)
    return [round(float(v), 6) for v in scored[head]]


def test_response_has_perspectives_shape_and_our_heads_numbers(
    client: TestClient, tiny_model: LoadedModel
) -> None:
    attributes: dict[str, Any] = {
        "TOXICITY": {},
        "IDENTITY_ATTACK": {},
        "THREADGUARD_CONSPIRACY": {},
    }
    response = client.post(
        URL, json=analyze(requestedAttributes=attributes, languages=["en"], clientToken="t-1")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"attributeScores", "languages", "clientToken"}
    assert body["languages"] == ["en"]
    assert body["clientToken"] == "t-1"
    assert set(body["attributeScores"]) == set(attributes)
    for name, head in (
        ("TOXICITY", "toxic"),
        ("IDENTITY_ATTACK", "hate"),
        ("THREADGUARD_CONSPIRACY", "conspiracy"),
    ):
        scores = body["attributeScores"][name]
        expected = head_scores(tiny_model, [HATEFUL], head)[0]
        assert scores["summaryScore"] == {"value": expected, "type": "PROBABILITY"}
        assert scores["spanScores"] == [
            {"begin": 0, "end": len(HATEFUL), "score": {"value": expected, "type": "PROBABILITY"}}
        ]


def test_identity_attack_separates_an_attack_from_talk_about_the_group(
    client: TestClient,
) -> None:
    def identity_attack(text: str) -> float:
        body = analyze(text, requestedAttributes={"IDENTITY_ATTACK": {}})
        value: float = client.post(URL, json=body).json()["attributeScores"]["IDENTITY_ATTACK"][
            "summaryScore"
        ]["value"]
        return value

    assert identity_attack(HATEFUL) > 0.5 > identity_attack(BENIGN)


def test_languages_default_to_english_without_claiming_detection(client: TestClient) -> None:
    body = client.post(URL, json=analyze()).json()
    assert body["languages"] == ["en"]
    assert "detectedLanguages" not in body and "clientToken" not in body
    tagged = client.post(URL, json=analyze(languages=["en-US"])).json()
    assert tagged["languages"] == ["en-US"]


def test_span_annotations_score_each_sentence_with_utf16_offsets(
    client: TestClient, tiny_model: LoadedModel
) -> None:
    text = f"🙂 {BENIGN}. {HATEFUL}!"
    body = analyze(text, requestedAttributes={"IDENTITY_ATTACK": {}}, spanAnnotations=True)
    scores = client.post(URL, json=body).json()["attributeScores"]["IDENTITY_ATTACK"]
    first, second = f"🙂 {BENIGN}.", f"{HATEFUL}!"
    expected = head_scores(tiny_model, [text, first, second], "hate")
    assert scores["summaryScore"]["value"] == expected[0]
    # The emoji is one code point but two UTF-16 units.
    second_begin = len(first) + 1 + 1
    assert scores["spanScores"] == [
        {"begin": 0, "end": len(first) + 1, "score": {"value": expected[1], "type": "PROBABILITY"}},
        {
            "begin": second_begin,
            "end": second_begin + len(second),
            "score": {"value": expected[2], "type": "PROBABILITY"},
        },
    ]
    assert expected[2] > expected[1]


def test_score_threshold_leaves_out_low_attributes_and_spans(
    client: TestClient, tiny_model: LoadedModel
) -> None:
    # Not a training text of the tiny model, so its score is not saturated at 1.
    hateful = "honestly the jews are vermin"
    text = f"{BENIGN}. {hateful}"
    summary, low, high = head_scores(tiny_model, [text, f"{BENIGN}.", hateful], "hate")
    assert low < summary <= high < 1.0

    def scores(threshold: float, spans: bool = False) -> dict[str, Any]:
        attributes = {"IDENTITY_ATTACK": {"scoreThreshold": threshold}, "TOXICITY": {}}
        body = analyze(text, requestedAttributes=attributes, spanAnnotations=spans)
        result: dict[str, Any] = client.post(URL, json=body).json()["attributeScores"]
        return result

    assert "IDENTITY_ATTACK" not in scores(summary + 1e-6)
    assert "TOXICITY" in scores(1.0)
    assert "IDENTITY_ATTACK" in scores(0.0)
    kept = scores(summary, spans=True)["IDENTITY_ATTACK"]
    assert kept["summaryScore"]["value"] == summary
    assert [span["score"]["value"] for span in kept["spanScores"]] == [high]


def test_attribute_names_are_matched_without_case_and_echoed(client: TestClient) -> None:
    body = client.post(URL, json=analyze(requestedAttributes={"toxicity": {}})).json()
    assert list(body["attributeScores"]) == ["toxicity"]


def test_proto_field_names_are_accepted_like_google_does(client: TestClient) -> None:
    body = {"comment": {"text": HATEFUL}, "requested_attributes": {"TOXICITY": {}}}
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", ["INSULT", "THREAT", "PROFANITY", "SEVERE_TOXICITY"])
def test_attributes_without_an_honest_head_are_refused_by_name(
    client: TestClient, name: str
) -> None:
    body = analyze(requestedAttributes={"TOXICITY": {}, name: {}})
    message = assert_perspective_error(
        client.post(URL, json=body), "INVALID_REQUEST", field=f"requestedAttributes.{name}"
    )
    assert name in message and "request TOXICITY" in message


def test_unknown_attribute_lists_what_is_served(client: TestClient) -> None:
    body = analyze(requestedAttributes={"FLIRTATION": {}})
    message = assert_perspective_error(client.post(URL, json=body), "INVALID_REQUEST")
    assert "Unknown requested attribute: FLIRTATION" in message
    assert "THREADGUARD_HATE" in message


def test_drop_unsupported_attributes_leaves_them_out(client: TestClient) -> None:
    body = analyze(
        requestedAttributes={"TOXICITY": {}, "INSULT": {}, "SEXUALLY_EXPLICIT": {}},
        dropUnsupportedAttributes=True,
    )
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert list(response.json()["attributeScores"]) == ["TOXICITY"]
    foreign = client.post(URL, json=analyze(languages=["fr"], dropUnsupportedAttributes=True))
    assert foreign.status_code == 200 and foreign.json()["attributeScores"] == {}


@pytest.mark.parametrize("languages", [["fr"], ["en", "de"], ["pt-BR"]])
def test_languages_other_than_english_are_refused(client: TestClient, languages: list[str]) -> None:
    body = analyze(languages=languages, requestedAttributes={"IDENTITY_ATTACK": {}})
    response = client.post(URL, json=body)
    message = assert_perspective_error(
        response, "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE", field="languages"
    )
    assert message.startswith("Attribute IDENTITY_ATTACK does not support request languages")
    detail = response.json()["error"]["details"][0]["languageNotSupportedByAttributeError"]
    assert detail == {"requestedLanguages": languages, "attribute": "IDENTITY_ATTACK"}


@pytest.mark.parametrize(
    ("body", "error_type", "field", "match"),
    [
        (analyze(""), "COMMENT_EMPTY", "comment.text", "non-empty"),
        (analyze(" \n\t"), "COMMENT_EMPTY", "comment.text", "non-empty"),
        (analyze(None), "COMMENT_EMPTY", "comment.text", "non-empty"),
        (analyze(requestedAttributes={}), "NO_REQUESTED_ATTRIBUTES", None, "requested_attr"),
        ({"comment": {"text": HATEFUL}}, "NO_REQUESTED_ATTRIBUTES", None, "requested_attr"),
        (
            analyze(comment={"text": HATEFUL, "type": "HTML"}),
            "INVALID_REQUEST",
            "comment.type",
            "only 'PLAIN_TEXT'",
        ),
        (
            analyze(comment={"text": HATEFUL, "type": "MARKDOWN"}),
            "INVALID_REQUEST",
            "comment.type",
            "Unknown text type",
        ),
        (
            analyze(requestedAttributes={"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}),
            "INVALID_REQUEST",
            "requestedAttributes.TOXICITY.scoreType",
            "score type STD_DEV_SCORE is not supported",
        ),
        (
            analyze(requestedAttributes={"TOXICITY": {"scoreThreshold": 1.5}}),
            "INVALID_REQUEST",
            "requestedAttributes.TOXICITY.scoreThreshold",
            "between 0 and 1",
        ),
        (
            analyze(
                context={
                    "entries": [{"text": "a"}],
                    "articleAndParentComment": {"parentComment": {"text": "b"}},
                }
            ),
            "INVALID_REQUEST",
            "context",
            "either entries or article_and_parent_comment",
        ),
        (analyze(commentText=HATEFUL), "INVALID_REQUEST", "commentText", "Unknown name"),
        (
            analyze(requestedAttributes=["TOXICITY"]),
            "INVALID_REQUEST",
            "requestedAttributes",
            "Invalid value",
        ),
    ],
)
def test_request_errors_have_perspectives_error_types(
    client: TestClient, body: dict[str, Any], error_type: str, field: str | None, match: str
) -> None:
    message = assert_perspective_error(client.post(URL, json=body), error_type, field=field)
    assert match in message


def test_context_is_accepted_and_does_not_change_the_scores(client: TestClient) -> None:
    plain = client.post(URL, json=analyze()).json()
    context = {"articleAndParentComment": {"parentComment": {"text": "I disagree."}}}
    with_context = client.post(URL, json=analyze(context=context, doNotStore=True)).json()
    assert with_context == plain


def test_comment_too_long_counts_utf8_bytes(tiny_model: LoadedModel) -> None:
    with TestClient(make_app(tiny_model, max_text_bytes=100)) as client:
        assert client.post(URL, json=analyze("é" * 50)).status_code == 200
        message = assert_perspective_error(
            client.post(URL, json=analyze("é" * 51)), "COMMENT_TOO_LONG", field="comment.text"
        )
    assert "102 bytes" in message and "100" in message


@pytest.mark.parametrize(
    ("content", "headers", "match"),
    [
        (b'{"comment": ', {"Content-Type": "application/json"}, "Invalid JSON payload"),
        (
            b'{"comment": {"text": "caf\xe9"}}',
            {"Content-Type": "application/json"},
            "not UTF-8 (byte 25 is 0xe9)",
        ),
        (b"", {"Content-Type": "application/json"}, "the body is empty"),
        (b"comment=hello", {"Content-Type": "text/plain"}, "Content-Type: application/json"),
    ],
)
def test_unreadable_bodies_are_refused_in_perspectives_shape(
    client: TestClient, content: bytes, headers: dict[str, str], match: str
) -> None:
    response = client.post(URL, content=content, headers=headers)
    assert match in assert_perspective_error(response, "INVALID_REQUEST")


def test_keys_by_query_header_or_bearer(tiny_model: LoadedModel) -> None:
    keys = MemoryKeys()
    keys.add("tg_good", Role.scorer)
    keys.add("tg_moderator", Role.moderator)
    keys.add("tg_revoked", Role.scorer, revoked=True)
    with TestClient(make_app(tiny_model, keys)) as client:
        missing = client.post(URL, json=analyze())
        assert "?key=<key>" in assert_perspective_error(missing, None, status=401)
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        for ok in (
            client.post(f"{URL}?key=tg_good", json=analyze()),
            client.post(f"{URL}?key=tg_moderator", json=analyze()),
            client.post(URL, json=analyze(), headers={"X-Goog-Api-Key": "tg_good"}),
            client.post(URL, json=analyze(), headers={"Authorization": "Bearer tg_good"}),
        ):
            assert ok.status_code == 200, ok.text
        for refused in (
            client.post(f"{URL}?key=tg_revoked", json=analyze()),
            client.post(f"{URL}?key=nonsense", json=analyze()),
            client.post(URL, json=analyze(), headers={"Authorization": "Bearer nonsense"}),
        ):
            assert "key" in assert_perspective_error(refused, None, status=401)


def test_anonymous_scoring_can_be_turned_off(tiny_model: LoadedModel) -> None:
    with TestClient(make_app(tiny_model, anonymous_scoring="never")) as client:
        assert_perspective_error(client.post(URL, json=analyze()), None, status=401)


def test_metrics_count_the_comment_not_its_sentences(tiny_model: LoadedModel) -> None:
    app = make_app(tiny_model)
    with TestClient(app) as client:
        body = analyze(f"{BENIGN}. {HATEFUL}. {BENIGN}.", spanAnnotations=True)
        assert client.post(URL, json=body).status_code == 200
    registry = app.state.services.metrics.registry
    sample = registry.get_sample_value(
        "threadguard_comments_scored_total", {"endpoint": "perspective"}
    )
    assert sample == 1.0


def test_openapi_documents_the_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"][URL]["post"]
    assert {"200", "400", "401"} <= set(operation["responses"])
    assert "422" not in operation["responses"]
    assert "key" in [parameter["name"] for parameter in operation["parameters"]]


def test_sentence_spans_trim_and_cap() -> None:
    text = "  One.  Two?! three\nfour…  "
    assert [text[b:e] for b, e in sentence_spans(text)] == ["One.", "Two?!", "three", "four…"]
    assert sentence_spans("v1.2 is out") == [(0, 11)]
    capped = sentence_spans("a. b. c. d.", limit=2)
    assert capped == [(0, 2), (3, 11)]


def test_utf16_offsets_count_astral_characters_twice() -> None:
    to_utf16 = utf16_offsets("a🙂b")
    assert [to_utf16(i) for i in range(4)] == [0, 1, 3, 4]
    assert utf16_offsets("plain")(3) == 3


@pytest.mark.parametrize(("code", "english"), [("en", True), ("EN-gb", True), ("eng", False)])
def test_is_english(code: str, english: bool) -> None:
    assert is_english(code) is english
