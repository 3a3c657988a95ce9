"""The one compiled part: models/_grams.c, hashed n-gram counts and linear scores (see models/features.py).

Everything else is in pyproject.toml. The extension is optional: where it cannot
be built (no C compiler), models/features.py computes the same numbers in Python.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class _BuildExt(build_ext):
    """GCC and Clang may fuse a * b + c into one rounding step (FMA); the scores must add up as scipy does."""

    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            for ext in self.extensions:
                ext.extra_compile_args = [*ext.extra_compile_args, "-ffp-contract=off"]
                ext.libraries = [*ext.libraries, "m"]
        super().build_extensions()


setup(ext_modules=[Extension("models._grams", ["models/_grams.c"], optional=True)], cmdclass={"build_ext": _BuildExt})
