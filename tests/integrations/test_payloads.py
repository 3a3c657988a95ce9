"""Shared payload helpers: an impossible timestamp is a bad payload (422), never a crash."""

import pytest

from integrations.base import BadPayload
from integrations.payloads import iso_from_unix


def test_unix_times_become_iso_and_impossible_ones_are_bad_payloads():
    assert iso_from_unix(0) == "1970-01-01T00:00:00+00:00" and iso_from_unix(None) is None
    for impossible in (1e300, -1e300, float("nan")):
        with pytest.raises(BadPayload):
            iso_from_unix(impossible)
