"""The compiled part of threadguard: app/_speedups.pyx, built by `pip install` (and so by
`make install`). Everything else is declared in pyproject.toml.

The extension is optional to the build: without a C compiler the install still succeeds and
threadguard runs its pure-Python twins of the same functions (tested to give the same
numbers, several times slower); `make test` insists on the compiled module.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("app._speedups", ["app/_speedups.pyx"], optional=True)],
        compiler_directives={"language_level": "3"},
    )
)
