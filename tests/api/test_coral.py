from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.api.compat import (
    DEFAULT_CORAL_POLICY,
    coral_decision,
    coral_policy,
    coral_signature,
    coral_signature_valid,
    looks_like_html,
)
from app.api.deps import Services
from app.api.errors import install_error_handlers
from app.api.metrics import Metrics
from app.api.routes import coral
from app.auth import ApiKey
from app.config import Settings
from app.heads import BINARY_HEADS
from app.registry import LoadedModel
from tests.api.conftest import assert_error

URL = "/v1/integrations/coral"
SECRET = "coral-signing-secret-0123456789abcdef"
OLD_SECRET = "coral-signing-secret-previous-98765"
HATEFUL = "jews are vermin and should be driven out"
BENIGN = "the report discusses attacks on jews and condemns them"


class NoKeys:
    """A KeyStore with no keys: the Coral endpoint never asks for one."""

    def verify(self, secret: str) -> ApiKey | None:
        return None

    def any_key_made(self) -> bool:
        return False


def make_app(model: LoadedModel, secret: str | None = SECRET, **settings: Any) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(coral.router)
    app.state.services = Services(
        settings=Settings(
            coral_secret=SecretStr(secret) if secret else None,
            anonymous_scoring="loopback",
            **settings,
        ),
        model=model,
        keys=NoKeys(),
        metrics=Metrics(model.version),
    )
    app.state.log_exception = lambda exc: None
    return app


@pytest.fixture
def client(tiny_model: LoadedModel) -> Iterator[TestClient]:
    with TestClient(make_app(tiny_model)) as test_client:
        yield test_client


def payload(body: str, *, action: str = "NEW", parent_id: str | None = None) -> dict[str, Any]:
    return {
        "action": action,
        "comment": {"body": body, "parentID": parent_id},
        "author": {"id": "baf4e943", "role": "COMMENTER"},
        "story": {"id": "245b3856", "url": "https://example.com/a-story/"},
        "site": {"id": "a4bede88"},
        "tenantID": "19ba5794",
        "tenantDomain": "example.com",
    }


def encode(data: dict[str, Any]) -> bytes:
    # Coral sends JSON.stringify(request, null, 2): the signature covers these exact bytes.
    return json.dumps(data, indent=2).encode("utf-8")


def post(
    client: TestClient, raw: bytes, *, secrets: tuple[str, ...] = (SECRET,), signature: str = ""
) -> Any:
    header = signature or ",".join(coral_signature(s.encode(), raw) for s in secrets)
    headers = {"Content-Type": "application/json", "X-Coral-Signature": header}
    return client.post(URL, content=raw, headers=headers)


def test_a_hateful_comment_is_flagged_and_withheld(client: TestClient) -> None:
    response = post(client, encode(payload(HATEFUL)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "SYSTEM_WITHHELD"
    [action] = body["actions"]
    assert action["actionType"] == "FLAG"
    assert action["reason"] == "COMMENT_DETECTED_TOXIC"
    details = action["additionalDetails"]
    assert re.match(r"threadguard tiny-1: hate [01]\.\d\d \(", details), details
    assert "target jewish" in details and "words: " in details


def test_a_benign_comment_gets_no_opinion(client: TestClient) -> None:
    response = post(client, encode(payload(BENIGN)))
    assert response.status_code == 204
    assert response.content == b""


def test_an_edit_is_judged_like_a_new_comment(client: TestClient) -> None:
    edited = post(client, encode(payload(HATEFUL, action="EDIT", parent_id="d79b787f")))
    assert edited.status_code == 200 and edited.json()["status"] == "SYSTEM_WITHHELD"
    assert post(client, encode(payload(BENIGN, action="EDIT"))).status_code == 204


def test_html_bodies_are_read_as_their_text(client: TestClient) -> None:
    html = "<p>jews are <b>vermin</b> and should be driven out</p>"
    assert post(client, encode(payload(html))).status_code == 200
    assert post(client, encode(payload("<p><br></p>"))).status_code == 204


def test_an_older_coral_payload_is_accepted(client: TestClient) -> None:
    old = payload(HATEFUL)
    del old["tenantID"], old["tenantDomain"], old["author"]
    old["tenant"] = {"id": "19ba5794", "domain": "example.com"}
    old["unknownNewField"] = {"anything": True}
    assert post(client, encode(old)).status_code == 200


@pytest.mark.parametrize(
    "secrets", [(OLD_SECRET, SECRET), (SECRET, OLD_SECRET)], ids=["new-last", "new-first"]
)
def test_a_rotated_secret_is_one_of_several_signatures(
    client: TestClient, secrets: tuple[str, ...]
) -> None:
    assert post(client, encode(payload(HATEFUL)), secrets=secrets).status_code == 200


def test_a_missing_signature_is_401(client: TestClient) -> None:
    raw = encode(payload(HATEFUL))
    response = client.post(URL, content=raw, headers={"Content-Type": "application/json"})
    assert "X-Coral-Signature" in assert_error(response, 401, "signature_missing")


@pytest.mark.parametrize(
    "signature",
    [
        coral_signature(OLD_SECRET.encode(), encode(payload(HATEFUL))),
        coral_signature(SECRET.encode(), encode(payload(BENIGN))),
        "sha1=" + coral_signature(SECRET.encode(), encode(payload(HATEFUL)))[7:],
        "sha256=",
        "garbage",
    ],
    ids=["other-secret", "other-body", "other-prefix", "empty", "garbage"],
)
def test_a_wrong_signature_is_401(client: TestClient, signature: str) -> None:
    response = post(client, encode(payload(HATEFUL)), signature=signature)
    assert "THREADGUARD_CORAL_SECRET" in assert_error(response, 401, "signature_invalid")


def test_without_a_secret_the_endpoint_is_off(tiny_model: LoadedModel) -> None:
    with TestClient(make_app(tiny_model, secret=None)) as client:
        response = post(client, encode(payload(HATEFUL)))
    assert "THREADGUARD_CORAL_SECRET" in assert_error(response, 503, "coral_not_configured")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**payload(HATEFUL), "action": "DELETE"}, "action"),
        ({**payload(HATEFUL), "comment": {"parentID": None}}, "comment.body"),
        ({"action": "NEW"}, "comment"),
        ({**payload(HATEFUL), "comment": {"body": 42}}, "comment.body"),
    ],
)
def test_a_signed_but_malformed_payload_is_422(
    client: TestClient, data: dict[str, Any], field: str
) -> None:
    assert_error(post(client, encode(data)), 422, "invalid_input", field)


