"""Building blocks every command line of the project shares: the ``allocator`` command
(:mod:`allocator.cli`) and the benchmarks' (``python -m benchmarks year``).

- **Paths never empty** (:class:`GivenPath`): every path option and argument.
- **How a command ends when it is interrupted**: one line, exit code ``128 + signal``.
  SIGINT (Ctrl-C) and SIGTERM become :class:`Interrupted` in the main thread; an output
  file being replaced when one arrives is finished first, so the line printed can say
  truthfully whether it was written (:meth:`Interruptions.deferred`).

Here rather than in :mod:`allocator.cli`, which nothing but the entry point imports
(tests/test_import_direction.py): one definition for both command lines.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final, TypeVar

import click


class EmptyPath(click.BadParameter):
    """An empty or blank path given for a path option or argument: said as
    "--out: an empty path; expected a folder" (exit 2)."""

    def format_message(self) -> str:
        """The sentence alone: click's "Invalid value for" would say it twice."""
        return self.message


#: What a path option expects when it is a snapshot, and when it is a folder.
A_SNAPSHOT: Final = "a snapshot: a .json file or a folder of CSV tables"
A_FOLDER: Final = "a folder"


class GivenPath(click.Path):
    """A path option or argument of any command: :class:`click.Path`, and never empty.

    An empty path would mean the current folder (``Path("")`` is ``.``), so ``--out ""``
    wrote a results folder into it and ``--policy ""`` was read as a folder; every
    path option refuses it here, naming the option and what it expects.

    Parameters
    ----------
    expected
        What the option names ("a folder", :data:`A_SNAPSHOT`); default "a file".
    """

    def __init__(self, *, expected: str = "a file", **options: Any) -> None:
        super().__init__(**options)
        self.expected = expected

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path, or a usage error (exit 2) if it is empty or blank."""
        if isinstance(value, str) and not value.strip():
            name = param.opts[0] if isinstance(param, click.Option) else None
            if name is None and param is not None:
                name = param.human_readable_name
            raise EmptyPath(
                f"{name or 'path'}: an empty path; expected {self.expected}", ctx=ctx, param=param
            )
        return super().convert(value, param, ctx)


_T = TypeVar("_T")

INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop a command cleanly, exit code ``128 + signal``."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a command ran.

    A ``KeyboardInterrupt``, so ``except Exception`` anywhere below lets it through.

    Parameters
    ----------
    signum
        The signal received; the command exits with ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Interruptions:
    """Turns SIGINT and SIGTERM into :class:`Interrupted` in the main thread.

    While an output file is replaced (:meth:`deferred`) a signal is held back and
    raised once the file is complete, so the exit message can say truthfully whether
    the file was written. A signal that arrives while the first is being handled is
    ignored.
    """

    def __init__(self) -> None:
        self._saved: dict[int, Any] = {}
        self.depth = 0  # > 0 while a file is being replaced
        self.pending: int | None = None  # a signal held back until the file is whole
        self.raised = False
        self.product = ""  # what the command writes ("plan"), for the exit message
        self.written: list[str] = []  # the files written so far

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.raised:
            return
        if self.depth:
            self.pending = self.pending or signum
            return
        self.raised = True
        raise Interrupted(signum)

    def install(self) -> None:
        """Route both signals here (again: CP-SAT resets SIGINT after each solve)."""
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for signum in INTERRUPT_SIGNALS:
            if signum not in self._saved:
                previous = signal.getsignal(signum)
                self._saved[signum] = signal.SIG_DFL if previous is None else previous
            signal.signal(signum, self._handle)

    def restore(self) -> None:
        """Put back the handlers found by :meth:`install` and forget this command."""
        for signum, previous in self._saved.items():
            signal.signal(signum, previous)
        self._saved.clear()
        self.depth, self.pending, self.raised = 0, None, False
        self.product, self.written = "", []

    @contextmanager
    def deferred(self, written: str) -> Iterator[None]:
        """Hold back interruptions while ``written`` (a file's name) is being replaced."""
        self.install()
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        self.written.append(written)
        if self.pending is not None and not self.depth:
            self.raised = True
            raise Interrupted(self.pending)

    def message(self) -> str:
        """The one line printed when the command is interrupted."""
        if self.written:
            return f"interrupted: the {self.product or 'output'} was written to " + ", ".join(
                self.written
            )
        return f"interrupted: no {self.product} written" if self.product else "interrupted"


interruptions = Interruptions()


def interruption_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The interruption ``exc`` is or was caused by, following its chain; else ``None``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def invoke_interruptibly(ctx: click.Context, invoke: Callable[[], _T], product: str = "") -> _T:
    """Run a command (``invoke``) with SIGINT and SIGTERM routed to :data:`interruptions`:
    interrupted, it prints one line (:meth:`Interruptions.message`) and exits
    ``128 + signal`` — never a traceback, never a process killed with its cluster's
    semaphores leaked. The one ending of ``allocator``'s commands and of
    ``python -m benchmarks year``.

    Parameters
    ----------
    product
        What the command writes, for the line ("year table"); the ``allocator`` group
        names it as soon as the command is known.
    """
    from allocator.present.terminal import printable

    interruptions.install()
    if product:
        interruptions.product = product
    try:
        return invoke()
    except (KeyboardInterrupt, ImportError) as exc:
        # A signal that lands while a native module (OR-Tools) initialises comes
        # back as an ImportError caused by the interruption: the same stop.
        interruption = interruption_behind(exc)
        if interruption is None:
            raise
        interruptions.raised = True
        signum = getattr(interruption, "signum", signal.SIGINT)
        click.echo(printable(interruptions.message()), err=True)  # as allocator.cli.echo
        ctx.exit(128 + signum)
    finally:
        interruptions.restore()
