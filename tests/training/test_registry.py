import hashlib
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from training.__main__ import app
from training.registry import (
    DEFAULT_README,
    DEFAULT_REGISTRY,
    TASKS,
    DataDirError,
    FileEntry,
    Mismatch,
    MismatchKind,
    Registry,
    RegistryError,
    format_registry,
    load_registry,
    parse_registry,
    refresh_files,
    render_table,
    table_in,
    verify,
)

SHARED_DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
runner = CliRunner()

# The tiny data dir: two datasets (one nested under a folder that also holds a document).
FILES = {
    "alpha/train.csv": b"text,label\nhello,0\nbye,1\n",
    "alpha/test.csv": b"text,label\nok,0\n",
    "suite/beta/labels.txt": b"0\n1\n",
    "suite/README.txt": b"about the suite\n",
}


def _load_text(text: str) -> Registry:
    return parse_registry(tomllib.loads(text))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_toml(owner: str, path: str, *, rows: int | None = None) -> str:
    data = FILES[path]
    header = "[[documents]]" if owner == "documents" else f"[[datasets.{owner}.files]]"
    lines = [header, f'path = "{path}"', f"bytes = {len(data)}", f'sha256 = "{_sha(data)}"']
    if rows is not None:
        lines.append(f"rows = {rows}")
    return "\n".join(lines) + "\n"


def _dataset_toml(name: str, directory: str, task: str) -> str:
    return f"""
[datasets.{name}]
title = "The {name} set"
dir = "{directory}"
domain = ["tweets"]
tasks = ["{task}"]
licence = "MIT"
citation = "Someone et al. 2024"
caveats = "Tiny, written for this test."

[[datasets.{name}.sources]]
repository = "example/{name}"
commit = "{"a" * 40}"
paths = ["data/"]
"""


REGISTRY_TOML = (
    "schema = 1\n\n"
    + _file_toml("documents", "suite/README.txt")
    + _dataset_toml("alpha", "alpha", "hate")
    + _file_toml("alpha", "alpha/test.csv", rows=1)
    + _file_toml("alpha", "alpha/train.csv", rows=2)
    + _dataset_toml("beta", "suite/beta", "stance")
    + _file_toml("beta", "suite/beta/labels.txt")
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    for path, data in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


@pytest.fixture
def registry_path(tmp_path: Path) -> Path:
    path = tmp_path / "repo" / "data" / "datasets.toml"
    path.parent.mkdir(parents=True)
    path.write_text(REGISTRY_TOML, encoding="utf-8")
    return path


def test_matching_data_dir_has_no_mismatches(data_dir: Path, registry_path: Path) -> None:
    registry = load_registry(registry_path)
    assert [d.name for d in registry.datasets] == ["alpha", "beta"]
    assert registry.file_count == 3
    assert registry.dataset("alpha").files[1] == FileEntry(
        "alpha/train.csv", len(FILES["alpha/train.csv"]), _sha(FILES["alpha/train.csv"]), rows=2
    )
    assert verify(data_dir, registry) == []


def test_size_mismatch(data_dir: Path, registry_path: Path) -> None:
    (data_dir / "alpha/train.csv").write_bytes(FILES["alpha/train.csv"] + b"more,1\n")
    problems = verify(data_dir, load_registry(registry_path))
    expected_size = len(FILES["alpha/train.csv"])
    assert problems == [
        Mismatch(
            MismatchKind.SIZE,
            "alpha/train.csv",
            "alpha",
            str(expected_size),
            str(expected_size + 7),
        )
    ]
    assert str(problems[0]) == (
        f"size differs: alpha/train.csv (alpha): registered {expected_size} bytes, "
        f"found {expected_size + 7}"
    )


def test_same_size_other_bytes_is_a_sha256_mismatch(data_dir: Path, registry_path: Path) -> None:
    changed = FILES["suite/beta/labels.txt"].replace(b"1", b"2")
    (data_dir / "suite/beta/labels.txt").write_bytes(changed)
    problems = verify(data_dir, load_registry(registry_path))
    assert [(p.kind, p.path, p.dataset) for p in problems] == [
        (MismatchKind.SHA256, "suite/beta/labels.txt", "beta")
    ]
    assert problems[0].expected == _sha(FILES["suite/beta/labels.txt"])
    assert problems[0].found == _sha(changed)
    assert str(problems[0]).startswith("sha256 differs: suite/beta/labels.txt (beta): registered ")


def test_missing_files_and_documents(data_dir: Path, registry_path: Path) -> None:
    (data_dir / "alpha/test.csv").unlink()
    (data_dir / "suite/README.txt").unlink()
    problems = verify(data_dir, load_registry(registry_path))
    assert [str(p) for p in problems] == [
        "missing: alpha/test.csv (alpha)",
        "missing: suite/README.txt",
    ]


def test_unregistered_files_are_reported(data_dir: Path, registry_path: Path) -> None:
    (data_dir / "alpha/.DS_Store").write_bytes(b"x")
    (data_dir / "gamma").mkdir()
    (data_dir / "gamma/new.csv").write_bytes(b"a\n")
    problems = verify(data_dir, load_registry(registry_path))
    assert [str(p) for p in problems] == [
        "unregistered file: alpha/.DS_Store",
        "unregistered file: gamma/new.csv",
    ]
    assert {p.kind for p in problems} == {MismatchKind.EXTRA}


def test_missing_data_dir_is_an_error(tmp_path: Path, registry_path: Path) -> None:
    with pytest.raises(DataDirError, match="data dir does not exist: .*nowhere"):
        verify(tmp_path / "nowhere", load_registry(registry_path))
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(DataDirError, match="data dir is not a directory: .*a-file"):
        verify(tmp_path / "a-file", load_registry(registry_path))


# --- the registry file is validated ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("schema = 1", "schema = 2", r"schema: expected 1, got 2"),
        ('tasks = ["hate"]', 'tasks = ["spam"]', r"datasets\.alpha\.tasks: unknown spam"),
        ('domain = ["tweets"]', 'domain = ["tv"]', r"datasets\.alpha\.domain: unknown tv"),
        ('licence = "MIT"', 'licence = ""', r"datasets\.alpha\.licence: expected a non-empty"),
        ('licence = "MIT"', 'licencee = "MIT"', r"datasets\.alpha: missing licence"),
        ('caveats = "Tiny', 'colour = "red"\ncaveats = "Tiny', r"unknown key colour"),
        ('path = "alpha/test.csv"', 'path = "alpha/../x.csv"', r"files\[0\]\.path: .* plain"),
        ('path = "alpha/test.csv"', 'path = "/etc/passwd"', r"files\[0\]\.path: .* plain"),
        ('path = "alpha/test.csv"', 'path = "beta/test.csv"', r"is not under alpha/"),
        ('path = "alpha/test.csv"', 'path = "alpha/train.csv"', r"registered twice"),
        ("bytes = 16", "bytes = -16", r"bytes: expected a whole number"),
        ('commit = "aaaa', 'commit = "zzzz', r"sources\[0\]\.commit: expected 40"),
        ('repository = "example/alpha"', 'repository = "alpha"', r"expected owner/name"),
        ("[datasets.alpha]", "[datasets.Alpha]", r"datasets\.Alpha: name must be lower-case"),
        ("rows = 1", "rows = true", r"rows: expected a whole number"),
    ],
)
def test_malformed_registry_is_rejected(
    registry_path: Path, old: str, new: str, message: str
) -> None:
    assert old in REGISTRY_TOML
    registry_path.write_text(REGISTRY_TOML.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RegistryError, match=message):
        load_registry(registry_path)


