"""How a command speaks: messages printed literally, the rich console, exit codes.

Exit codes: 0 when the command did its work (a plan with unallocated cases too),
:data:`RULES_BROKEN` (1) when a plan breaks a hard rule or a log is not intact,
:data:`BAD_INPUT` (2) for bad input, whose message names the file, the row or id and
the field (:func:`input_errors`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console

from allocator.contract.policy import PolicyError
from allocator.io import InputError
from allocator.present.terminal import printable

BAD_INPUT = 2
"""Exit code: the input was bad (the message says where and what was expected)."""
RULES_BROKEN = 1
"""Exit code: a plan breaks a hard rule, a log is not intact, a replay differs."""


def echo(message: str, *, err: bool = False) -> None:
    """Print one message: ids, names and file text in it are shown literally, each
    control character as its escape (:func:`allocator.present.terminal.printable`)."""
    click.echo(printable(message), err=err)


def console(stderr: bool = False) -> Console:
    """The rich console every command prints to, on stdout or ``stderr``.

    Emoji codes are off, so an id such as ``C:cat:3`` stays text (markup in ids is
    escaped by :mod:`allocator.present.terminal`).
    """
    return Console(stderr=stderr, emoji=False)


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn bad input into a clear message on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except (InputError, PolicyError) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(BAD_INPUT)
    except OSError as exc:
        echo(f"error: {exc.filename}: {exc.strerror}", err=True)
        sys.exit(BAD_INPUT)
