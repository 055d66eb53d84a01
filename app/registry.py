"""Model bundles on disk: `models/CURRENT` names a version directory holding `model.joblib`,
`manifest.json` and `card.md`; `models/VERSION.sha256`, beside that directory, holds the
digest of those files. Loading checks before it unpickles anything.

A bundle is a pickle, and a pickle runs code when loaded, so `load` refuses a bundle whose
sha256 differs from its manifest, and one made by another scikit-learn version (estimators
pickled by one version are not guaranteed to behave the same in another). The manifest
also decides (its thresholds silence or wake a head), and its model sha256 can be edited
with it, so a digest over every file of the bundle is kept outside it, where `model-use`
wrote it: `load_current` refuses a bundle whose files were edited, added or removed since.
CURRENT itself stays the version alone, so any tool that reads it as a folder name can. Paths come
from settings or the command line, never from a request.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import AppError

if TYPE_CHECKING:
    from app.heads import Bundle, CompiledBundle

# scikit-learn, joblib and app.heads / app.features (numpy, scipy, pandas) are imported
# inside the functions that unpickle, write or describe a bundle: this module is also
# imported by commands that only need `default_model_dir` or `current_version`, and those
# imports cost seconds of CLI start-up.

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "card.md"
CURRENT_FILE = "CURRENT"
# `VERSION.sha256` beside the version directory: one digest file per version, written before
# CURRENT moves, so a reader never pairs a new CURRENT with an old digest.
DIGEST_SUFFIX = ".sha256"
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


class ModelArtifactError(AppError):
    """A model bundle is missing, damaged, or was made for another environment."""

    status_code = 503
    exit_code = 3
    code = "model_unavailable"


@dataclass(frozen=True)
class LoadedModel:
    """A verified bundle: the estimators plus the decision settings from its manifest.

    Parameters
    ----------
    version : str
        The bundle's directory name, also stored in its manifest.
    thresholds : Mapping[str, float]
        Flag threshold of each binary head (hate, toxic, conspiracy).
    class_bias : Mapping[str, Mapping[str, float]]
        For stance and reply_stance: a log-offset per label added before the argmax,
        tuned on validation data for macro-F1.
    """

    version: str
    path: Path
    manifest: Mapping[str, Any]
    bundle: Bundle
    thresholds: Mapping[str, float]
    class_bias: Mapping[str, Mapping[str, float]]
    compiled: CompiledBundle
    # "sha256:…" over the bundle's files, when it was loaded through its digest file.
    digest: str | None = None


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_model_dir() -> Path:
    """THREADGUARD_MODEL_DIR, else the `models/` folder beside the `app` package."""
    configured = os.environ.get("THREADGUARD_MODEL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "models"


def bundle_digest(version_dir: Path) -> str:
    """ "sha256:…" over every file of a version directory: each file's name and sha256.

    Raises:
        ModelArtifactError: the directory cannot be read, or holds something that is not a
            plain file (a folder or a link could change what is loaded without changing
            what is hashed).
    """
    try:
        entries = sorted(version_dir.iterdir())
    except OSError as exc:
        raise ModelArtifactError(f"cannot read {version_dir} ({exc.strerror})") from exc
    digest = hashlib.sha256()
    for entry in entries:
        if entry.is_symlink() or not entry.is_file():
            raise ModelArtifactError(
                f"{entry} is not a plain file; a bundle holds only files, refusing to load it"
            )
        digest.update(f"{entry.name}\0{sha256_file(entry)}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def digest_file(model_dir: Path, version: str) -> Path:
    """Where the digest of `version`'s files is kept (outside its directory)."""
    return model_dir / f"{version}{DIGEST_SUFFIX}"


def read_current(model_dir: Path) -> tuple[str, str | None]:
    """The version `model_dir/CURRENT` names, and the bundle digest kept for it.

    CURRENT is one line, the version; the digest is `model_dir/VERSION.sha256`, one line
    `sha256:HEX`. Without that file the digest is None, which `load_current` refuses.

    Raises:
        ModelArtifactError: CURRENT is missing or names no version, or the digest file
            cannot be read or does not have that form.
    """
    current = model_dir / CURRENT_FILE
    try:
        text = current.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelArtifactError(f"no model: cannot read {current} ({exc.strerror})") from exc
    version = text.strip()
    if not _VERSION_RE.match(version):
        raise ModelArtifactError(f"{current} does not name a model version: {text[:80]!r}")
    path = digest_file(model_dir, version)
    try:
        digest_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return version, None
    except OSError as exc:
        raise ModelArtifactError(f"cannot read {path} ({exc.strerror})") from exc
    digest = digest_text.strip()
    if not _DIGEST_RE.match(digest):
        raise ModelArtifactError(
            f"{path} must hold one line 'sha256:HEX' (64 hex digits): {digest_text[:160]!r}"
        )
    return version, digest


def current_version(model_dir: Path) -> str:
    """The version named by `model_dir/CURRENT`.

    Raises:
        ModelArtifactError: CURRENT is missing or names no valid version.
    """
    return read_current(model_dir)[0]


