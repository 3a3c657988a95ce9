"""Fake platform APIs on `responses`, one module a helpdesk (`fakes.<name>`), on the skeleton in `_base`."""

from __future__ import annotations

import importlib
from types import ModuleType


def fake_module(adapter: type) -> ModuleType:
    """The fake API module of an adapter class: `fakes.<adapter.name>`."""
    return importlib.import_module(f"{__name__}.{adapter.name}")
