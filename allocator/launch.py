"""The ``allocator`` command's entry point: Ctrl-C is caught from its first moment.

Loading the command line (click, rich, pydantic and the allocator's modules) takes up
to a second; a Ctrl-C or SIGTERM in that time would otherwise end in a
``KeyboardInterrupt`` traceback, or in silence. This module and the package's
``__init__`` import nothing heavy: both signals go to one line on stderr and exit code
``128 + signal``, then :mod:`allocator.cli` loads, and its own handling takes over
once a command runs.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

#: Signals that stop the command while it loads (as
#: :data:`allocator.command_line.INTERRUPT_SIGNALS`).
LOADING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop_while_loading(signum: int, _frame: FrameType | None) -> None:
    """Nothing has been read or written yet: say so and leave at once."""
    os.write(2, b"interrupted: nothing written\n")
    os._exit(128 + signum)


def install() -> None:
    """Route SIGINT and SIGTERM to :func:`_stop_while_loading`."""
    for signum in LOADING_SIGNALS:
        signal.signal(signum, _stop_while_loading)


def main() -> None:
    """Run the ``allocator`` command line."""
    install()
    from allocator.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
