import json
import shutil
from pathlib import Path

import pytest

from app.registry import (
    ModelArtifactError,
    current_version,
    load,
    load_current,
    save_version,
    set_current,
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
    set_current(bundle_copy.parent, "tiny-1")
    assert (bundle_copy.parent / "CURRENT").read_text().strip() == "tiny-1"
    with pytest.raises(ModelArtifactError, match="cannot read"):
        set_current(bundle_copy.parent, "missing")
