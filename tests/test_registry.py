import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.registry import (
    ModelArtifactError,
    bundle_digest,
    current_version,
    load,
    load_current,
    read_current,
    save_version,
    set_current,
    sha256_file,
)


@pytest.fixture
def bundle_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / tiny_model_dir.name
    shutil.copytree(tiny_model_dir, target)
    return target


def _edit_manifest(version_dir: Path, **changes: object) -> None:
    path = version_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_a_written_bundle_loads_with_its_thresholds(bundle_copy: Path) -> None:
    model = load(bundle_copy)
    assert model.version == "tiny-1"
    assert set(model.thresholds) == {"hate", "toxic", "conspiracy"}
    assert set(model.class_bias["stance"]) == {"favor", "against", "none"}


def test_current_names_the_version(tiny_model_dir: Path) -> None:
    assert current_version(tiny_model_dir.parent) == "tiny-1"
    assert load_current(tiny_model_dir.parent).version == "tiny-1"


def test_a_tampered_model_file_is_refused(bundle_copy: Path) -> None:
    with (bundle_copy / "model.joblib").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelArtifactError, match="sha256 .* refusing to load"):
        load(bundle_copy)


def test_another_scikit_learn_version_is_refused(bundle_copy: Path) -> None:
    _edit_manifest(bundle_copy, sklearn_version="0.24.2")
    with pytest.raises(ModelArtifactError, match=r"trained with scikit-learn 0\.24\.2"):
        load(bundle_copy)


def test_another_feature_schema_is_refused(bundle_copy: Path) -> None:
    _edit_manifest(bundle_copy, feature_schema=99)
    with pytest.raises(ModelArtifactError, match="feature schema 99"):
        load(bundle_copy)


def test_a_threshold_out_of_range_is_refused(bundle_copy: Path) -> None:
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["thresholds"]["hate"]["threshold"] = 1.5
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelArtifactError, match=r"thresholds\.hate\.threshold"):
        load(bundle_copy)


def test_missing_and_broken_manifests_are_refused(bundle_copy: Path) -> None:
    (bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(ModelArtifactError, match="not valid JSON"):
        load(bundle_copy)
    (bundle_copy / "manifest.json").unlink()
    with pytest.raises(ModelArtifactError, match="cannot read"):
        load(bundle_copy)


def test_a_renamed_version_directory_is_refused(bundle_copy: Path) -> None:
    moved = bundle_copy.with_name("other")
    bundle_copy.rename(moved)
    with pytest.raises(ModelArtifactError, match="says version 'tiny-1'"):
        load(moved)


def test_current_must_exist_and_name_a_version(tmp_path: Path) -> None:
    with pytest.raises(ModelArtifactError, match="no model: cannot read"):
        load_current(tmp_path)
    (tmp_path / "CURRENT").write_text("../../etc\n")
    with pytest.raises(ModelArtifactError, match="does not name a model version"):
        load_current(tmp_path)


def test_bundles_are_never_overwritten(tiny_model_dir: Path, tiny_model: object) -> None:
    from app.registry import LoadedModel

    assert isinstance(tiny_model, LoadedModel)
    with pytest.raises(ModelArtifactError, match="already exists"):
        save_version(tiny_model.bundle, tiny_model.manifest, tiny_model_dir.parent)


def test_set_current_checks_the_version_loads(bundle_copy: Path) -> None:
    digest = set_current(bundle_copy.parent, "tiny-1")
    assert (bundle_copy.parent / "CURRENT").read_text() == "tiny-1\n"
    assert (bundle_copy.parent / "tiny-1.sha256").read_text() == f"{digest}\n"
    assert digest == bundle_digest(bundle_copy)
    assert load_current(bundle_copy.parent).digest == digest
    with pytest.raises(ModelArtifactError, match="cannot read"):
        set_current(bundle_copy.parent, "missing")


# --- the bundle digest beside CURRENT ------------------------------------------------


def _silence_hate(version_dir: Path) -> None:
    # The probe's edit: a valid threshold no comment reaches, model sha256 untouched.
    manifest = json.loads((version_dir / "manifest.json").read_text())
    manifest["thresholds"]["hate"]["threshold"] = 0.9999
    (version_dir / "manifest.json").write_text(json.dumps(manifest))


def _edit_card(version_dir: Path) -> None:
    card = version_dir / "card.md"
    card.write_text(card.read_text() + "\nIntended use: anything.\n")


def _swap_model_and_its_sha(version_dir: Path) -> None:
    # Another pickle with the manifest's sha256 rewritten to match: only the digest sees it.
    model = version_dir / "model.joblib"
    with model.open("ab") as handle:
        handle.write(b"\0")
    _edit_manifest(version_dir, model_sha256=sha256_file(model))


def _add_file(version_dir: Path) -> None:
    (version_dir / "extra.joblib").write_bytes(b"more to unpickle")


def _remove_card(version_dir: Path) -> None:
    (version_dir / "card.md").unlink()


def _add_folder(version_dir: Path) -> None:
    (version_dir / "sub").mkdir()


def _link_a_file(version_dir: Path) -> None:
    (version_dir / "card.md").unlink()
    (version_dir / "card.md").symlink_to(version_dir.parent / "elsewhere.md")
    (version_dir.parent / "elsewhere.md").write_text("# tiny-1\n")


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_silence_hate, "a file was changed, added or removed"),
        (_edit_card, "a file was changed, added or removed"),
        (_swap_model_and_its_sha, "a file was changed, added or removed"),
        (_add_file, r"extra\.joblib.*a file was changed, added or removed"),
        (_remove_card, "a file was changed, added or removed"),
        (_add_folder, "is not a plain file"),
        (_link_a_file, "is not a plain file"),
    ],
    ids=["manifest", "card", "model", "added", "removed", "folder", "link"],
)
def test_any_edit_of_the_bundle_is_refused_by_currents_digest(
    bundle_copy: Path, tamper: Callable[[Path], None], message: str
) -> None:
    models = bundle_copy.parent
    digest = set_current(models, "tiny-1")
    tamper(bundle_copy)
    with pytest.raises(ModelArtifactError, match=message) as caught:
        load_current(models)
    if "plain file" not in message:
        assert digest in caught.value.message
    # What loads without a digest (a just-trained bundle) is unchanged; the service and
    # every scoring command load through CURRENT.
    if tamper is _silence_hate:
        assert load(bundle_copy).thresholds["hate"] == 0.9999