def test_two_datasets_in_one_dir_are_rejected(registry_path: Path) -> None:
    text = REGISTRY_TOML.replace('dir = "suite/beta"', 'dir = "alpha"')
    text = text[: text.index("[[datasets.beta.files]]")]
    registry_path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match="dir 'alpha' belongs to both alpha and beta"):
        load_registry(registry_path)


def test_bad_sha256_is_rejected(registry_path: Path) -> None:
    registry_path.write_text(
        REGISTRY_TOML.replace(_sha(FILES["alpha/test.csv"]), "ABC"), encoding="utf-8"
    )
    with pytest.raises(RegistryError, match=r"files\[0\]\.sha256: expected 64 lower-case hex"):
        load_registry(registry_path)


def test_unreadable_registry_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="registry not found: .*absent.toml"):
        load_registry(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[datasets\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="broken.toml: not valid TOML"):
        load_registry(broken)


# --- writing the registry back ----------------------------------------------------------------


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\n"),
        min_size=1,
    ).filter(str.strip)
)
def test_any_one_line_text_round_trips_through_the_toml(text: str) -> None:
    raw = tomllib.loads(REGISTRY_TOML)
    raw["datasets"]["alpha"]["caveats"] = text
    registry = parse_registry(raw)
    assert _load_text(format_registry(registry)) == registry


