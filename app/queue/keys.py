"""API keys kept in the database: created once, shown once, stored only as a hash.

A secret reads `tg_<key_id>_<token>`: the 12-hex-digit `key_id` is public (it is listed,
logged and used to revoke), the token is 32 random bytes. `verify` finds the row by its
primary key and compares hashes, so checking a key costs one indexed lookup.

Why sha256 and not a password hash (bcrypt, scrypt, argon2): those are slow on purpose
so that guessing a human-chosen password from a stolen hash takes too long. These secrets
are not chosen by people; with 256 random bits there is nothing to guess, however fast the
hash. A slow hash would only add its delay to every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Engine, RowMapping

from app.auth import ApiKey, Role
from app.errors import AppError
from app.queue.store import api_keys, database_errors, utcnow

SECRET_PREFIX: Final = "tg"
KEY_ID_HEX_DIGITS: Final = 12
TOKEN_BYTES: Final = 32
NAME_MAX_CHARS: Final = 100
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet, without padding.
# How long `any_key_made` trusts a no, in seconds.
ACTIVE_KEYS_TTL: Final = 2.0
_SECRET = re.compile(r"tg_(?P<key_id>[0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_SECRET_CHARS: Final = len("tg_") + KEY_ID_HEX_DIGITS + 1 + 43
# A new key_id colliding with an old one is a 1-in-2**48 event; retry rather than fail.
_CREATE_ATTEMPTS: Final = 5


class KeyNotFound(AppError):
    """No API key has this id."""

    status_code = 404
    code = "key_not_found"


class InvalidKeyName(AppError):
    """A key name that is empty, too long, or not printable."""

    status_code = 422
    code = "invalid_key_name"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created, with the secret that is never shown again."""

    key: ApiKey
    secret: str


def hash_secret(secret: str) -> str:
    """The hex sha256 stored for `secret`."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def validate_name(name: str) -> str:
    """The name without surrounding spaces.

    Raises:
        InvalidKeyName: it is empty, longer than 100 characters, or has control characters.
    """
    stripped = name.strip()
    if not stripped:
        raise InvalidKeyName("a key name cannot be empty", field="name")
    if len(stripped) > NAME_MAX_CHARS:
        raise InvalidKeyName(
            f"a key name has at most {NAME_MAX_CHARS} characters, this one has {len(stripped)}",
            field="name",
        )
    if not stripped.isprintable():
        raise InvalidKeyName(
            f"a key name must be printable (no tabs, newlines or control characters): {stripped!r}",
            field="name",
        )
    return stripped


def _new_key_id() -> str:
    return secrets.token_hex(KEY_ID_HEX_DIGITS // 2)


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _to_key(row: RowMapping) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


_KEY_COLUMNS: Final = (
    api_keys.c.key_id,
    api_keys.c.name,
    api_keys.c.role,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
)


class SqlKeyStore:
    """The service's `KeyStore`, and what `threadguard keys` manages, on one engine."""

    def __init__(self, engine: Engine, *, active_ttl: float = ACTIVE_KEYS_TTL) -> None:
        self.engine = engine
        self.active_ttl = active_ttl
        self._made = False
        self._checked: float | None = None

    def verify(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, or None; never raises for a malformed secret.

        Raises:
            DatabaseError: the database cannot be reached.
        """
        # Length first: the regex never sees a megabyte of header.
        if len(secret) != _SECRET_CHARS:
            return None
        match = _SECRET.fullmatch(secret)
        if match is None:
            return None
        query = sa.select(*_KEY_COLUMNS, api_keys.c.secret_sha256).where(
            api_keys.c.key_id == match["key_id"]
        )
        with database_errors(self.engine), self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["secret_sha256"], hash_secret(secret)):
            return None
        return _to_key(row)

    def any_key_made(self) -> bool:
        """Whether a key was ever made here, revoked ones included (one indexed probe).

        Raises:
            DatabaseError: the database cannot be reached.
        """
        # Asked on every anonymous request. Keys are revoked, never deleted, so a yes is
        # final and kept; a no is kept for `active_ttl` seconds, so a key made by
        # `threadguard keys create` in another process counts within that time (at once
        # when made through this store).
        if self._made:
            return True
        now = time.monotonic()
        if self._checked is not None and now - self._checked < self.active_ttl:
            return False
        query = sa.select(api_keys.c.key_id).limit(1)
        with database_errors(self.engine), self.engine.connect() as connection:
            self._made = connection.execute(query).first() is not None
        self._checked = now
        return self._made

    def create(self, role: Role, name: str) -> NewKey:
        """A new active key; its secret is in the result and nowhere else.

        Raises:
            InvalidKeyName: see `validate_name`.
            DatabaseError: the database cannot be reached.
        """
        role = Role(role)
        name = validate_name(name)
        self._made = True
        for attempt in range(_CREATE_ATTEMPTS):
            key = ApiKey(key_id=_new_key_id(), name=name, role=role, created_at=utcnow())
            secret = f"{SECRET_PREFIX}_{key.key_id}_{_new_token()}"
            row = {
                "key_id": key.key_id,
                "name": key.name,
                "role": key.role.value,
                "secret_sha256": hash_secret(secret),
                "created_at": key.created_at,
            }
            try:
                with database_errors(self.engine), self.engine.begin() as connection:
                    connection.execute(api_keys.insert().values(row))
            except exc.IntegrityError:
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
                continue
            return NewKey(key=key, secret=secret)
        raise AssertionError("unreachable")  # pragma: no cover

    def list_keys(self, include_revoked: bool = False) -> list[ApiKey]:
        """Keys, oldest first; only active ones unless `include_revoked`.

        Raises:
            DatabaseError: the database cannot be reached.
        """
        query = sa.select(*_KEY_COLUMNS).order_by(api_keys.c.created_at, api_keys.c.key_id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with database_errors(self.engine), self.engine.connect() as connection:
            return [_to_key(row) for row in connection.execute(query).mappings()]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key from now on; revoking it again changes nothing.

        Raises:
            KeyNotFound: no key has this id.
            DatabaseError: the database cannot be reached.
        """
        update = (
            api_keys.update()
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        select = sa.select(*_KEY_COLUMNS).where(api_keys.c.key_id == key_id)
        with database_errors(self.engine), self.engine.begin() as connection:
            connection.execute(update)
            row = connection.execute(select).mappings().first()
        if row is None:
            raise KeyNotFound(
                f"no API key has the id {key_id!r} (see `threadguard keys list --all`)",
                field="key_id",
            )
        return _to_key(row)
