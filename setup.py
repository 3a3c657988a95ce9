"""The one compiled part: models/_grams.c, hashed n-gram counts (see models/features.py).

Everything else is in pyproject.toml. The extension is optional: where it cannot
be built (no C compiler), models/features.py computes the same counts in Python.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("models._grams", ["models/_grams.c"], optional=True)])