def test_refresh_recomputes_files_and_keeps_hand_fields(
    data_dir: Path, registry_path: Path
) -> None:
    registry = load_registry(registry_path)
    (data_dir / "alpha/train.csv").write_bytes(b"text,label\nhi,1\n")
    (data_dir / "alpha/test.csv").unlink()
    (data_dir / "alpha/extra.csv").write_bytes(b"text\n")
    (data_dir / "loose.txt").write_bytes(b"?\n")
    refreshed = refresh_files(registry, data_dir)
    alpha = refreshed.registry.dataset("alpha")
    assert [(f.path, f.size, f.sha256, f.rows) for f in alpha.files] == [
        ("alpha/extra.csv", 5, _sha(b"text\n"), None),
        ("alpha/train.csv", 16, _sha(b"text,label\nhi,1\n"), 2),
    ]
    assert alpha.licence == "MIT" and alpha.sources == registry.dataset("alpha").sources
    assert refreshed.registry.dataset("beta") == registry.dataset("beta")
    assert refreshed.warnings == (
        "unregistered file: loose.txt (add a dataset or a [[documents]] entry)",
        "dropped entry: alpha/test.csv (alpha): the file is gone",
    )
    assert verify(data_dir, refreshed.registry) == [Mismatch(MismatchKind.EXTRA, "loose.txt")]


def test_refresh_of_an_unchanged_dir_is_canonical_and_stable(
    data_dir: Path, registry_path: Path
) -> None:
    once = format_registry(refresh_files(load_registry(registry_path), data_dir).registry)
    registry_path.write_text(once, encoding="utf-8")
    twice = format_registry(refresh_files(load_registry(registry_path), data_dir).registry)
    assert once == twice
    assert load_registry(registry_path) == _load_text(REGISTRY_TOML)


# --- the command line -----------------------------------------------------------------------


def test_cli_verify_ok(data_dir: Path, registry_path: Path) -> None:
    result = runner.invoke(
        app, ["verify", "--data-dir", str(data_dir), "--registry", str(registry_path)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 files in 2 datasets verified, plus 1 document\n"


def test_cli_verify_prints_one_line_per_problem(data_dir: Path, registry_path: Path) -> None:
    (data_dir / "alpha/test.csv").unlink()
    (data_dir / "stray.bin").write_bytes(b"\0")
    result = runner.invoke(
        app, ["verify", "--data-dir", str(data_dir), "--registry", str(registry_path)]
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "missing: alpha/test.csv (alpha)",
        "unregistered file: stray.bin",
    ]


def test_cli_verify_missing_data_dir_exits_2(tmp_path: Path, registry_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    result = runner.invoke(
        app, ["verify", "--data-dir", str(missing), "--registry", str(registry_path)]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: data dir does not exist: {missing}\n"


def test_cli_verify_broken_registry_exits_2(data_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["verify", "--data-dir", str(data_dir), "--registry", str(tmp_path / "x.toml")]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: registry not found: ")


def test_cli_registry_write_updates_toml_and_readme(data_dir: Path, registry_path: Path) -> None:
    readme = registry_path.parent / "README.md"
    readme.write_text(
        "# data\n\n<!-- datasets-table:start -->\nstale\n<!-- datasets-table:end -->\nend\n",
        encoding="utf-8",
    )
    (data_dir / "suite/beta/more.txt").write_bytes(b"2\n")
    args = ["registry", "write", "--data-dir", str(data_dir), "--registry", str(registry_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    registry = load_registry(registry_path)
    assert [f.path for f in registry.dataset("beta").files] == [
        "suite/beta/labels.txt",
        "suite/beta/more.txt",
    ]
    assert verify(data_dir, registry) == []
    text = readme.read_text(encoding="utf-8")
    assert "stale" not in text and text.endswith("<!-- datasets-table:end -->\nend\n")
    assert table_in(text) == render_table(registry)
    assert "| `beta` | stance | tweets | MIT | 2 (6 B) | — |" in text


def test_cli_registry_write_warns_about_unclaimed_files(
    data_dir: Path, registry_path: Path
) -> None:
    (data_dir / "orphan.csv").write_bytes(b"a\n")
    args = ["registry", "write", "--data-dir", str(data_dir), "--registry", str(registry_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "warning: unregistered file: orphan.csv" in result.stderr


# --- the committed registry -------------------------------------------------------------------


def test_committed_registry_is_canonical() -> None:
    registry = load_registry()
    assert format_registry(registry) == DEFAULT_REGISTRY.read_text(encoding="utf-8")
    assert {task for dataset in registry.datasets for task in dataset.tasks} == TASKS
    assert all(entry.size > 0 for _, entry in registry.entries())


def test_readme_table_matches_the_registry() -> None:
    table = table_in(DEFAULT_README.read_text(encoding="utf-8"))
    assert table == render_table(load_registry()), (
        "data/README.md is stale: run python -m training registry write --data-dir DIR"
    )


@pytest.mark.datasets
def test_shared_datasets_match_the_committed_registry() -> None:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"needs {SHARED_DATASETS} (the shared/ folder beside the repository)")
    problems = verify(SHARED_DATASETS)
    assert [str(problem) for problem in problems] == []
