"""Who may call what: API-key roles and the store interface the service checks keys with.

Roles are ranked: a `moderator` key may do what a `scorer` key may, an `admin` key may do
everything. The service depends only on `KeyStore`; the SQL implementation lives in
`app.queue.keys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    """What a key may do, from least to most."""

    scorer = "scorer"
    moderator = "moderator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether a key with this role may do what `needed` may."""
        return self.rank >= needed.rank


_RANKS = {Role.scorer: 0, Role.moderator: 1, Role.admin: 2}


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    key_id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request: a key, or anonymous where the settings allow it."""

    key: ApiKey | None

    @property
    def role(self) -> Role | None:
        return self.key.role if self.key else None

    @property
    def name(self) -> str:
        return self.key.name if self.key else "anonymous"


class KeyStore(Protocol):
    """What the service needs from wherever keys are kept."""

    def verify(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, or None."""
        ...

    def any_key_made(self) -> bool:
        """Whether any key was ever made, revoked ones included.

        Revoking the last key must not reopen anonymous scoring: after the first key, the
        only way back is an admin's explicit `anonymous_scoring = "loopback-always"`.
        """
        ...
