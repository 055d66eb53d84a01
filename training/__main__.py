"""`python -m training`: check a data dir against the dataset registry, and refresh the registry.

Findings go to stdout, errors to stderr as `error: <message>`. Exit codes: 0 all good,
1 the data dir and the registry differ, 2 bad input (missing data dir, broken registry).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from app.errors import AppError
from training.registry import (
    DEFAULT_REGISTRY,
    REPO_ROOT,
    format_registry,
    load_registry,
    refresh_files,
    render_table,
    replace_table,
    verify,
)

app = typer.Typer(
    help="threadguard training tools: the registry of public datasets (data/datasets.toml).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
registry_app = typer.Typer(
    help="Regenerate data/datasets.toml and the table in data/README.md.",
    no_args_is_help=True,
)
app.add_typer(registry_app, name="registry")

DataDir = Annotated[
    Path,
    typer.Option("--data-dir", help="The folder holding the datasets, e.g. ../shared/datasets."),
]
RegistryPath = Annotated[
    Path,
    typer.Option("--registry", help="The registry file (default: data/datasets.toml)."),
]


def _fail(exc: AppError) -> NoReturn:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(exc.exit_code) from exc


@app.command("verify")
def verify_command(data_dir: DataDir, registry: RegistryPath = DEFAULT_REGISTRY) -> None:
    """Check every file in DATA_DIR against the registry: sizes, sha256 sums, nothing extra."""
    try:
        loaded = load_registry(registry)
        problems = verify(data_dir, loaded)
    except AppError as exc:
        _fail(exc)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        raise typer.Exit(1)
    documents = len(loaded.documents)
    typer.echo(
        f"{loaded.file_count} files in {len(loaded.datasets)} datasets verified"
        + (f", plus {documents} document{'s' if documents != 1 else ''}" if documents else "")
    )


@registry_app.command("write")
def write_command(data_dir: DataDir, registry: RegistryPath = DEFAULT_REGISTRY) -> None:
    """Recompute the file entries (bytes, sha256) from DATA_DIR, keeping hand-written fields.

    Also re-renders the datasets table of the README.md beside the registry, if it has one.
    """
    try:
        refreshed = refresh_files(load_registry(registry), data_dir)
    except AppError as exc:
        _fail(exc)
    new = refreshed.registry
    readme = registry.parent / "README.md"
    readme_text: str | None = None
    if readme.exists():
        try:
            readme_text = replace_table(readme.read_text(encoding="utf-8"), render_table(new))
        except AppError as exc:
            typer.echo(f"note: {readme} not updated: {exc.message}", err=True)
    registry.write_text(format_registry(new), encoding="utf-8")
    typer.echo(f"wrote {registry}: {new.file_count} files in {len(new.datasets)} datasets")
    if readme_text is not None:
        readme.write_text(readme_text, encoding="utf-8")
        typer.echo(f"updated the datasets table in {readme}")
    for warning in refreshed.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if refreshed.warnings:
        raise typer.Exit(1)


@app.command("ablate")
def ablate_command(
    data_dir: DataDir,
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the Markdown report.")
    ] = REPO_ROOT / "reports" / "normalisation-ablation.md",
) -> None:
    """Measure each normalisation step on validation data (hate head with the step left out)."""
    from training.ablation import render, run_ablation

    try:
        table = run_ablation(data_dir, progress=lambda m: typer.echo(m, err=True))
    except AppError as exc:
        _fail(exc)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(table), encoding="utf-8")
    typer.echo(str(out))


Caveat = Annotated[
    str, typer.Option("--caveat", help="How the run was made, printed with its table.")
]


def _write_json_and_md(out: Path, record: Mapping[str, Any], markdown: str) -> None:
    """An ablation's figures as JSON at `out` (read by `evaluate`) and Markdown beside it."""
    import json

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown, encoding="utf-8")
    typer.echo(str(out))


@app.command("ablate-training")
def ablate_training_command(
    data_dir: DataDir,
    sample: Annotated[
        int, typer.Option("--sample", min=100, help="Rows per dataset split for every variant.")
    ] = 3_000,
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the JSON (and .md beside it).")
    ] = REPO_ROOT / "reports" / "training-ablation.json",
    caveat: Caveat = "",
) -> None:
    """Train the pipeline with each model-v2 change left out; validation, suite and speed."""
    from training.ablation_training import render, run_training_ablation

    try:
        results = run_training_ablation(
            data_dir, sample=sample, progress=lambda m: typer.echo(m, err=True)
        )
    except AppError as exc:
        _fail(exc)
    record = {"sample": sample, "caveat": caveat, "variants": results}
    text = render(results, sample=sample)
    _write_json_and_md(out, record, text + (f"\n**Caveat:** {caveat}\n" if caveat else ""))


@app.command("ablate-encoder")
def ablate_encoder_command(
    data_dir: DataDir,
    epochs: Annotated[int, typer.Option("--epochs", min=1, max=10, help="Fine-tuning epochs.")] = 3,
    sample: Annotated[
        int | None,
        typer.Option("--sample", min=100, help="Rows per split (default: all of HateXplain)."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the JSON (and .md beside it).")
    ] = REPO_ROOT / "reports" / "encoder-ablation.json",
    work_dir: Annotated[
        Path, typer.Option("--work-dir", help="Where the ONNX exports go (not committed).")
    ] = REPO_ROOT / "var" / "encoder",
    caveat: Caveat = "",
) -> None:
    """Static, frozen and fine-tuned MiniLM readers beside TF-IDF on HateXplain; needs the
    encoder extra (pip install -e '.[encoder]')."""
    from training.encoder_ablation import render, run_encoder_ablation

    try:
        result = run_encoder_ablation(
            data_dir,
            work_dir=work_dir,
            epochs=epochs,
            sample=sample,
            progress=lambda m: typer.echo(m, err=True),
        )
    except AppError as exc:
        _fail(exc)
    result["caveat"] = caveat
    _write_json_and_md(out, result, render(result))


@registry_app.command("table")
def table_command(registry: RegistryPath = DEFAULT_REGISTRY) -> None:
    """Print the README's markdown table of datasets, rendered from the registry."""
    try:
        loaded = load_registry(registry)
    except AppError as exc:
        _fail(exc)
    typer.echo(render_table(loaded))


if __name__ == "__main__":
    app(prog_name="python -m training")
