"""Service settings: THREADGUARD_* environment variables and an optional `.env` file.

Settings are an object handed to `create_app`, never read at import time. Values that
would make the service unsafe or unusable are refused when the object is built, with the
variable's name in the message.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.errors import AppError

DEFAULT_DATABASE_URL = "sqlite:///var/threadguard.db"
# Perspective's own limit on a comment is 20 KB; a drop-in replacement keeps it.
DEFAULT_MAX_TEXT_BYTES = 20_480
DEFAULT_MAX_BATCH = 1_000
# A batch of 1,000 comments of 20 KB each, their parent texts and JSON overhead; a page
# posted to /v1/threads gets the same cap.
DEFAULT_MAX_BODY_BYTES = 48 * 1024 * 1024
DEFAULT_MAX_THREAD_COMMENTS = 100_000
# The cost budget of one HTTP request that scores (issue 12): the worst request it allows
# (50 flagged comments of 2 KB, evidence for each) took 0.98 s of one core on the scorer
# of commit 9539784, half the 2 s the service promises, so a slower CPU or a busy neighbour
# still fits. tests/api/test_worst_request.py and benchmarks/http_bench.py send it.
DEFAULT_MAX_REQUEST_TEXT_BYTES = 102_400
# Comments of one page scored by /v1/threads (each costs about 0.4 ms even when short).
DEFAULT_MAX_PAGE_COMMENTS = 1_000


class SettingsError(AppError):
    """A setting has a value the service refuses to run with."""

    code = "invalid_settings"


DEFAULT_REVIEW_REASONS: Final = (
    "Hate speech|Harassment or threat|Insult or abuse|Conspiracy or misinformation|Spam|"
    "Off-topic|Personal information|Within the rules"
)


class Settings(BaseSettings):
    """Everything the service and the CLI's service commands can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="THREADGUARD_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    model_dir: Path | None = Field(
        default=None,
        description="Folder with CURRENT and the model versions (default: the repository's "
        "models/ or, in the image, the baked-in bundle).",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path (relative to the working directory) or "
        "postgresql://user@host/db.",
    )
    host: str = Field(default="127.0.0.1", description="Address `threadguard serve` binds.")
    port: Annotated[int, Field(ge=1, le=65_535)] = 8000
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    header_timeout_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=10.0,
        description="A connection must send a request's whole header block within this "
        "many seconds of its first byte (or of connecting); else it gets 408 and is closed.",
    )
    body_timeout_s: Annotated[float, Field(gt=0, le=3_600)] = Field(
        default=30.0,
        description="A request's body must arrive whole within this many seconds of its "
        "headers; else 408 and the connection is closed (scoring stops).",
    )
    keep_alive_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=5.0,
        description="How long an idle connection is kept open between requests.",
    )
    max_connections: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1_000,
        description="Open connections (or running requests) per worker past which new "
        "requests are answered 503 at once.",
    )
    max_text_bytes: Annotated[int, Field(ge=1, le=1_000_000)] = DEFAULT_MAX_TEXT_BYTES
    max_batch: Annotated[int, Field(ge=1, le=10_000)] = DEFAULT_MAX_BATCH
    max_body_bytes: Annotated[int, Field(ge=1_024, le=1_024**3)] = DEFAULT_MAX_BODY_BYTES
    max_thread_comments: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=DEFAULT_MAX_THREAD_COMMENTS,
        description="The most comments the parser reads from one page (CLI and HTTP); "
        "the HTTP service scores at most max_page_comments of them.",
    )
    max_request_text_bytes: Annotated[int, Field(ge=1, le=100 * 1_024**2)] = Field(
        default=DEFAULT_MAX_REQUEST_TEXT_BYTES,
        description="The cost budget of one HTTP request that scores: the UTF-8 bytes of "
        "every comment text it has scored, plus each distinct parent text and topic once "
        "(a page: its comments, the article context and the topic). Over it: 413 "
        "request_too_large before any scoring.",
    )
    max_page_comments: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=DEFAULT_MAX_PAGE_COMMENTS,
        description="The most comments of one page /v1/threads scores; a longer page is "
        "refused with 413 (the CLI scores pages of any size).",
    )
    scoring_threads: Annotated[int, Field(ge=1, le=16)] = Field(
        default=2,
        description="Threads of one worker process that score: requests beyond them wait. "
        "Few, so that few malloc arenas hold a large request's memory.",
    )
    batch_max_comments: Annotated[int, Field(ge=1, le=1_000)] = Field(
        default=64,
        description="The most single-comment /v1/score requests scored together as one "
        "micro-batch (1: no micro-batching).",
    )
    batch_wait_ms: Annotated[float, Field(ge=0, le=50)] = Field(
        default=2.0,
        description="How long, under load, a micro-batch waits for more requests before "
        "it is scored; a request that arrives to an idle worker is scored at once.",
    )
    evidence_top: Annotated[int, Field(ge=0, le=50)] = 5
    review_reasons: Annotated[str, Field(max_length=4_000)] = Field(
        default=DEFAULT_REVIEW_REASONS,
        description="The reasons a moderator picks from on the review page, separated by "
        "'|' (each at most 200 characters; a free-text reason stays possible).",
    )
    anonymous_scoring: Literal["loopback", "loopback-always", "never"] = Field(
        default="loopback",
        description="'loopback': scoring needs no key while the service is bound to a "
        "loopback address, the caller is on loopback and no key was ever made (revoking "
        "every key does not reopen it); 'loopback-always': the same even after keys were "
        "made, an admin's explicit choice; 'never': every request needs a key.",
    )
    coral_secret: SecretStr | None = Field(
        default=None,
        description="The signing secret Coral shows for the external moderation phase; "
        "unset, the Coral endpoint answers 503.",
    )
    coral_policy: dict[
        Literal["hate", "toxic", "conspiracy"], Literal["ignore", "flag", "withhold"]
    ] = Field(
        default_factory=dict,
        description="What the Coral endpoint does with each raised head, as JSON; heads "
        "left out keep the defaults (hate withhold, toxic flag, conspiracy ignore).",
    )
    policy_file: Path | None = Field(
        default=None,
        description="A TOML file laid over the default review policy (which comments are "
        "queued, and how urgently); unset, the default policy.",
    )
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = Field(
        default=12.0, description="How long a review-page sign-in lasts, in hours."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the review page's cookies Secure (set it when serving over HTTPS).",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}: use sqlite:///path or "
                "postgresql://user@host/db"
            )
        return value

    @field_validator("coral_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Coral's own secrets are 32+ random characters; a short one can be guessed.
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("the Coral signing secret must be at least 16 characters")
        return value

    @model_validator(mode="after")
    def _limits_agree(self) -> Settings:
        if self.max_text_bytes > self.max_body_bytes:
            raise ValueError("max_text_bytes cannot be larger than max_body_bytes")
        # One comment that the per-comment limit admits must fit the request budget, or
        # no request with such a comment could ever be scored.
        if self.max_text_bytes > self.max_request_text_bytes:
            raise ValueError("max_text_bytes cannot be larger than max_request_text_bytes")
        return self

    @field_validator("review_reasons")
    @classmethod
    def _reasons_fit(cls, value: str) -> str:
        for reason in value.split("|"):
            if len(reason.strip()) > 200:
                raise ValueError(f"the reason {reason.strip()[:40]!r}… is over 200 characters")
        return value

    @property
    def reasons(self) -> list[str]:
        """The review page's reasons, in order, blanks and repeats left out."""
        out: list[str] = []
        for reason in self.review_reasons.split("|"):
            if reason.strip() and reason.strip() not in out:
                out.append(reason.strip())
        return out

    @property
    def bound_to_loopback(self) -> bool:
        """Whether `host` only accepts connections from this machine."""
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`, with `overrides` on top.

    Raises:
        SettingsError: a value is refused; the message names the THREADGUARD_ variable.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"THREADGUARD_{'_'.join(str(p) for p in error['loc']).upper() or 'SETTINGS'}: "
            f"{error['msg']}"
            for error in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from exc
