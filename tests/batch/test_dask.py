"""`--engine dask`: the same rows, order and errors as the local engine, on a LocalCluster."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest
from distributed import Client, LocalCluster

from tests.batch.conftest import Invoke, make_comments, read_output, write_input


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    ) as local:
        yield local


def _model_loads() -> int:
    from app.batch.dask_engine import worker_model

    return worker_model.cache_info().misses


def _rows() -> list[dict[str, Any]]:
    rows = make_comments(60)
    rows[7]["body"] = ""
    rows[41]["body"] = "   "
    return rows


def test_dask_gives_the_local_engines_output(
    cluster: LocalCluster, invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(_rows(), tmp_path / "in.csv")
    args = ["--text-column", "body", "--id-column", "comment_id", "--parent-column", "parent"]
    args += ["--topic-column", "topic", "--chunk-size", "16", "--on-error", "skip", "-q"]
    args += ["--precision", "5"]
    local = invoke(str(source), "-o", str(tmp_path / "local.csv"), *args)
    assert local.exit_code == 0, local.output
    dask = invoke(
        str(source),
        "-o",
        str(tmp_path / "dask.csv"),
        *args,
        "--engine",
        "dask",
        "--scheduler",
        cluster.scheduler_address,
        "--blocksize",
        "1024",
    )
    assert dask.exit_code == 0, dask.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    rows = read_output(tmp_path / "dask.csv", "csv")
    assert all(row["flags"] for row in rows)  # the tiny model raises hate on every row
    assert any(row["toxic"] != round(row["toxic"], 4) for row in rows)  # 5 decimals, not 3
    errors = [json.loads(line) for line in (tmp_path / "dask.csv.errors.jsonl").open()]
    assert errors == [json.loads(line) for line in (tmp_path / "local.csv.errors.jsonl").open()]
    assert [e["row"] for e in errors] == [7, 41]

    with Client(cluster.scheduler_address) as client:  # type: ignore[no-untyped-call]
        loads = client.run(_model_loads)
    assert sorted(loads.values()) == [1, 1]  # the bundle was loaded once on each worker


def test_dask_fail_reports_the_same_row(
    cluster: LocalCluster, invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(_rows(), tmp_path / "in.jsonl")
    args = [str(source), "-o", str(tmp_path / "out.jsonl"), "--text-column", "body"]
    dask = invoke(*args, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert dask.exit_code == 2
    assert "error: row 7 (id 'c0007'): body is empty" in dask.stderr


def test_dask_on_its_own_local_cluster_writes_parquet(invoke: Invoke, tmp_path: Path) -> None:
    rows = make_comments(30)
    source = write_input(rows, tmp_path / "in.jsonl")
    target = tmp_path / "out.parquet"
    args = ["--text-column", "body", "--id-column", "comment_id", "-q", "--blocksize", "1024"]
    result = invoke(str(source), "-o", str(target), *args, "--engine", "dask", "--workers", "1")
    assert result.exit_code == 0, result.output
    reference = tmp_path / "ref.parquet"
    assert invoke(str(source), "-o", str(reference), *args).exit_code == 0
    assert read_output(target, "parquet") == read_output(reference, "parquet")
    assert pq.read_table(target).column("comment_id").to_pylist() == [r["comment_id"] for r in rows]


def test_dask_refuses_resume_and_stdin(invoke: Invoke, tmp_path: Path) -> None:
    source = write_input(make_comments(3), tmp_path / "in.csv")
    resume = invoke(str(source), "-o", str(tmp_path / "o.csv"), "--engine", "dask", "--resume")
    assert resume.exit_code == 2
    assert "--resume works with the local engine only" in resume.stderr
    stdin = invoke("-", "--format", "csv", "--engine", "dask", input=source.read_text())
    assert stdin.exit_code == 2
    assert "it cannot read stdin" in stdin.stderr


def test_unreachable_scheduler(invoke: Invoke, tmp_path: Path) -> None:
    source = write_input(make_comments(3), tmp_path / "in.csv")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = invoke(
            str(source),
            "--text-column",
            "body",
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        )
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
