"""What the review queue receives: a policy turns one comment's scores into queue routes.

A policy (`policy_default.toml`, or a file of the user's laid over it) names five queues:
one per binary head (`hate`, `conspiracy`, `toxic`), `reported` and `uncertain`. Routing is
pure: it reads a row of `score_frame`/`score_rows` and returns zero or more `Route`s, at most
one per queue, highest priority first. The row's own `*_flag` columns are not used: the
policy may override the model's thresholds, so flags are recomputed from the probabilities.

Priorities, with p a head's probability, s its severity and t its threshold:

- head queue (p ≥ t):                   p × s
- uncertain (t - band ≤ p < t):         p × s × uncertain.weight (the highest such head)
- reported (a reader reported it):      base + (1 - base) × max(p × s) over the heads
- any route of a reply whose `reply_stance` is "agree" and whose parent is flagged:
  × reply_boost.factor (≥ 1), because agreeing with hate spreads it.

Before the boost a priority lies in [0, 1]; the boost may lift it above 1. A missing
probability (None or NaN, e.g. a row scored without that head) never routes.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from numbers import Real
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from app.errors import AppError

HEAD_QUEUES = ("hate", "conspiracy", "toxic")
QUEUES = (*HEAD_QUEUES, "reported", "uncertain")
DEFAULT_POLICY = "policy_default.toml"


class PolicyError(AppError):
    """A policy file cannot be read or has a value the queue refuses to route with."""

    code = "invalid_policy"


class ScoreRowError(AppError):
    """A scored row handed to the router has a value that is not a probability."""

    status_code = 422
    code = "invalid_scores"


@dataclass(frozen=True)
class HeadQueue:
    """One binary head's queue, with its threshold already resolved to a number."""

    head: str
    threshold: float
    severity: float
    enabled: bool


@dataclass(frozen=True)
class Policy:
    """A validated routing policy; build it with `load_policy`."""

    heads: tuple[HeadQueue, ...]
    uncertain_band: float
    uncertain_weight: float
    uncertain_enabled: bool
    reported_base: float
    reported_enabled: bool
    reply_boost: float
    source: str

    def head(self, name: str) -> HeadQueue:
        """The queue of binary head `name`."""
        for queue in self.heads:
            if queue.head == name:
                return queue
        raise KeyError(name)


@dataclass(frozen=True)
class Route:
    """One queue a comment goes to, how urgently, and why (shown to the moderator)."""

    queue: str
    priority: float
    reason: str
    head: str | None


def _threshold(value: Any) -> Literal["manifest"] | float:
    # A plain validator keeps the message to one line instead of one per union member.
    if value == "manifest":
        return "manifest"
    if isinstance(value, Real) and not isinstance(value, bool) and 0.0 <= float(value) <= 1.0:
        return float(value)
    raise ValueError(f'must be "manifest" or a number from 0 to 1, not {value!r}')


Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _HeadQueueIn(_Section):
    threshold: Annotated[Literal["manifest"] | float, PlainValidator(_threshold)] = "manifest"
    severity: Unit
    enabled: bool = True


class _UncertainIn(_Section):
    band: Unit
    weight: Unit
    enabled: bool = True


class _ReportedIn(_Section):
    base: Unit
    enabled: bool = True


class _QueuesIn(_Section):
    hate: _HeadQueueIn
    conspiracy: _HeadQueueIn
    toxic: _HeadQueueIn
    uncertain: _UncertainIn
    reported: _ReportedIn


class _ReplyBoostIn(_Section):
    factor: Annotated[float, Field(ge=1.0, le=4.0)]


class _PolicyIn(_Section):
    queues: _QueuesIn
    reply_boost: _ReplyBoostIn


