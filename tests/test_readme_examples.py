"""Every shell example in README.md and docs/*.md works as written, and says what it shows.

Each ```sh block of a page is run in order, as a reader would paste them into one terminal:
one bash per block with `-euo pipefail`, the variables a block sets carried into the next
block of the same page (each page starts afresh, so it must set what it uses). They run
from a scratch folder laid out like the repository (`examples/` and `.venv` linked,
`models/` copied with the committed bundle, an empty `var/`, `../shared` linked when it
exists) against a real `threadguard serve` started for the page, on a fresh SQLite
database, with the Coral secret the docs say to start it with. `http://127.0.0.1:8000` is
replaced by that server's address and `curl -s` by `curl -sSf`, so an HTTP error fails.

Markers, on the lines just above a block (HTML comments, so readers do not see them):

- `<!-- not-run: reason -->`: not run (a foreground server, Docker, PostgreSQL, training
  on the datasets, the network); the reason is required;
- `<!-- needs: ../shared/PATH -->`: run only where that path exists;
- `<!-- check: NAME -->`: after it ran, `CHECKS[NAME]` asserts what the page says about
  its output.

Inside a block, a `# answers NNN` line makes every later `curl -s` of the block an
example of an error: it must answer status NNN.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.queue.keys import ACTIVE_KEYS_TTL
from tests.api.serverutil import (
    SERVE_COMMAND,
    migrated_sqlite_url,
    serve,
    threadguard_environment,
)
from tests.conftest import ROOT, SHARED

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOC_ADDRESS = "http://127.0.0.1:8000"
# The secret docs/api.md says to start the service with for its Coral example.
CORAL_SECRET = "whsec-example-0123456789abcdef"
BLOG_URL = "https://eastside-notes.example/2026/11/harbour-road-cycle-lanes/"
BLOCK_TIMEOUT_S = 180

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[^`\s]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>not-run|needs|check):\s*(?P<value>.*?)\s*-->\s*$")
_ANSWERS = re.compile(r"^#\s*answers\s+(?P<status>\d{3})\b")
# Shell code in any other fence would escape the test.
_SHELL_LANGS = {"bash", "shell", "console", "zsh", "shell-session", "shellsession"}


@dataclass(frozen=True)
class Block:
    """One ```sh block of a page, with the markers above it."""

    page: str
    line: int
    code: str
    not_run: str | None = None
    needs: str | None = None
    check: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def page_name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def fenced_blocks(path: Path) -> list[tuple[str, int, str, list[str]]]:
    """Every fenced block of a page: (language, first line, dedented code, lines above)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent = len(opening["indent"])
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        assert end < len(lines), f"{page_name(path)}:{index + 1}: unclosed code block"
        code = "\n".join(line[indent:] for line in lines[index + 1 : end])
        found.append((opening["lang"], index + 1, code + "\n", lines[:index]))
        index = end + 1
    return found


def blocks(path: Path) -> list[Block]:
    """The page's ```sh blocks in order, each with the marker lines just above it."""
    found = []
    for lang, line, code, above in fenced_blocks(path):
        if lang != "sh":
            continue
        markers: dict[str, str] = {}
        for previous in reversed(above):
            marker = _MARKER.match(previous)
            if not marker:
                break
            assert marker["kind"] not in markers, f"{page_name(path)}:{line}: two {marker['kind']}"
            markers[marker["kind"]] = marker["value"]
        found.append(
            Block(
                page_name(path),
                line,
                code,
                not_run=markers.get("not-run"),
                needs=markers.get("needs"),
                check=markers.get("check"),
            )
        )
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]


# --- what the pages say about their examples' output ---------------------------------------


@dataclass
class Ran:
    """A block that ran: its output, the shell's variables after it, where it ran."""

    block: Block
    stdout: str
    stderr: str
    env: dict[str, str]
    workdir: Path
    server_url: str | None


def json_values(text: str) -> list[Any]:
    """The JSON values printed one after another (curl adds no newline between answers)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return values
        value, position = decoder.raw_decode(text, position)
        values.append(value)


def leading_json(text: str) -> tuple[list[Any], str]:
    """The JSON values at the start of `text`, and the text after them."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return values, text[position:]
        values.append(value)


