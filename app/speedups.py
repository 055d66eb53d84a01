"""Which of the compiled inner loops (app/_speedups.pyx) this installation has.

`pip install` compiles them when a C compiler is present; without one threadguard uses the
pure-Python twins, which give the same numbers more slowly. `THREADGUARD_REQUIRE_COMPILED=1`
(set by `make test`) makes a missing build an error instead of a slow fallback, so CI
cannot pass on the twins by accident.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any, TypeVar

F = TypeVar("F")

try:
    from app import _speedups as _module  # type: ignore[attr-defined, unused-ignore]
except ImportError as error:  # pragma: no cover - depends on the build
    _module = None
    if os.environ.get("THREADGUARD_REQUIRE_COMPILED") == "1":
        raise ImportError(
            "THREADGUARD_REQUIRE_COMPILED=1 but app._speedups is not built "
            "(run `make install` with a C compiler; pip compiles app/_speedups.pyx)"
        ) from error

MODULE: ModuleType | None = _module


def compiled(name: str, fallback: F) -> F:
    """The compiled function `name`, or `fallback` (its pure-Python twin) without a build.

    `THREADGUARD_PURE_PYTHON=1` picks the twins even where the build exists (the tests
    compare both).
    """
    if MODULE is None or os.environ.get("THREADGUARD_PURE_PYTHON") == "1":
        return fallback
    found: Any = getattr(MODULE, name)
    return found  # type: ignore[no-any-return]
