"""The registry of public datasets (data/datasets.toml) and the check that a data dir matches it.

For every dataset directory kept outside the repository the registry records where it came
from, its licence and caveats, and the size and sha256 of each file, so that a training run
can prove it read exactly the bytes it was meant to. It never holds dataset rows.

Hand-written fields (titles, sources, licences, caveats, row counts, notes) live in the TOML
file; `refresh_files` recomputes only the file entries, and `format_registry` writes the whole
file back in one canonical layout, so that regenerating an unchanged registry is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.errors import AppError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = REPO_ROOT / "data" / "datasets.toml"
DEFAULT_README = REPO_ROOT / "data" / "README.md"

SCHEMA = 1
TASKS = frozenset({"hate", "toxic", "conspiracy", "stance", "reply_stance", "parser-fixtures"})
# The MANIFEST's domain legend spelled out, plus the few sources it names outside the legend.
DOMAINS = frozenset(
    {
        "tweets",
        "gab",
        "reddit",
        "news-comments",
        "forum",
        "synthetic",
        "telegram",
        "youtube",
        "wikipedia-talk",
        "facebook",
        "4chan",
        "blog-comments",
    }
)

TABLE_START = "<!-- datasets-table:start -->"
TABLE_END = "<!-- datasets-table:end -->"

HEADER = """\
# Registry of the public datasets threadguard trains on: provenance and checksums, never rows.
# Hand-written: every dataset table and its sources, `rows` of files, `note` of documents.
# Generated: `bytes` and `sha256` of every file (and which files exist), by
#   python -m training registry write --data-dir ../shared/datasets
# which rewrites this whole file in its canonical layout (comments other than this header
# are not kept). Check a data dir with: python -m training verify --data-dir ../shared/datasets
"""

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_SHA256_RE = re.compile(r"[0-9a-f]{64}\Z")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}\Z")
_REPOSITORY_RE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\Z")


class RegistryError(AppError):
    """The registry file is missing or malformed."""

    code = "registry_error"


class DataDirError(AppError):
    """The data dir does not exist, is not a directory, or a file in it cannot be read."""

    code = "data_dir_error"


@dataclass(frozen=True)
class FileEntry:
    """One registered file: its path relative to the data dir, size and sha256."""

    path: str
    size: int
    sha256: str
    rows: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class Source:
    """A public repository at a commit, and the paths in it that a dataset's files came from."""

    repository: str
    commit: str
    paths: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One dataset directory: what it is, where it came from, and its files."""

    name: str
    title: str
    dir: str
    domain: tuple[str, ...]
    tasks: tuple[str, ...]
    licence: str
    citation: str
    caveats: str
    sources: tuple[Source, ...]
    files: tuple[FileEntry, ...] = ()
    examples: int | None = None

    @property
    def size(self) -> int:
        """Total bytes of the dataset's files."""
        return sum(entry.size for entry in self.files)


@dataclass(frozen=True)
class Registry:
    """Every registered dataset, plus documents (e.g. MANIFEST.md) that hold no rows."""

    datasets: tuple[Dataset, ...]
    documents: tuple[FileEntry, ...] = ()

    @property
    def file_count(self) -> int:
        """Number of dataset files (documents not included)."""
        return sum(len(dataset.files) for dataset in self.datasets)

    def dataset(self, name: str) -> Dataset:
        """The dataset called `name`.

        Raises:
            RegistryError: no dataset has that name.
        """
        for dataset in self.datasets:
            if dataset.name == name:
                return dataset
        raise RegistryError(f"no dataset named {name!r} in the registry")

    def entries(self) -> Iterator[tuple[str | None, FileEntry]]:
        """Every registered file with the dataset it belongs to (None for documents)."""
        for document in self.documents:
            yield None, document
        for dataset in self.datasets:
            for entry in dataset.files:
                yield dataset.name, entry


class MismatchKind(StrEnum):
    """What differs between a registered file and the data dir."""

    MISSING = "missing"
    SIZE = "size"
    SHA256 = "sha256"
    EXTRA = "extra"