def load_policy(path: Path | None, thresholds: Mapping[str, float]) -> Policy:
    """The default policy, or the file at `path` laid over it, with thresholds resolved.

    `thresholds` are the model's per-head thresholds (`LoadedModel.thresholds`); a queue
    whose threshold is "manifest" takes its head's value from there.

    Raises:
        PolicyError: the file is missing or not TOML, has an unknown key or queue, a value
            out of range, or a "manifest" threshold the model does not provide.
    """
    default = tomllib.loads(resources.files("app").joinpath(DEFAULT_POLICY).read_text("utf-8"))
    source = "the default policy"
    data = default
    if path is not None:
        source = str(path)
        try:
            with path.open("rb") as handle:
                data = _merged(default, tomllib.load(handle))
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from exc
    try:
        parsed = _PolicyIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PolicyError(f"invalid policy {source}: {_problems(exc)}", field=where) from exc

    heads = []
    for name in HEAD_QUEUES:
        entry: _HeadQueueIn = getattr(parsed.queues, name)
        threshold = entry.threshold
        if threshold == "manifest":
            if name not in thresholds:
                raise PolicyError(
                    f'invalid policy {source}: queues.{name}.threshold is "manifest" but the '
                    f"model's manifest has no threshold for {name}",
                    field=f"queues.{name}.threshold",
                )
            threshold = float(thresholds[name])
        heads.append(HeadQueue(name, threshold, entry.severity, entry.enabled))
    return Policy(
        heads=tuple(heads),
        uncertain_band=parsed.queues.uncertain.band,
        uncertain_weight=parsed.queues.uncertain.weight,
        uncertain_enabled=parsed.queues.uncertain.enabled,
        reported_base=parsed.queues.reported.base,
        reported_enabled=parsed.queues.reported.enabled,
        reply_boost=parsed.reply_boost.factor,
        source=source,
    )


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`, table by table, so a user file names only what it changes."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            out[key] = _merged(below, value)
        else:
            out[key] = value
    return out


def _problems(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        where = ".".join(loc)
        if error["type"] == "extra_forbidden" and loc[:1] == ["queues"] and len(loc) == 2:
            parts.append(f"unknown queue {loc[1]!r} (known: {', '.join(QUEUES)})")
        elif error["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown key")
        elif error["type"] == "model_type":
            parts.append(f"{where}: must be a table")
        else:
            parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def route(
    policy: Policy,
    row: Mapping[str, Any],
    *,
    parent_flagged: bool = False,
    reported: bool = False,
) -> list[Route]:
    """The queues `row` (one scored comment) goes to, highest priority first.

    Raises:
        ScoreRowError: a head's probability is neither missing nor a number from 0 to 1.
    """
    probabilities = {queue.head: _probability(row, queue.head) for queue in policy.heads}
    routes: list[Route] = []
    near: list[tuple[float, str, float]] = []
    for queue in policy.heads:
        p = probabilities[queue.head]
        if p is None:
            continue
        if p >= queue.threshold:
            if queue.enabled:
                routes.append(
                    Route(queue.head, p * queue.severity, _flag_reason(queue, p, row), queue.head)
                )
        elif p >= queue.threshold - policy.uncertain_band:
            near.append((p * queue.severity * policy.uncertain_weight, queue.head, p))
    if near and policy.uncertain_enabled:
        rank, head, p = max(near, key=lambda item: item[0])
        reason = (
            f"{head} {p:.2f} < {policy.head(head).threshold:.2f} "
            f"(within {policy.uncertain_band:.2f} of the threshold)"
        )
        routes.append(Route("uncertain", rank, reason, head))
    if reported and policy.reported_enabled:
        scored = [
            (p * policy.head(head).severity, head)
            for head, p in probabilities.items()
            if p is not None
        ]
        top, head_of_top = max(scored) if scored else (0.0, None)
        base = policy.reported_base
        reason = "reported by a reader"
        if head_of_top is not None:
            reason += f"; highest score {head_of_top} {probabilities[head_of_top]:.2f}"
        routes.append(Route("reported", base + (1.0 - base) * top, reason, None))
    if parent_flagged and row.get("reply_stance") == "agree" and policy.reply_boost != 1.0:
        suffix = f"; agrees with a flagged parent (×{policy.reply_boost:g})"
        routes = [
            Route(r.queue, r.priority * policy.reply_boost, r.reason + suffix, r.head)
            for r in routes
        ]
    # Stable sort: equal priorities keep the queue order of the policy.
    return sorted(routes, key=lambda r: -r.priority)


def flagged_heads(policy: Policy, row: Mapping[str, Any]) -> list[str]:
    """The heads whose probability in `row` reaches the policy's threshold (for a parent).

    Raises:
        ScoreRowError: a head's probability is neither missing nor a number from 0 to 1.
    """
    out = []
    for queue in policy.heads:
        p = _probability(row, queue.head)
        if p is not None and p >= queue.threshold:
            out.append(queue.head)
    return out


def needs_review(
    policy: Policy,
    row: Mapping[str, Any],
    *,
    parent_flagged: bool = False,
    reported: bool = False,
) -> bool:
    """Whether `row` goes to at least one queue.

    Raises:
        ScoreRowError: a head's probability is neither missing nor a number from 0 to 1.
    """
    return bool(route(policy, row, parent_flagged=parent_flagged, reported=reported))


def priority(
    policy: Policy,
    row: Mapping[str, Any],
    *,
    parent_flagged: bool = False,
    reported: bool = False,
) -> float:
    """The highest priority among `row`'s routes, 0.0 when it goes nowhere.

    Raises:
        ScoreRowError: a head's probability is neither missing nor a number from 0 to 1.
    """
    routes = route(policy, row, parent_flagged=parent_flagged, reported=reported)
    return routes[0].priority if routes else 0.0


def _flag_reason(queue: HeadQueue, p: float, row: Mapping[str, Any]) -> str:
    reason = f"{queue.head} {p:.2f} ≥ {queue.threshold:.2f}"
    target = row.get(f"{queue.head}_target")
    if isinstance(target, str) and target:
        reason += f" (target {target})"
    return reason


def _probability(row: Mapping[str, Any], head: str) -> float | None:
    """The row's probability for `head`, None when missing (absent, None or NaN)."""
    value = row.get(head)
    if value is None:
        return None
    # numpy floats and ints are Real; a bool is a flag, not a probability.
    if not isinstance(value, Real) or isinstance(value, bool):
        raise ScoreRowError(f"{head} must be a probability from 0 to 1, not {value!r}", field=head)
    p = float(value)
    if math.isnan(p):
        return None
    if not 0.0 <= p <= 1.0:
        raise ScoreRowError(f"{head} must be a probability from 0 to 1, not {p}", field=head)
    return p
