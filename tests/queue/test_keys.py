from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import KeyStore, Role
from app.queue import keys as keys_module
from app.queue.keys import InvalidKeyName, KeyNotFound, SqlKeyStore, hash_secret
from app.queue.store import api_keys, utcnow


@pytest.fixture
def key_store(engine: Engine) -> SqlKeyStore:
    return SqlKeyStore(engine)


def test_it_is_a_key_store(key_store: SqlKeyStore) -> None:
    store: KeyStore = key_store
    assert not store.any_key_made()


def test_a_new_key_verifies_with_its_secret(key_store: SqlKeyStore) -> None:
    new = key_store.create(Role.moderator, "  night shift  ")
    assert re.fullmatch(r"tg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", new.secret)
    assert new.secret.split("_", 2)[1] == new.key.key_id
    assert new.key.name == "night shift" and new.key.role is Role.moderator
    assert new.key.active
    assert abs(new.key.created_at - utcnow()) < timedelta(minutes=5)
    assert key_store.verify(new.secret) == new.key
    assert key_store.any_key_made()


def test_only_a_hash_of_the_secret_is_stored(key_store: SqlKeyStore, engine: Engine) -> None:
    new = key_store.create(Role.scorer, "ci")
    with engine.connect() as connection:
        row = connection.execute(sa.select(api_keys)).mappings().one()
    # The token's alphabet includes "_", so it is taken by position, not by the last "_".
    token = new.secret.split("_", 2)[2]
    assert len(token) == 43
    assert all(token not in str(value) for value in row.values())
    assert row["secret_sha256"] == hash_secret(new.secret)


def test_secrets_are_unique(key_store: SqlKeyStore) -> None:
    first = key_store.create(Role.scorer, "a")
    second = key_store.create(Role.scorer, "a")
    assert first.key.key_id != second.key.key_id
    assert first.secret != second.secret


def test_a_colliding_key_id_is_drawn_again(
    key_store: SqlKeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = iter(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(keys_module, "_new_key_id", lambda: next(ids))
    assert key_store.create(Role.scorer, "one").key.key_id == "aaaaaaaaaaaa"
    assert key_store.create(Role.scorer, "two").key.key_id == "bbbbbbbbbbbb"


def test_a_wrong_secret_for_a_real_key_id_is_refused(key_store: SqlKeyStore) -> None:
    new = key_store.create(Role.admin, "ops")
    token = new.secret[-43:]
    other = "A" * 43 if token != "A" * 43 else "B" * 43
    assert key_store.verify(new.secret[:-43] + other) is None
    assert key_store.verify(new.secret.upper()) is None


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "tg_",
        "tg__",
        "tg_0123456789ab_",
        "Bearer tg_0123456789ab_" + "a" * 43,
        "tg_0123456789AB_" + "a" * 43,
        "tg_0123456789ab_" + "a" * 42 + "=",
        "tg_0123456789ab_" + "a" * 43 + "\n",
        "tg_0123456789ab_" + "a" * 10_000_000,
        "tg_0123456789ab_" + "é" * 43,
        "tg_٠١٢٣٤٥٦٧٨٩ab_" + "a" * 43,  # Arabic-Indic digits
        "\x00" * 59,
        "tg_0123456789ab_" + "a" * 43,  # well-formed, no such key
    ],
    ids=lambda s: repr(s[:24]) + f"…{len(s)}",
)
def test_malformed_secrets_are_refused_without_error(key_store: SqlKeyStore, secret: str) -> None:
    key_store.create(Role.admin, "exists")
    assert key_store.verify(secret) is None


def test_a_revoked_key_no_longer_verifies(key_store: SqlKeyStore) -> None:
    kept = key_store.create(Role.scorer, "kept")
    gone = key_store.create(Role.scorer, "gone")
    revoked = key_store.revoke(gone.key.key_id)
    assert revoked.revoked_at is not None and not revoked.active
    assert key_store.verify(gone.secret) is None
    assert key_store.verify(kept.secret) == kept.key
    key_store.revoke(kept.key.key_id)
    # Revoked is not forgotten: the store still knows keys were made.
    assert key_store.any_key_made()
    assert SqlKeyStore(key_store.engine, active_ttl=0.0).any_key_made()


def test_revoking_twice_keeps_the_first_time(key_store: SqlKeyStore) -> None:
    new = key_store.create(Role.scorer, "x")
    first = key_store.revoke(new.key.key_id)
    assert key_store.revoke(new.key.key_id) == first


def test_revoking_an_unknown_key_is_not_found(key_store: SqlKeyStore) -> None:
    with pytest.raises(KeyNotFound, match=r"no API key has the id 'nope'") as caught:
        key_store.revoke("nope")
    assert caught.value.status_code == 404 and caught.value.code == "key_not_found"


def test_list_shows_active_keys_oldest_first_or_all(key_store: SqlKeyStore) -> None:
    names = ["first", "second", "third"]
    created = [key_store.create(Role.scorer, name) for name in names]
    key_store.revoke(created[1].key.key_id)
    assert [k.name for k in key_store.list_keys()] == ["first", "third"]
    listed = key_store.list_keys(include_revoked=True)
    assert [k.name for k in listed] == names
    assert [k.active for k in listed] == [True, False, True]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("x" * 101, "at most 100 characters, this one has 101"),
        ("line\nbreak", "must be printable"),
        ("tab\there", "must be printable"),
        ("bell\x07", "must be printable"),
    ],
)
def test_bad_names_are_refused(key_store: SqlKeyStore, name: str, message: str) -> None:
    with pytest.raises(InvalidKeyName, match=message) as caught:
        key_store.create(Role.scorer, name)
    assert caught.value.field == "name"
    assert key_store.list_keys(include_revoked=True) == []


def test_names_may_be_100_characters_of_any_script(key_store: SqlKeyStore) -> None:
    name = "Modération 审核 " + "x" * 86
    assert len(name) == 100
    new = key_store.create(Role.scorer, name)
    assert key_store.list_keys()[0].name == name == new.key.name


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        (Role.scorer, Role.scorer, True),
        (Role.scorer, Role.moderator, False),
        (Role.scorer, Role.admin, False),
        (Role.moderator, Role.scorer, True),
        (Role.moderator, Role.moderator, True),
        (Role.moderator, Role.admin, False),
        (Role.admin, Role.scorer, True),
        (Role.admin, Role.moderator, True),
        (Role.admin, Role.admin, True),
    ],
)
def test_roles_are_ranked(role: Role, needed: Role, allowed: bool) -> None:
    assert role.allows(needed) is allowed


def test_every_role_can_be_stored(key_store: SqlKeyStore) -> None:
    for role in Role:
        new = key_store.create(role, role.value)
        verified = key_store.verify(new.secret)
        assert verified is not None and verified.role is role


def test_a_no_is_kept_briefly_a_yes_for_good(engine: Engine) -> None:
    store = SqlKeyStore(engine, active_ttl=3600.0)
    other = SqlKeyStore(engine)
    assert store.any_key_made() is False
    other.create(Role.scorer, "made elsewhere")
    # Another process's key is seen once the kept answer expires, not before.
    assert store.any_key_made() is False
    assert SqlKeyStore(engine, active_ttl=0.0).any_key_made() is True
    made = store.create(Role.scorer, "made here")
    assert store.any_key_made() is True
    for key in store.list_keys():
        store.revoke(key.key_id)
    assert store.any_key_made() is True
    assert SqlKeyStore(engine, active_ttl=0.0).any_key_made() is True
    assert made.key.active
