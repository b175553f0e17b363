"""Helpers for tests that signal a command running in a session of its own."""

from __future__ import annotations

import os
import time
from pathlib import Path


def wait_for_a_busy_child(
    session: int, cpu_seconds: float = 3.0, patience: float = 60.0, without_proc: float = 15.0
) -> None:
    """Return once a process of ``session`` other than its leader has used
    ``cpu_seconds`` of CPU (a Dask worker past its imports, running a cell), or after
    ``patience`` seconds; where /proc is not there (not Linux), after ``without_proc``
    seconds."""
    proc = Path("/proc")
    if not proc.is_dir():
        time.sleep(without_proc)
        return
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the command: state, ppid, pgrp, session, ..., utime (14), stime (15).
            busy = (int(fields[11]) + int(fields[12])) / tick >= cpu_seconds
            if int(stat.parent.name) != session and int(fields[3]) == session and busy:
                return
        time.sleep(0.2)
