"""Shared test settings: hypothesis profiles.

``ci`` (selected when the ``CI`` environment variable is set, as ``.ci/run`` does)
derandomises hypothesis, so a failure in CI reproduces with the same examples on any
machine, and prints the failing example's blob. ``HYPOTHESIS_PROFILE`` names a
profile explicitly.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("dev")
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
