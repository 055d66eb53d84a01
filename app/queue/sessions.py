"""Review-page sign-ins: a random cookie token per sign-in, stored only as its sha256.

A session belongs to one API key and ends when it expires, when the moderator signs out,
or when the key is revoked (the lookup joins `api_keys` and requires `revoked_at IS NULL`,
so revoking a key ends its sessions at once without touching them). Each session carries
its own CSRF token, which the review page puts in every form.

The CSRF token is stored as it is: it only proves that a form came from a page this
session was shown, and is useless without the session's cookie, which is not stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import ApiKey, Role
from app.queue.store import (
    api_keys,
    database_errors,
    review_sessions,
    utcnow,
    write_transaction,
)

TOKEN_BYTES: Final = 32
# token_urlsafe(32) gives 43 characters; anything much longer is not a token of ours.
TOKEN_MAX_CHARS: Final = 64


class NewSession(NamedTuple):
    """What the browser gets: the cookie's token and the session's CSRF token."""

    token: str
    csrf: str


class SessionKey(NamedTuple):
    """The key a valid session belongs to, and the session's CSRF token."""

    key: ApiKey
    csrf: str


def token_sha256(token: str) -> str:
    """The hex sha256 stored for a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_session(engine: Engine, key: ApiKey, *, hours: float = 12.0) -> NewSession:
    """Start a session for `key` lasting `hours`; purges expired sessions on the way.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    csrf = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    with write_transaction(engine) as connection:
        # Sign-ins are rare next to page views, so this is where old rows go.
        connection.execute(review_sessions.delete().where(review_sessions.c.expires_at <= now))
        connection.execute(
            review_sessions.insert().values(
                token_sha256=token_sha256(token),
                key_id=key.key_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return NewSession(token, csrf)


def session_key(engine: Engine, token: str) -> SessionKey | None:
    """The active key and CSRF token of the session `token` opens; None when it is unknown,
    expired, or its key was revoked.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    if not token or len(token) > TOKEN_MAX_CHARS:
        return None
    query = (
        sa.select(
            api_keys.c.key_id,
            api_keys.c.name,
            api_keys.c.role,
            api_keys.c.created_at,
            review_sessions.c.csrf_token,
        )
        .join(api_keys, api_keys.c.key_id == review_sessions.c.key_id)
        .where(
            review_sessions.c.token_sha256 == token_sha256(token),
            review_sessions.c.expires_at > utcnow(),
            api_keys.c.revoked_at.is_(None),
        )
    )
    with database_errors(engine), engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    key = ApiKey(key_id=row.key_id, name=row.name, role=Role(row.role), created_at=row.created_at)
    return SessionKey(key, row.csrf_token)


def delete_session(engine: Engine, token: str) -> None:
    """End the session `token` opens (nothing happens for an unknown token).

    Raises:
        DatabaseError: the database cannot be reached.
    """
    if not token or len(token) > TOKEN_MAX_CHARS:
        return
    with write_transaction(engine) as connection:
        connection.execute(
            review_sessions.delete().where(review_sessions.c.token_sha256 == token_sha256(token))
        )
