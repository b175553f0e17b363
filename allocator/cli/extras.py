"""The optional extras some commands need, and the one line (exit 2) when one is missing."""

from __future__ import annotations

import sys

from allocator.cli.echo import BAD_INPUT, echo
from allocator.command_line import interruption_behind


def needs_serve_extra(exc: ImportError) -> None:
    """Exit 2 naming the missing ``serve`` extra; an interruption behind ``exc`` goes on."""
    if interruption_behind(exc) is not None:
        raise exc
    echo(
        f"error: this command needs the serve extra ({exc.name} is missing): "
        "pip install 'allocator[serve]'",
        err=True,
    )
    sys.exit(BAD_INPUT)


def need_sim_extra() -> None:
    """Exit 2 with the install line when the ``sim`` extra is missing."""
    import importlib.util

    missing = [
        m for m in ("pandas", "pyarrow", "matplotlib") if importlib.util.find_spec(m) is None
    ]
    if missing:
        echo(f"error: {', '.join(missing)} not installed: pip install 'allocator[sim]'", err=True)
        sys.exit(BAD_INPUT)
