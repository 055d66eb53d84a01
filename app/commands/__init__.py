"""Typer sub-commands too large for app/cli.py (which registers them), and what they share.

Start-up: building the CLI (`threadguard --help`, `version`, `db …`, `keys …`) must not
import scikit-learn, numpy, scipy, pandas, FastAPI, SQLAlchemy or Dask, which take seconds;
modules here import them inside the commands that use them (tests/test_cli_startup.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from typer.core import TyperOption

from app.errors import AppError


def _hide_flag_types() -> None:
    """Give flags no value type in the help panels: `--score`, not `--score <bool>`.

    typer 0.29 draws each option's type column from `TyperOption.display_type_rich`, which,
    unlike the plain help formatter beside it (`get_help_record`), does not ask whether the
    option takes a value, so every flag and `--help` itself showed `<bool>`. Click is not
    involved: this typer carries its own copy of it. Patched here, once, because every
    command module imports this package; tests/test_cli_help.py holds the result.
    """
    shown = TyperOption.display_type_rich
    if getattr(shown, "_hides_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return shown(self, ctx)

    display_type_rich._hides_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_hide_flag_types()

ModelDirOption = Annotated[
    Path | None,
    typer.Option(
        "--model-dir",
        help="Folder with CURRENT and the model versions (default: THREADGUARD_MODEL_DIR "
        "or the repository's models/).",
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an AppError into `error: …` on stderr and its exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AppError as error:
            typer.echo(f"error: {error.message}", err=True)
            raise typer.Exit(error.exit_code) from error

    return wrapper


def announce_model(model_dir: Path, version: str | None = None) -> None:
    """Say on stderr which bundle is about to be loaded, before the seconds it takes.

    Loading imports scikit-learn, numpy and scipy and unpickles the bundle; until this line
    a scoring command would print nothing. `version` defaults to the one CURRENT names; if
    CURRENT cannot be read, nothing is said and the load that follows reports the error.
    """
    from app.registry import ModelArtifactError, current_version

    if version is None:
        try:
            version = current_version(model_dir)
        except ModelArtifactError:
            return
    where = model_dir / version
    try:
        shown = where.resolve().relative_to(Path.cwd())
    except (ValueError, OSError):  # outside the working directory, or it is gone
        shown = where
    typer.echo(f"loading model {version} from {shown} (scikit-learn)", err=True)
