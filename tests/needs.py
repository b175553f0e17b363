"""What the meeting's tests need beyond Python: a PostgreSQL server, Debian's chromium.

Outside CI a missing service skips its tests; under CI (``CI`` set, as ``.ci/run``
does, which also provides both) it fails them: CI never skips silently.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
#: The PostgreSQL URL the log's tests use (exported by .ci/services).
POSTGRES_ENV = "ALLOCATOR_TEST_POSTGRES"


def in_ci() -> bool:
    """Whether the tests run under CI."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def need(available: bool, what: str) -> None:
    """Skip (outside CI) or fail (under CI) unless ``available``."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{what} is required under CI (.ci/run provides it)")
    pytest.skip(f"{what} is not available here")


def postgres_url() -> str:
    """The test PostgreSQL server's URL, or skip / fail (see :func:`need`)."""
    url = os.environ.get(POSTGRES_ENV, "")
    need(bool(url), f"a PostgreSQL server (${POSTGRES_ENV})")
    return url


def chromium() -> str:
    """Debian's chromium binary, or skip / fail (see :func:`need`)."""
    need(shutil.which(CHROMIUM) is not None, f"Debian's chromium ({CHROMIUM})")
    return CHROMIUM
