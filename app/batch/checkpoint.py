"""The checkpoint that lets `--resume` continue an interrupted run: `OUTPUT.progress.json`.

After each chunk the output and the errors file are flushed and fsynced, and only then is
the checkpoint replaced (written to a temporary file, fsynced, renamed over the old one,
directory fsynced). So at any instant, even under `kill -9` or a power cut, the checkpoint
describes a prefix of the input whose rows are all durably in the output: resuming cuts
the output back to the recorded position (dropping a chunk written after the last
checkpoint), skips the recorded number of input rows, and goes on. No row is scored twice
into the output or lost.

The checkpoint also records what the output was made from: the input (path, size,
modification time, sha256 of its first MiB), the options that shape the output, and the
model version. A resume refuses to mix outputs of two different inputs, option sets or
models. `--on-error` may change on resume (fail, then continue with skip): rows already
written are the same either way. The checkpoint is deleted when a run completes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.batch.spec import BatchJob, ResumeError

# 2: the flags column, --precision and the id column found without --id-column; a version 1
# checkpoint's output has other columns, so it is not continued.
VERSION = 2
HEAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Checkpoint:
    """How far a run has durably got, and what it was made from."""

    input: dict[str, Any]
    options: dict[str, Any]
    rows_done: int
    output_position: int
    errors_position: int
    scored: int
    skipped: int
    version: int = VERSION


def checkpoint_path(output: str) -> Path:
    return Path(output + ".progress.json")


def fingerprint(path: Path) -> dict[str, Any]:
    """What identifies an input file cheaply: path, size, mtime and its first MiB's hash."""
    stat = path.stat()
    with path.open("rb") as handle:
        head = hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()
    return {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "head_sha256": head,
    }


def run_options(job: BatchJob, model_version: str) -> dict[str, Any]:
    """The options that decide the output's rows and bytes (not `--on-error`)."""
    return {
        "format": str(job.input_format),
        "output_format": str(job.output_format),
        "text_column": job.columns.text,
        "id_column": job.columns.id,
        "parent_column": job.columns.parent,
        "topic_column": job.columns.topic,
        "chunk_size": job.chunk_size,
        "evidence": job.evidence,
        "precision": job.precision,
        "errors_file": str(Path(job.errors_file).resolve()) if job.errors_file else None,
        "model_version": model_version,
    }


def save(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint atomically and durably."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(asdict(checkpoint), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load(path: Path) -> Checkpoint:
    """The checkpoint at `path`.

    Raises:
        ResumeError: there is none, or it cannot be read.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ResumeError(
            f"nothing to resume: there is no checkpoint {path} (the run finished, or never "
            "started); run again without --resume"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ResumeError(f"the checkpoint {path} cannot be read ({exc})") from exc
    try:
        checkpoint = Checkpoint(**data)
    except TypeError as exc:
        raise ResumeError(f"the checkpoint {path} is not one this threadguard wrote") from exc
    if checkpoint.version != VERSION:
        raise ResumeError(
            f"the checkpoint {path} has version {checkpoint.version}, not {VERSION}: an "
            "earlier threadguard wrote it, with other output columns; run again without "
            "--resume to start over"
        )
    return checkpoint


def check_resumable(
    checkpoint: Checkpoint, source: Path, options: Mapping[str, Any], where: Path
) -> None:
    """Refuse to resume when the input or the options differ from the interrupted run's.

    Raises:
        ResumeError: naming what changed.
    """
    now = fingerprint(source)
    then = checkpoint.input
    if now["path"] != then.get("path"):
        raise ResumeError(
            f"the checkpoint {where} belongs to input {then.get('path')}, not {now['path']}"
        )
    changed = [key for key in ("size", "mtime_ns", "head_sha256") if now[key] != then.get(key)]
    if changed:
        raise ResumeError(
            f"the input {source} changed since the interrupted run ({', '.join(changed)} "
            "differ); run again without --resume to start over"
        )
    differ = [
        f"{key} {checkpoint.options.get(key)!r} -> {value!r}"
        for key, value in options.items()
        if checkpoint.options.get(key) != value
    ]
    if differ:
        raise ResumeError(
            "the options differ from the interrupted run's: "
            + "; ".join(differ)
            + ". Resume with the same options, or run again without --resume"
        )
