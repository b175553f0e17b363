"""How the files are laid out: the tables of a CSV snapshot folder, the separator
of a list cell, the name of standard input, and how a cell holds text a spreadsheet
would run as a formula (written neutralised, read back as it was written).
"""

from __future__ import annotations

import os
from typing import Final

from allocator.contract.faults import kind_of

PathLike = str | os.PathLike[str]


def check_path(call: str, name: str, value: object, instead: str, *, none: bool = False) -> None:
    """Refuse a file argument that is not a path (text or ``os.PathLike``): a dict
    given to ``load_snapshot`` met pathlib's "expected str, bytes or os.PathLike
    object, not dict".

    Parameters
    ----------
    instead
        What to use for data already in memory (``allocator.snapshot_from_dict``).
    none
        Whether ``None`` is allowed (``load_policy``: the defaults).

    Raises
    ------
    TypeError
        Naming the call, the argument, the kind given and what to use instead.
    """
    if (value is None and none) or isinstance(value, str | os.PathLike):
        return
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    raise TypeError(
        f"{call}: {name} is {kind_of(value)} ({shown}), expected a file path (text or a "
        f"pathlib.Path){' or None' if none else ''}; {instead}"
    )


SNAPSHOT_CSV = "snapshot.csv"
"""File of a CSV snapshot directory holding the one row of ``format`` and ``as_of``."""

PRACTITIONERS_CSV = "practitioners.csv"
"""File of a CSV snapshot directory holding one practitioner per row."""

CASES_CSV = "cases.csv"
"""File of a CSV snapshot directory holding one case per row."""

MANIFEST = "manifest.json"
"""File of a results folder (a simulation, a forecast ...) naming the command that made
it and the files it wrote (:mod:`allocator.io.results`)."""

LIST_SEPARATOR = ";"
"""Separator of the items of a list field inside one CSV cell."""

STDIN: Final = "-"
"""The path that names standard input (read once, to its end)."""

#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")


def _neutralised(text: str) -> str:
    """``text`` as a cell a spreadsheet shows as text, never runs: a leading ``'``
    before a formula character (and before quotes that precede one, so that
    :func:`_unneutralised` reads back exactly what was written)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def _unneutralised(cell: str) -> str:
    """The value of a cell :func:`_neutralised` wrote (or a spreadsheet user quoted)."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