def test_a_current_without_digest_is_refused_with_what_to_run(bundle_copy: Path) -> None:
    (bundle_copy.parent / "CURRENT").write_text("tiny-1\n")
    assert read_current(bundle_copy.parent) == ("tiny-1", None)
    with pytest.raises(ModelArtifactError, match="threadguard model-use tiny-1"):
        load_current(bundle_copy.parent)


@pytest.mark.parametrize(
    "line",
    ["sha256:abc", "md5:" + "0" * 64, "sha256:" + "0" * 64 + " more", "tiny-1 sha256:" + "0" * 64],
)
def test_a_malformed_digest_file_is_refused(bundle_copy: Path, line: str) -> None:
    (bundle_copy.parent / "CURRENT").write_text("tiny-1\n")
    (bundle_copy.parent / "tiny-1.sha256").write_text(line + "\n")
    with pytest.raises(ModelArtifactError, match="one line 'sha256:HEX'"):
        load_current(bundle_copy.parent)


def test_current_names_the_version_alone(bundle_copy: Path) -> None:
    (bundle_copy.parent / "CURRENT").write_text("tiny-1 sha256:" + "0" * 64 + "\n")
    with pytest.raises(ModelArtifactError, match="does not name a model version"):
        load_current(bundle_copy.parent)


def test_a_digest_from_another_bundle_is_refused(bundle_copy: Path) -> None:
    other = "sha256:" + "0" * 64
    (bundle_copy.parent / "CURRENT").write_text("tiny-1\n")
    (bundle_copy.parent / "tiny-1.sha256").write_text(f"{other}\n")
    with pytest.raises(ModelArtifactError, match=f"tiny-1.sha256 says {other}"):
        load_current(bundle_copy.parent)


def test_model_use_writes_current_and_serving_refuses_an_edit(bundle_copy: Path) -> None:
    from app.cli import app

    models = bundle_copy.parent
    runner = CliRunner()
    result = runner.invoke(app, ["model-use", "tiny-1", "--model-dir", str(models)])
    assert result.exit_code == 0, result.output
    version, digest = read_current(models)
    assert version == "tiny-1" and digest == bundle_digest(bundle_copy)
    info = runner.invoke(app, ["model-info", "--model-dir", str(models)])
    assert json.loads(info.stdout)["bundle_digest"] == digest
    _silence_hate(bundle_copy)
    refused = runner.invoke(app, ["model-info", "--model-dir", str(models)])
    assert refused.exit_code == 3
    assert "refusing to load it" in refused.stderr


def test_the_shipped_current_carries_its_bundles_digest() -> None:
    from tests.conftest import ROOT

    version, digest = read_current(ROOT / "models")
    assert digest == bundle_digest(ROOT / "models" / version)