def load_current(model_dir: Path) -> LoadedModel:
    """Load the bundle that `model_dir/CURRENT` names, checked against `VERSION.sha256`.

    Raises:
        ModelArtifactError: see `read_current` and `load`; also CURRENT gives no digest.
    """
    version, digest = read_current(model_dir)
    if digest is None:
        raise ModelArtifactError(
            f"{model_dir / CURRENT_FILE} names {version}, and there is no "
            f"{digest_file(model_dir, version).name} with the digest of its files; "
            f"check the bundle, then run `threadguard model-use {version}` to write it"
        )
    return load(model_dir / version, digest=digest)


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """The parsed manifest of a version directory.

    Raises:
        ModelArtifactError: missing or not a JSON object.
    """
    path = version_dir / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelArtifactError(f"cannot read {path} ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise ModelArtifactError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from exc
    if not isinstance(manifest, dict):
        raise ModelArtifactError(f"{path} must hold a JSON object")
    return manifest


def load(version_dir: Path, *, digest: str | None = None) -> LoadedModel:
    """Verify and load one version directory; with `digest`, its files must have it.

    Without a digest only the model file is checked (against the manifest): for a bundle
    just written, or one named on the command line to be evaluated.

    Raises:
        ModelArtifactError: the files' digest is not `digest`, the manifest is missing or
            incomplete, the model file's sha256 differs from the manifest, the bundle was
            made with another scikit-learn or feature schema, or the pickle does not hold a
            threadguard bundle.
    """
    import joblib
    import sklearn

    from app.features import READABLE_SCHEMAS
    from app.heads import Bundle

    if digest is not None:
        actual_digest = bundle_digest(version_dir)
        if actual_digest != digest:
            files = ", ".join(sorted(entry.name for entry in version_dir.iterdir()))
            raise ModelArtifactError(
                f"the files of bundle {version_dir.name} ({files}) have digest "
                f"{actual_digest}, but {version_dir.name}{DIGEST_SUFFIX} says {digest}: a "
                "file was changed, added or removed since `threadguard model-use` wrote it; "
                "refusing to load it"
            )
    manifest = read_manifest(version_dir)
    where = version_dir / MANIFEST_FILE
    expected = _manifest_str(manifest, "model_sha256", where)
    model_path = version_dir / MODEL_FILE
    if not model_path.is_file():
        raise ModelArtifactError(f"{model_path} is missing")
    actual = sha256_file(model_path)
    if actual != expected:
        raise ModelArtifactError(
            f"{model_path} has sha256 {actual}, but its manifest says {expected}: "
            "the bundle was changed or damaged; refusing to load it"
        )
    trained_with = _manifest_str(manifest, "sklearn_version", where)
    if trained_with != sklearn.__version__:
        raise ModelArtifactError(
            f"bundle {version_dir.name} was trained with scikit-learn {trained_with}, but "
            f"scikit-learn {sklearn.__version__} is installed; install scikit-learn=="
            f"{trained_with} or retrain"
        )
    schema = manifest.get("feature_schema")
    if schema not in READABLE_SCHEMAS:
        raise ModelArtifactError(
            f"bundle {version_dir.name} uses feature schema {schema!r}; this threadguard "
            f"reads schemas {', '.join(map(str, READABLE_SCHEMAS))}"
        )
    with warnings.catch_warnings():
        # A pickle from another scikit-learn version must not load with a mere warning.
        warnings.simplefilter("error", sklearn.exceptions.InconsistentVersionWarning)
        try:
            bundle = joblib.load(model_path)
        except sklearn.exceptions.InconsistentVersionWarning as exc:
            raise ModelArtifactError(f"{model_path}: {exc}") from exc
        except (OSError, EOFError, ValueError, AttributeError, ImportError) as exc:
            raise ModelArtifactError(f"{model_path} cannot be loaded: {exc}") from exc
    if not isinstance(bundle, Bundle):
        raise ModelArtifactError(f"{model_path} does not hold a threadguard bundle")
    version = _manifest_str(manifest, "version", where)
    if version != version_dir.name:
        raise ModelArtifactError(
            f"{where} says version {version!r} but lies in directory {version_dir.name!r}"
        )
    loaded = assemble(version_dir, manifest, bundle)
    return dataclasses.replace(loaded, digest=digest)


def assemble(version_dir: Path, manifest: Mapping[str, Any], bundle: Bundle) -> LoadedModel:
    """A `LoadedModel` from a bundle and its manifest's decision settings (no file checks).

    `load` ends here; training uses it to score the test rows before the bundle is written.

    Raises:
        ModelArtifactError: the manifest's thresholds or class biases are missing or invalid.
    """
    from app.heads import compile_bundle

    where = version_dir / MANIFEST_FILE
    return LoadedModel(
        version=_manifest_str(manifest, "version", where),
        path=version_dir,
        manifest=manifest,
        bundle=bundle,
        thresholds=_thresholds(manifest, where),
        class_bias=_class_bias(manifest, where),
        compiled=compile_bundle(bundle),
    )


def save_version(bundle: Bundle, manifest: Mapping[str, Any], out_dir: Path) -> Path:
    """Write a new, never-overwritten `out_dir/<version>/` with the bundle and its manifest.

    The manifest gains `model_file`, `model_sha256` and `model_bytes`.

    Raises:
        ModelArtifactError: the version directory already exists.
    """
    import joblib

    version = str(manifest["version"])
    if not _VERSION_RE.match(version):
        raise ModelArtifactError(f"not a valid model version: {version!r}")
    version_dir = out_dir / version
    try:
        version_dir.mkdir(parents=True, exist_ok=False)
    except FileExistsError as exc:
        raise ModelArtifactError(
            f"{version_dir} already exists; bundles are immutable, train a new version"
        ) from exc
    model_path = version_dir / MODEL_FILE
    joblib.dump(bundle, model_path, compress=("xz", 6))
    full = dict(manifest)
    full["model_file"] = MODEL_FILE
    full["model_sha256"] = sha256_file(model_path)
    full["model_bytes"] = model_path.stat().st_size
    write_manifest(version_dir, full)
    return version_dir


def write_manifest(version_dir: Path, manifest: Mapping[str, Any]) -> None:
    """Write `manifest.json` in a stable, reviewable layout (undefined metrics as null)."""
    text = json.dumps(
        _json_ready(manifest), indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False
    )
    (version_dir / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")


def set_current(model_dir: Path, version: str) -> str:
    """Point `model_dir/CURRENT` at `version` (which must load), recording its files' digest.

    Returns the digest written. The digest file is written first, then CURRENT; each is
    replaced whole (a new file renamed over it), so a reader never sees half a line.
    """
    if not _VERSION_RE.match(version):
        raise ModelArtifactError(f"not a valid model version: {version!r}")
    digest = bundle_digest(model_dir / version)
    load(model_dir / version, digest=digest)
    _replace(digest_file(model_dir, version), f"{digest}\n")
    _replace(model_dir / CURRENT_FILE, f"{version}\n")
    return digest


def _replace(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    staged.write_text(text, encoding="utf-8")
    staged.replace(path)


def _json_ready(value: Any) -> Any:
    """A copy with NaN and infinities as None and numpy scalars as Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def environment() -> dict[str, str]:
    """The library versions a manifest records."""
    import joblib
    import numpy
    import pandas
    import scipy
    import sklearn

    return {
        "python_version": sys.version.split()[0],
        "sklearn_version": sklearn.__version__,
        "numpy_version": numpy.__version__,
        "scipy_version": scipy.__version__,
        "pandas_version": pandas.__version__,
        "joblib_version": joblib.__version__,
    }


def _manifest_str(manifest: Mapping[str, Any], key: str, where: Path) -> str:
    value = manifest.get(key)
    if not isinstance(value, str) or not value:
        raise ModelArtifactError(f"{where} has no {key!r}")
    return value


def _thresholds(manifest: Mapping[str, Any], where: Path) -> dict[str, float]:
    from app.heads import BINARY_HEADS

    table = manifest.get("thresholds")
    if not isinstance(table, dict):
        raise ModelArtifactError(f"{where} has no 'thresholds' table")
    out: dict[str, float] = {}
    for head in BINARY_HEADS:
        entry = table.get(head)
        value = entry.get("threshold") if isinstance(entry, dict) else None
        if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise ModelArtifactError(f"{where}: thresholds.{head}.threshold must be in [0, 1]")
        out[head] = float(value)
    return out


def _class_bias(manifest: Mapping[str, Any], where: Path) -> dict[str, dict[str, float]]:
    from app.heads import REPLY_LABELS, SEVERITY_LABELS, STANCE_LABELS

    table = manifest.get("decision")
    if not isinstance(table, dict):
        raise ModelArtifactError(f"{where} has no 'decision' table")
    out: dict[str, dict[str, float]] = {}
    for head, labels in (("stance", STANCE_LABELS), ("reply_stance", REPLY_LABELS)):
        entry = table.get(head)
        bias = entry.get("class_bias") if isinstance(entry, dict) else None
        if not isinstance(bias, dict) or set(bias) != set(labels):
            raise ModelArtifactError(
                f"{where}: decision.{head}.class_bias must give one number for each of "
                f"{', '.join(labels)}"
            )
        out[head] = {label: float(bias[label]) for label in labels}
    # Bundles before the severity head have no entry for it; one that has must be whole.
    entry = table.get("severity")
    if entry is not None:
        bias = entry.get("class_bias") if isinstance(entry, dict) else None
        if not isinstance(bias, dict) or set(bias) != set(SEVERITY_LABELS):
            raise ModelArtifactError(
                f"{where}: decision.severity.class_bias must give one number for each of "
                f"{', '.join(SEVERITY_LABELS)}"
            )
        out["severity"] = {label: float(bias[label]) for label in SEVERITY_LABELS}
    return out
