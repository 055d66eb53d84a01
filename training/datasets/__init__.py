"""Dataset loaders: every public dataset in one labelled schema, split and deduplicated.

`load_all(data_dir)` is the entry point; `LOADERS` maps dataset names to their loaders,
`schema` defines the columns, `labels` the one table of label mappings, `splits` and
`dedupe` the split and leakage rules.
"""

from __future__ import annotations

from training.datasets.catalog import LOADERS, load_all
from training.datasets.dedupe import DedupeReport, dedupe, dedupe_key
from training.datasets.labels import LABEL_MAPPINGS, LabelError, LabelMapping
from training.datasets.schema import (
    COLUMNS,
    HATE_TARGETS,
    DatasetError,
    SchemaError,
    validate,
)
from training.datasets.splits import hash_split

__all__ = [
    "COLUMNS",
    "HATE_TARGETS",
    "LABEL_MAPPINGS",
    "LOADERS",
    "DatasetError",
    "DedupeReport",
    "LabelError",
    "LabelMapping",
    "SchemaError",
    "dedupe",
    "dedupe_key",
    "hash_split",
    "load_all",
    "validate",
]