@dataclass(frozen=True)
class Mismatch:
    """One difference between the registry and a data dir."""

    kind: MismatchKind
    path: str
    dataset: str | None = None
    expected: str | None = None
    found: str | None = None

    def __str__(self) -> str:
        owner = f" ({self.dataset})" if self.dataset else ""
        if self.kind is MismatchKind.MISSING:
            return f"missing: {self.path}{owner}"
        if self.kind is MismatchKind.SIZE:
            return (
                f"size differs: {self.path}{owner}: "
                f"registered {self.expected} bytes, found {self.found}"
            )
        if self.kind is MismatchKind.SHA256:
            return (
                f"sha256 differs: {self.path}{owner}: "
                f"registered {self.expected}, found {self.found}"
            )
        return f"unregistered file: {self.path}"


# --- reading the TOML ---------------------------------------------------------------------


def load_registry(path: Path = DEFAULT_REGISTRY) -> Registry:
    """Read and validate a registry file.

    Raises:
        RegistryError: the file is missing, not TOML, or breaks the registry's schema.
    """
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise RegistryError(f"registry not found: {path}") from exc
    except OSError as exc:
        raise RegistryError(f"cannot read registry {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from exc
    return parse_registry(raw, where=str(path))


def parse_registry(raw: Mapping[str, Any], *, where: str = "registry") -> Registry:
    """Validate an already-parsed TOML document as a registry.

    Raises:
        RegistryError: a field is missing, unknown, of the wrong type or inconsistent.
    """
    _check_keys(raw, where, required={"schema", "datasets"}, optional={"documents"})
    schema = _int(raw, "schema", where)
    if schema != SCHEMA:
        raise RegistryError(f"{where}: schema: expected {SCHEMA}, got {schema}")
    documents = tuple(
        _file_entry(item, f"{where}: documents[{i}]")
        for i, item in enumerate(_list(raw.get("documents", []), f"{where}: documents"))
    )
    datasets_raw = _table(raw["datasets"], f"{where}: datasets")
    datasets = tuple(
        _dataset(name, value, f"{where}: datasets.{name}") for name, value in datasets_raw.items()
    )
    registry = Registry(datasets=datasets, documents=documents)
    _check_consistency(registry, where)
    return registry


def _dataset(name: str, raw: object, where: str) -> Dataset:
    if not _NAME_RE.match(name):
        raise RegistryError(f"{where}: name must be lower-case letters, digits and '-'")
    table = _table(raw, where)
    _check_keys(
        table,
        where,
        required={"title", "dir", "domain", "tasks", "licence", "citation", "caveats", "sources"},
        optional={"examples", "files"},
    )
    domain = _str_list(table, "domain", where)
    if unknown := sorted(set(domain) - DOMAINS):
        raise RegistryError(
            f"{where}.domain: unknown {', '.join(unknown)} (known: {', '.join(sorted(DOMAINS))})"
        )
    tasks = _str_list(table, "tasks", where)
    if unknown := sorted(set(tasks) - TASKS):
        raise RegistryError(
            f"{where}.tasks: unknown {', '.join(unknown)} (known: {', '.join(sorted(TASKS))})"
        )
    directory = _relative_path(_str(table, "dir", where), f"{where}.dir")
    files = tuple(
        _file_entry(item, f"{where}.files[{i}]")
        for i, item in enumerate(_list(table.get("files", []), f"{where}.files"))
    )
    for i, entry in enumerate(files):
        if not entry.path.startswith(directory + "/"):
            raise RegistryError(
                f"{where}.files[{i}].path: {entry.path!r} is not under {directory}/"
            )
    sources = tuple(
        _source(item, f"{where}.sources[{i}]")
        for i, item in enumerate(_list(table["sources"], f"{where}.sources"))
    )
    if not sources:
        raise RegistryError(f"{where}.sources: at least one source is required")
    return Dataset(
        name=name,
        title=_str(table, "title", where),
        dir=directory,
        domain=domain,
        tasks=tasks,
        licence=_str(table, "licence", where),
        citation=_str(table, "citation", where),
        caveats=_str(table, "caveats", where),
        sources=sources,
        files=files,
        examples=_int(table, "examples", where) if "examples" in table else None,
    )


def _source(raw: object, where: str) -> Source:
    table = _table(raw, where)
    _check_keys(table, where, required={"repository", "commit", "paths"}, optional={"note"})
    repository = _str(table, "repository", where)
    if not _REPOSITORY_RE.match(repository):
        raise RegistryError(f"{where}.repository: expected owner/name, got {repository!r}")
    commit = _str(table, "commit", where)
    if not _COMMIT_RE.match(commit):
        raise RegistryError(f"{where}.commit: expected 40 lower-case hex digits, got {commit!r}")
    return Source(
        repository=repository,
        commit=commit,
        paths=_str_list(table, "paths", where),
        note=_str(table, "note", where) if "note" in table else None,
    )


def _file_entry(raw: object, where: str) -> FileEntry:
    table = _table(raw, where)
    _check_keys(table, where, required={"path", "bytes", "sha256"}, optional={"rows", "note"})
    sha256 = _str(table, "sha256", where)
    if not _SHA256_RE.match(sha256):
        raise RegistryError(f"{where}.sha256: expected 64 lower-case hex digits, got {sha256!r}")
    return FileEntry(
        path=_relative_path(_str(table, "path", where), f"{where}.path"),
        size=_int(table, "bytes", where),
        sha256=sha256,
        rows=_int(table, "rows", where) if "rows" in table else None,
        note=_str(table, "note", where) if "note" in table else None,
    )


def _check_consistency(registry: Registry, where: str) -> None:
    seen: dict[str, str] = {}
    for owner, entry in registry.entries():
        label = owner or "documents"
        if entry.path in seen:
            raise RegistryError(
                f"{where}: {entry.path} is registered twice ({seen[entry.path]} and {label})"
            )
        seen[entry.path] = label
    dirs: dict[str, str] = {}
    for dataset in registry.datasets:
        if dataset.dir in dirs:
            raise RegistryError(
                f"{where}: dir {dataset.dir!r} belongs to both {dirs[dataset.dir]} "
                f"and {dataset.name}"
            )
        dirs[dataset.dir] = dataset.name


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RegistryError(f"{where}: expected a table")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise RegistryError(f"{where}: expected an array")
    return value


def _check_keys(
    table: Mapping[str, Any], where: str, *, required: set[str], optional: set[str]
) -> None:
    if missing := sorted(required - table.keys()):
        raise RegistryError(f"{where}: missing {', '.join(missing)}")
    if unknown := sorted(table.keys() - required - optional):
        raise RegistryError(f"{where}: unknown key {', '.join(unknown)}")


def _str(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table[key]
    # One line each, so every field fits a README table cell and a one-line report.
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise RegistryError(f"{where}.{key}: expected a non-empty one-line string")
    return value


def _int(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RegistryError(f"{where}.{key}: expected a whole number >= 0")
    return value


def _str_list(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table[key]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise RegistryError(f"{where}.{key}: expected a non-empty array of strings")
    return tuple(value)


def _relative_path(value: str, where: str) -> str:
    # Registry paths are joined onto a data dir, so they must not be able to leave it.
    parts = value.split("/")
    if "\\" in value or any(part in ("", ".", "..") for part in parts):
        raise RegistryError(f"{where}: {value!r} is not a plain relative path like a/b.csv")
    return value


# --- checking a data dir ------------------------------------------------------------------


def verify(data_dir: Path, registry: Registry | None = None) -> list[Mismatch]:
    """Compare every file under `data_dir` with the registry; an empty list means they match.

    Raises:
        DataDirError: `data_dir` is not an existing directory, or a file in it cannot be read.
        RegistryError: `registry` is None and the committed registry cannot be read.
    """
    check_data_dir(data_dir)
    if registry is None:
        registry = load_registry()
    problems: list[Mismatch] = []
    for owner, entry in registry.entries():
        target = data_dir / entry.path
        if not target.is_file():
            problems.append(Mismatch(MismatchKind.MISSING, entry.path, owner))
            continue
        size = target.stat().st_size
        if size != entry.size:
            # Sizes differ, so the hashes do too: skip reading the file.
            problems.append(
                Mismatch(MismatchKind.SIZE, entry.path, owner, str(entry.size), str(size))
            )
            continue
        digest = sha256_file(target)
        if digest != entry.sha256:
            problems.append(Mismatch(MismatchKind.SHA256, entry.path, owner, entry.sha256, digest))
    registered = {entry.path for _, entry in registry.entries()}
    problems.extend(
        Mismatch(MismatchKind.EXTRA, path)
        for path in list_files(data_dir)
        if path not in registered
    )
    return sorted(problems, key=lambda problem: (problem.path, problem.kind.value))


def check_data_dir(data_dir: Path) -> None:
    """Make sure `data_dir` is an existing directory.

    Raises:
        DataDirError: it does not exist or is not a directory.
    """
    if not data_dir.exists():
        raise DataDirError(f"data dir does not exist: {data_dir}")
    if not data_dir.is_dir():
        raise DataDirError(f"data dir is not a directory: {data_dir}")


def list_files(data_dir: Path) -> list[str]:
    """Every file under `data_dir`, as sorted POSIX paths relative to it (hidden files too)."""
    return sorted(
        path.relative_to(data_dir).as_posix() for path in data_dir.rglob("*") if path.is_file()
    )


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in chunks.

    Raises:
        DataDirError: the file cannot be read.
    """
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise DataDirError(f"cannot read {path}: {exc.strerror}") from exc


# --- regenerating the file entries --------------------------------------------------------


@dataclass(frozen=True)
class Refresh:
    """A registry with recomputed file entries, and what a person should look at."""

    registry: Registry
    warnings: tuple[str, ...]


def refresh_files(registry: Registry, data_dir: Path) -> Refresh:
    """Recompute every file entry from `data_dir`, keeping the hand-written fields.

    A file belongs to the dataset with the longest `dir` containing it; documents keep their
    paths. Files nobody claims, datasets left without files, missing documents and entries
    dropped because their file is gone come back as warnings.

    Raises:
        DataDirError: `data_dir` is not an existing directory, or a file in it cannot be read.
    """
    check_data_dir(data_dir)
    warnings: list[str] = []
    present = list_files(data_dir)
    present_set = set(present)

    documents: list[FileEntry] = []
    for document in registry.documents:
        if document.path in present_set:
            documents.append(_measure(data_dir, document))
        else:
            warnings.append(f"missing document: {document.path} (old entry kept)")
            documents.append(document)
    document_paths = {document.path for document in registry.documents}

    by_depth = sorted(registry.datasets, key=lambda dataset: len(dataset.dir), reverse=True)
    claimed: dict[str, list[str]] = {dataset.name: [] for dataset in registry.datasets}
    for path in present:
        if path in document_paths:
            continue
        owner = next((d.name for d in by_depth if path.startswith(d.dir + "/")), None)
        if owner is None:
            warnings.append(f"unregistered file: {path} (add a dataset or a [[documents]] entry)")
        else:
            claimed[owner].append(path)

    datasets: list[Dataset] = []
    for dataset in registry.datasets:
        old = {entry.path: entry for entry in dataset.files}
        files = tuple(
            _measure(data_dir, old.get(path, FileEntry(path, 0, "")))
            for path in claimed[dataset.name]
        )
        if not files:
            warnings.append(f"no files under {dataset.dir}/ ({dataset.name})")
        warnings.extend(
            f"dropped entry: {path} ({dataset.name}): the file is gone"
            for path in sorted(old.keys() - set(claimed[dataset.name]))
        )
        datasets.append(replace(dataset, files=files))
    return Refresh(Registry(tuple(datasets), tuple(documents)), tuple(warnings))


def _measure(data_dir: Path, entry: FileEntry) -> FileEntry:
    target = data_dir / entry.path
    return replace(entry, size=target.stat().st_size, sha256=sha256_file(target))


# --- writing the TOML and the README table ------------------------------------------------


def format_registry(registry: Registry) -> str:
    """The registry as TOML text in its canonical layout (what `load_registry` reads back)."""
    lines = [HEADER, f"schema = {SCHEMA}"]
    for document in registry.documents:
        lines += ["", "[[documents]]", *_file_lines(document)]
    for dataset in registry.datasets:
        key = f"datasets.{dataset.name}"
        lines += [
            "",
            f"[{key}]",
            f"title = {_toml_str(dataset.title)}",
            f"dir = {_toml_str(dataset.dir)}",
            f"domain = {_toml_list(dataset.domain)}",
            f"tasks = {_toml_list(dataset.tasks)}",
            f"licence = {_toml_str(dataset.licence)}",
            f"citation = {_toml_str(dataset.citation)}",
            f"caveats = {_toml_str(dataset.caveats)}",
        ]
        if dataset.examples is not None:
            lines.append(f"examples = {dataset.examples}")
        for source in dataset.sources:
            lines += [
                "",
                f"[[{key}.sources]]",
                f"repository = {_toml_str(source.repository)}",
                f"commit = {_toml_str(source.commit)}",
                f"paths = {_toml_list(source.paths)}",
            ]
            if source.note is not None:
                lines.append(f"note = {_toml_str(source.note)}")
        for entry in dataset.files:
            lines += ["", f"[[{key}.files]]", *_file_lines(entry)]
    return "\n".join(lines) + "\n"


def _file_lines(entry: FileEntry) -> list[str]:
    lines = [
        f"path = {_toml_str(entry.path)}",
        f"bytes = {entry.size}",
        f"sha256 = {_toml_str(entry.sha256)}",
    ]
    if entry.rows is not None:
        lines.append(f"rows = {entry.rows}")
    if entry.note is not None:
        lines.append(f"note = {_toml_str(entry.note)}")
    return lines


def _toml_str(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes, except that TOML also
    # forbids a raw DEL character.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_toml_str(value) for value in values) + "]"


def render_table(registry: Registry) -> str:
    """The README's markdown table of datasets, rendered from the registry."""
    lines = [
        "| Dataset | Task(s) | Domain | Licence | Files | Rows |",
        "|---|---|---|---|---|---|",
    ]
    for dataset in registry.datasets:
        rows = f"{dataset.examples:,}" if dataset.examples is not None else "—"
        cells = [
            f"`{dataset.name}`",
            ", ".join(dataset.tasks),
            ", ".join(dataset.domain),
            dataset.licence,
            f"{len(dataset.files)} ({_human_size(dataset.size)})",
            rows,
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    total = sum(dataset.size for dataset in registry.datasets)
    lines += [
        "",
        f"{len(registry.datasets)} datasets, {registry.file_count} files, {_human_size(total)}; "
        f"plus {_plural(len(registry.documents), 'document')} "
        f"({', '.join(document.path for document in registry.documents)}).",
    ]
    return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _human_size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"


def replace_table(readme: str, table: str) -> str:
    """`readme` with the text between the table markers replaced by `table`.

    Raises:
        RegistryError: the README lacks the start or end marker.
    """
    start = readme.find(TABLE_START)
    end = readme.find(TABLE_END)
    if start < 0 or end < start:
        raise RegistryError(f"README lacks the markers {TABLE_START} … {TABLE_END}")
    return readme[: start + len(TABLE_START)] + "\n" + table + "\n" + readme[end:]


def table_in(readme: str) -> str | None:
    """The text between the table markers of `readme`, or None without markers."""
    start = readme.find(TABLE_START)
    end = readme.find(TABLE_END)
    if start < 0 or end < start:
        return None
    return readme[start + len(TABLE_START) : end].strip("\n")