def test_signed_bodies_that_are_not_json_are_400(client: TestClient) -> None:
    assert_error(post(client, b'{"action": "NEW", '), 400, "invalid_json")
    message = assert_error(post(client, b'{"action": "caf\xe9"}'), 400, "invalid_encoding")
    assert "0xe9" in message


def test_a_comment_over_the_text_limit_is_413(tiny_model: LoadedModel) -> None:
    with TestClient(make_app(tiny_model, max_text_bytes=100)) as client:
        response = post(client, encode(payload("é" * 51)))
    assert "102 bytes" in assert_error(response, 413, "text_too_long", "comment.body")


def test_coral_comments_are_counted_in_metrics(tiny_model: LoadedModel) -> None:
    app = make_app(tiny_model)
    with TestClient(app) as client:
        post(client, encode(payload(HATEFUL)))
        post(client, encode(payload(BENIGN)))
    registry = app.state.services.metrics.registry
    labels = {"endpoint": "coral"}
    assert registry.get_sample_value("threadguard_comments_scored_total", labels) == 2.0
    assert registry.get_sample_value("threadguard_flags_total", {"label": "hate"}) == 1.0


def test_openapi_documents_the_signed_body_inline(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][URL]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "$defs" not in json.dumps(schema)
    assert schema["properties"]["comment"]["properties"]["body"]["type"] == "string"
    assert {"200", "204", "401", "422", "503"} <= set(operation["responses"])


def _record(**flags: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"model_version": "v1", "hate_target": None, "evidence": {}}
    for head in BINARY_HEADS:
        record[head] = 0.9 if flags.get(head) else 0.1
        record[f"{head}_flag"] = bool(flags.get(head))
    return record


def test_policy_decides_flag_withhold_or_silence() -> None:
    policy = coral_policy(None)
    assert policy == dict(DEFAULT_CORAL_POLICY)
    assert coral_decision(_record(), policy, BINARY_HEADS) is None
    toxic = coral_decision(_record(toxic=True), policy, BINARY_HEADS)
    assert toxic is not None and "status" not in toxic
    assert toxic["actions"][0]["additionalDetails"] == "threadguard v1: toxic 0.90"
    assert coral_decision(_record(conspiracy=True), policy, BINARY_HEADS) is None
    opted_in = coral_policy({"conspiracy": "flag", "hate": "flag"})
    both = coral_decision(_record(hate=True, conspiracy=True), opted_in, BINARY_HEADS)
    assert both is not None and "status" not in both and len(both["actions"]) == 1
    assert both["actions"][0]["additionalDetails"] == "threadguard v1: hate 0.90; conspiracy 0.90"


def test_signature_check_bounds_the_header() -> None:
    body = b"{}"
    good = coral_signature(SECRET.encode(), body)
    assert coral_signature_valid(SECRET.encode(), body, f"sha256=x, sha256={good[7:].upper()}")
    padded = ",".join(["sha256=0"] * 20 + [good])
    assert not coral_signature_valid(SECRET.encode(), body, padded)


@pytest.mark.parametrize(
    ("body", "html"),
    [("<p>hi</p>", True), ("a<br/>b", True), ("I <3 this, a < b > c", False), ("plain", False)],
)
def test_looks_like_html(body: str, html: bool) -> None:
    assert looks_like_html(body) is html