def _flags(result: dict[str, Any]) -> set[str]:
    return set(result["flags"])


def check_quickstart_score(ran: Ran) -> None:
    [answer] = json_values(ran.stdout)
    assert "toxic" in _flags(answer), answer
    assert answer["hate_target"] is None
    assert answer["evidence"]["toxic"][0]["text"] == "idiot"
    assert answer["evidence"]["toxic"][0]["start"] == 11


def check_quickstart_ingest(ran: Ran) -> None:
    [summary] = json_values(ran.stdout)
    assert summary["source"] == BLOG_URL
    assert summary["comments"]["new"] == 11
    assert summary["items_created"] > 0
    assert summary["by_queue"].get("hate", 0) >= 1, summary


def check_quickstart_key(ran: Ran) -> None:
    key = ran.env["KEY"]
    assert key.startswith("tg_")
    printed, answer = ran.stdout.split("\n", 1)
    assert printed == key
    assert "scores" in json_values(answer)[0]
    assert ran.server_url is not None
    # As step 4 says: anonymous scoring is now off.
    anonymous = httpx.post(f"{ran.server_url}/v1/score", json={"text": "hi"}, timeout=30)
    assert anonymous.status_code == 401, anonymous.text
    # As step 5 says: the key reads the queue, and the hate queue starts with the
    # antisemitic comment.
    listing = httpx.get(
        f"{ran.server_url}/v1/queue/items",
        params={"queue": "hate"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert listing.status_code == 200, listing.text
    top = listing.json()["items"][0]
    assert top["hate_target"] == "jewish", top
    assert top["comment"]["text"].startswith("Jews are vermin"), top
    review = httpx.get(f"{ran.server_url}/review/login", timeout=30)
    assert review.status_code == 200


def check_parse_examples(ran: Ran) -> None:
    header = "wordpress · 11 comments · 5 article paragraphs (2 own, 2 quoted, 1 edited)"
    assert header in ran.stdout
    assert '"source_format": "disqus"' in ran.stdout
    assert '{"thread_url": "https://harbour-gazette.example/' in ran.stdout
    assert "csv · 6 comments" in ran.stdout
    assert "Leo · 2026-11-26 09:10+00:00 — Shut up all of you." in ran.stdout


def check_parse_score_tree(ran: Ran) -> None:
    [line] = [line for line in ran.stdout.splitlines() if "Greg H." in line]
    scores = ran.stdout.splitlines()[ran.stdout.splitlines().index(line) + 1]
    assert "⚑ hate" in scores and "(jewish)" in scores, scores
    assert "hate evidence: 'Jews', 'vermin'" in ran.stdout


def check_score_files(ran: Ran) -> None:
    var = ran.workdir / "var"
    with (var / "scores.csv").open(encoding="utf-8") as file:
        rows = {row["cid"]: row for row in csv.DictReader(file)}
    assert list(rows) == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert rows["c4"]["toxic_flag"] == "True", rows["c4"]
    assert "toxic" in rows["c4"]["flags"].split(","), rows["c4"]
    # Rounded to --precision's default of 3 decimals.
    assert all(len(row["toxic"].partition(".")[2]) <= 3 for row in rows.values()), rows
    assert (var / "scores.parquet").stat().st_size > 0
    jsonl = [json.loads(line) for line in (var / "scores.jsonl").read_text().splitlines()]
    # The JSONL rows' `id` is found without --id-column.
    assert [row["id"] for row in jsonl] == ["j1", "j2", "j3", "j4", "j5"]
    assert jsonl[3]["conspiracy_flag"] and jsonl[3]["toxic_flag"], jsonl[3]


def check_model_info(ran: Ran) -> None:
    [info] = json_values(ran.stdout)
    assert info["version"] == (ROOT / "models" / "CURRENT").read_text().strip()
    assert set(info["thresholds"]) >= {"hate", "toxic", "conspiracy"}


def check_version(ran: Ran) -> None:
    bare, named = ran.stdout.splitlines()
    assert named == f"threadguard {bare}"


def check_provenance(ran: Ran) -> None:
    [thread] = json_values(ran.stdout)
    assert thread["article"]["provenance_basis"] == "original"
    kinds = [p["provenance"] for p in thread["article"]["paragraphs"]]
    assert kinds == ["own", "quoted", "edited", "quoted", "own"], kinds
    [edited] = [p for p in thread["article"]["paragraphs"] if p["provenance"] == "edited"]
    assert edited["edits"] == [{"op": "replace", "at": 11, "original": "eight", "page": "ten"}]
    assert edited["source_index"] == 2
    # The comment the JSON form shows.
    [dave] = [c for c in thread["comments"] if c["comment_id"] == "103"]
    assert (dave["parent_id"], dave["depth"], dave["position"]) == ("101", 1, 2), dave
    assert (dave["author"], dave["posted_at"]) == ("Dave R", "2026-11-24T10:05:00Z"), dave
    assert dave["date_text"] == "November 24, 2026 at 10:05 am"
    assert dave["anchor"] == "comment-103" and dave["deleted"] is False
    assert (thread["url"], thread["source_format"]) == (BLOG_URL, "wordpress")


def check_key_score(ran: Ran) -> None:
    assert "scores" in json_values(ran.stdout)[0]


def check_keys_revoke(ran: Ran) -> None:
    [line] = [line for line in ran.stdout.splitlines() if line.endswith("old widget")]
    assert "active" not in line, line
    assert ran.env["OLD"].split("_")[1] == line.split()[0]


def check_score_insult(ran: Ran) -> None:
    [answer] = json_values(ran.stdout)
    assert _flags(answer) == {"toxic"}, answer
    assert answer["evidence"]["toxic"][0]["text"] == "idiot"
    assert answer["severity"]["label"] == "normal"  # as the page explains
    assert answer["stance"] is None and answer["reply_stance"] is None


def check_score_batch(ran: Ran) -> None:
    [answer] = json_values(ran.stdout)
    first, second = answer["results"]
    assert (first["id"], second["id"]) == ("a", "b")
    assert first["stance"] is None and first["reply_stance"] is None
    assert second["stance"] is not None and second["reply_stance"] is not None


def check_threads_document(ran: Ran) -> None:
    [document] = json_values(ran.stdout)
    assert document["summary"]["comments"] == 11
    assert document["summary"]["flags"]["hate"] == 1
    assert "queue" not in document["summary"]
    assert len(document["thread"]["comments"]) == 11
    assert all("thread_stance" in c["labels"] for c in document["thread"]["comments"])


def check_threads_ndjson(ran: Ran) -> None:
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    kinds = [line["type"] for line in lines]
    assert kinds == ["thread"] + ["comment"] * 7 + ["summary"], kinds
    assert lines[-1]["flags"]["hate"] == 1


def check_meta(ran: Ran) -> None:
    (model, health, ready), metrics = leading_json(ran.stdout)
    assert model["version"] == ready["model_version"]
    assert ready["status"] == "ready" and ready["database"] == "ok"
    assert health
    assert "threadguard_requests_total" in metrics


def check_perspective(ran: Ran) -> None:
    toxic, hate = json_values(ran.stdout)
    assert toxic["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.9
    assert toxic["attributeScores"]["TOXICITY"]["spanScores"][0]["end"] == 43
    assert "IDENTITY_ATTACK" in toxic["attributeScores"]
    assert set(hate["attributeScores"]) == {"THREADGUARD_HATE"}, hate
    assert hate["clientToken"] == "c-17"
    first, second = hate["attributeScores"]["THREADGUARD_HATE"]["spanScores"]
    assert second["score"]["value"] > first["score"]["value"]


def check_perspective_refused(ran: Ran) -> None:
    [answer] = json_values(ran.stdout)
    error = answer["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT"), error
    assert error["details"][0]["errorType"] == "INVALID_REQUEST"
    assert "INSULT" in error["message"] and "request TOXICITY" in error["message"]


def check_coral(ran: Ran) -> None:
    # Text mode reads curl's CRLF header lines as plain newlines.
    status, _, body = ran.stdout.partition("\n\n")
    assert status.startswith("HTTP/1.1 200"), status
    answer = json.loads(body)
    assert answer["status"] == "SYSTEM_WITHHELD"
    assert answer["actions"][0]["actionType"] == "FLAG"


def check_invalid_settings(ran: Ran) -> None:
    assert ran.stdout.strip() == "refused with exit code 2"
    assert "error: invalid settings: THREADGUARD_CORAL_SECRET" in ran.stderr


def check_queue_cli(ran: Ran) -> None:
    summary, *listed, stats = json_values(ran.stdout)
    assert summary["source"] == BLOG_URL and summary["comments"]["new"] == 11
    assert listed and {item["queue"] for item in listed} == {"hate"}
    assert stats["open_by_queue"]["hate"] == len(listed)


def _summary_queue(ran: Ran) -> dict[str, Any]:
    last = json.loads(ran.stdout.splitlines()[-1])
    assert last["type"] == "summary"
    queued: dict[str, Any] = last["queue"]
    return queued


def check_same_thread_by_url(ran: Ran) -> None:
    queued = _summary_queue(ran)
    # The thread `threadguard queue ingest` made in the block before: the first one.
    assert (queued["thread_id"], queued["source"]) == (1, BLOG_URL), queued
    assert queued["comments"] == {"new": 0, "edited": 0, "unchanged": 11}, queued


def check_same_thread_by_source(ran: Ran) -> None:
    first = json_values(ran.stdout.splitlines()[0])[0]
    queued = _summary_queue(ran)
    assert first["source"] == queued["source"] == "library-sundays"
    assert queued["thread_id"] == first["thread_id"] != 1
    assert queued["comments"]["new"] == 0
    assert queued["comments"]["unchanged"] == first["comments"]["new"] > 0


def check_ingest_scored(ran: Ran) -> None:
    [summary] = json_values(ran.stdout)
    assert summary["source"] == "bus-timetable"
    assert summary["comments"]["new"] == 3 and summary["reports"] == 1
    assert summary["by_queue"] == {"toxic": 1, "reported": 1}, summary


def check_ingest_csv(ran: Ran) -> None:
    [summary] = json_values(ran.stdout)
    assert summary["comments"] == {"new": 6, "edited": 0, "unchanged": 0}, summary
    assert summary["source"].startswith("sha256:") and summary["items_created"] >= 1


def check_policy(ran: Ran) -> None:
    default, laid_over = json_values(ran.stdout)
    assert "uncertain" in default["by_queue"] and "hate" not in default["by_queue"], default
    assert "hate" in laid_over["by_queue"] and "uncertain" not in laid_over["by_queue"]


def check_queue_api(ran: Ran) -> None:
    listing, item, decision, history, stats = json_values(ran.stdout)
    item_id = int(ran.env["ITEM"])
    assert listing["items"][0]["item_id"] == item_id
    assert item["item_id"] == item_id and item["hate_target"] == "jewish", item
    assert set(item["context"]) == {"ancestors", "siblings", "replies"}
    assert "scores" in item["comment"]
    assert decision["action"] == "reject", decision
    assert [d["action"] for d in history["decisions"]] == ["reject"], history
    assert stats["by_status"]["rejected"] == 1


def check_stale_decision(ran: Ran) -> None:
    [answer] = json_values(ran.stdout)
    error = answer["error"]
    assert (error["code"], error["field"]) == ("stale_item_version", "item_version"), error
    current = error["current"]
    assert (current["item_id"], current["status"], current["version"]) == (
        int(ran.env["ITEM"]),
        "rejected",
        2,
    )


def check_queue_items_post(ran: Ran) -> None:
    [summary] = json_values(ran.stdout)
    assert summary["reports"] == 1
    assert {"toxic", "reported"} <= set(summary["by_queue"]), summary


def check_bulk_decision(ran: Ran) -> None:
    seen = json.loads(ran.env["SEEN"])
    assert len(seen) == 2
    [answer] = json_values(ran.stdout)
    assert (answer["decided"], answer["refused"]) == (2, 0), answer
    assert [r["item_id"] for r in answer["results"]] == [s["item_id"] for s in seen]
    assert all(r["ok"] for r in answer["results"])


def check_queue_export_api(ran: Ran) -> None:
    rows = [json.loads(line) for line in ran.stdout.splitlines()]
    assert {row["schema"] for row in rows} == {"threadguard.feedback/1"}
    [hate] = [row for row in rows if row["queue"] == "hate"]
    assert (hate["action"], hate["hate"], hate["hate_target"]) == ("reject", 1, "jewish"), hate
    toxic = [row for row in rows if row["queue"] == "toxic"]
    assert len(toxic) == 2 and all(row["toxic"] == 1 for row in toxic), toxic


def check_queue_export_cli(ran: Ran) -> None:
    rows = (ran.workdir / "var" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(row)["action"] == "reject" for row in rows)


CHECKS: dict[str, Callable[[Ran], None]] = {
    "quickstart-score": check_quickstart_score,
    "quickstart-ingest": check_quickstart_ingest,
    "quickstart-key": check_quickstart_key,
    "parse-examples": check_parse_examples,
    "parse-score-tree": check_parse_score_tree,
    "score-files": check_score_files,
    "model-info": check_model_info,
    "version": check_version,
    "provenance": check_provenance,
    "key-score": check_key_score,
    "keys-revoke": check_keys_revoke,
    "score-insult": check_score_insult,
    "score-batch": check_score_batch,
    "threads-document": check_threads_document,
    "threads-ndjson": check_threads_ndjson,
    "meta": check_meta,
    "perspective": check_perspective,
    "perspective-refused": check_perspective_refused,
    "coral": check_coral,
    "invalid-settings": check_invalid_settings,
    "queue-cli": check_queue_cli,
    "same-thread-by-url": check_same_thread_by_url,
    "same-thread-by-source": check_same_thread_by_source,
    "ingest-scored": check_ingest_scored,
    "ingest-csv": check_ingest_csv,
    "policy": check_policy,
    "queue-api": check_queue_api,
    "stale-decision": check_stale_decision,
    "queue-items-post": check_queue_items_post,
    "bulk-decision": check_bulk_decision,
    "queue-export-api": check_queue_export_api,
    "queue-export-cli": check_queue_export_cli,
}


# --- the structure of the pages: fast, not slow ------------------------------------------------


def test_every_page_is_found() -> None:
    names = {page_name(page) for page in PAGES}
    assert {"README.md", "docs/api.md", "docs/cli.md", "docs/queue.md"} <= names


def test_shell_code_is_only_in_sh_blocks() -> None:
    for page in PAGES:
        for lang, line, _, _ in fenced_blocks(page):
            assert lang not in _SHELL_LANGS, f"{page_name(page)}:{line}: use ```sh"


def test_every_block_is_run_or_says_why_not() -> None:
    for block in ALL_BLOCKS:
        assert block.not_run is None or block.not_run.strip(), f"{block.where}: give a reason"
        assert not (block.not_run and (block.check or block.needs)), block.where
        if block.needs:
            assert block.needs.startswith("../shared/"), block.where


def test_every_check_has_a_block_and_every_named_check_exists() -> None:
    named = [block.check for block in ALL_BLOCKS if block.check]
    assert len(named) == len(set(named)), "a check is named twice"
    assert set(named) == set(CHECKS)


def test_most_blocks_run() -> None:
    skipped = [block for block in ALL_BLOCKS if block.not_run]
    assert len(skipped) * 3 < len(ALL_BLOCKS), [block.where for block in skipped]


def test_the_examples_reach_every_endpoint() -> None:
    text = "\n".join(block.code for block in ALL_BLOCKS if not block.not_run)
    for path in (
        "/v1/score",
        "/v1/threads",
        "/v1/threads?enqueue=true",
        "/v1/model",
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1alpha1/comments:analyze",
        "/v1/integrations/coral",
        "/v1/queue/items",
        "/decisions",
        "/v1/queue/stats",
        "/v1/queue/export",
    ):
        assert f"{DOC_ADDRESS}{path}" in text or path in text, path


def test_every_sample_file_is_used() -> None:
    text = "\n".join(block.code for block in ALL_BLOCKS if not block.not_run)
    for sample in sorted((ROOT / "examples").iterdir()):
        assert f"examples/{sample.name}" in text, sample.name


# --- running them -----------------------------------------------------------------------------

# Defined in every block's shell: a curl after `# answers NNN` must answer NNN; its body is
# printed, for the check.
_PRELUDE = """\
set -a
__answers() {
    local want=$1 got body
    shift
    body=$(mktemp)
    got=$("$@" -o "$body" -w '%{http_code}') || true
    cat "$body"
    rm -f "$body"
    if [ "$got" != "$want" ]; then
        echo "expected HTTP $want, got $got" >&2
        return 1
    fi
}
"""


def shell_script(block: Block, server_url: str | None) -> str:
    """The block as it runs: the test's address, curl failing on HTTP errors."""
    code = block.code
    if server_url is not None:
        code = code.replace(DOC_ADDRESS, server_url)
    lines, expected = [], None
    for line in code.splitlines():
        answers = _ANSWERS.match(line)
        if answers:
            expected = answers["status"]
        elif expected and line.startswith("curl -s "):
            line = f"__answers {expected} curl -sS " + line[len("curl -s ") :]
        line = re.sub(r"\bcurl -s\b(?!S)", "curl -sSf", line)
        lines.append(line)
    return _PRELUDE + "\n".join(lines) + '\nenv -0 > "$__DOCS_ENV_OUT"\n'


def run_block(block: Block, env: dict[str, str], workdir: Path, server_url: str | None) -> Ran:
    env_out = workdir.parent / "env.out"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shell_script(block, server_url)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**env, "__DOCS_ENV_OUT": str(env_out)},
        timeout=BLOCK_TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"{block.where} failed ({result.returncode}):\n{block.code}\n--- stdout\n"
        f"{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )
    after = dict(
        entry.split("=", 1) for entry in env_out.read_text(encoding="utf-8").split("\0") if entry
    )
    after.pop("__DOCS_ENV_OUT", None)
    return Ran(block, result.stdout, result.stderr, after, workdir, server_url)


@pytest.fixture(scope="module")
def committed_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of models/ with only the bundle CURRENT names, for examples that write there."""
    source = ROOT / "models"
    version = (source / "CURRENT").read_text(encoding="utf-8").strip()
    models = tmp_path_factory.mktemp("docs-models")
    shutil.copytree(source / version, models / version)
    for name in ("CURRENT", f"{version}.sha256"):
        shutil.copy2(source / name, models / name)
    return models


@contextmanager
def scratch_repository(tmp_path: Path, models: Path) -> Iterator[Path]:
    """A folder laid out like the repository root for the examples to run in."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "examples").symlink_to(ROOT / "examples")
    (repo / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (repo / "models").symlink_to(models)
    (repo / "var").mkdir()
    if SHARED.exists():
        (tmp_path / "shared").symlink_to(SHARED)
    yield repo


def base_environment(repo: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADGUARD_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["THREADGUARD_DATABASE_URL"] = database_url
    env["THREADGUARD_MODEL_DIR"] = str(repo / "models")
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("page", [page_name(page) for page in PAGES])
def test_every_example_of_the_page_works(page: str, tmp_path: Path, committed_models: Path) -> None:
    page_blocks = blocks(ROOT / page)
    runnable = [block for block in page_blocks if not block.not_run]
    if not runnable:
        pytest.skip(f"{page} has no runnable examples")
    with ExitStack() as stack:
        repo = stack.enter_context(scratch_repository(tmp_path, committed_models))
        server_dir = tmp_path / "server"
        server_dir.mkdir()
        database_url = migrated_sqlite_url(server_dir)
        server_url = None
        if any(DOC_ADDRESS in block.code for block in runnable):
            settings = threadguard_environment(
                repo / "models", database_url, coral_secret=CORAL_SECRET, log_level="info"
            )
            server = stack.enter_context(serve(SERVE_COMMAND, workdir=server_dir, env=settings))
            server_url = server.url
        env = base_environment(repo, database_url)
        missing = []
        for block in runnable:
            if block.needs and not (repo / block.needs).exists():
                missing.append(f"{block.where} needs {block.needs}")
                continue
            ran = run_block(block, env, repo, server_url)
            if "keys create" in block.code and server_url is not None:
                # The service trusts a "no key was ever made" for this long, as the docs say.
                time.sleep(ACTIVE_KEYS_TTL)
            if block.check:
                CHECKS[block.check](ran)
            env = ran.env
    if missing:
        pytest.skip("ran the others; skipped " + "; ".join(missing))
