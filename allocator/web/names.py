"""Display names for the meeting page, from a local file the council keeps.

Ids stay the record: plans, the decision log, files and URLs carry ids only. A
manager at the meeting may read "Ann Smith (P0001)" where the page would say
"P0001": ``serve --names FILE`` with a TOML file of one ``[names]`` table, one line
per id::

    [names]
    P0001 = "Ann Smith"
    C000138 = "Amy B."

A name is shown beside its id in the cases to decide, the overrides, the moves,
the managed exceptions, the workload statements and a case's history; an id the
file does not name is shown alone. The risk list, the loads chart, the notes and
the tier table keep ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from allocator.web.security import one_toml_table

#: Longest display name, in characters.
MAX_NAME = 100


def load_display_names(path: str) -> dict[str, str]:
    """Id -> display name, from a TOML file with one ``[names]`` table.

    Raises
    ------
    ValueError
        A file that cannot be read or is not TOML, no ``[names]`` table (or another
        table beside it), or an entry that is not an id and a name of 1 to
        :data:`MAX_NAME` printable characters; the sentence names the file and the id.
    """
    table = one_toml_table(path, "names", 'one line per id: P0001 = "Ann Smith"')
    names: dict[str, str] = {}
    for key, value in table.items():
        if not key.strip() or not key.isprintable():
            raise ValueError(f"{path}: {key!r}: expected an id of printable characters")
        if (
            not isinstance(value, str)
            or not 1 <= len(value.strip()) <= MAX_NAME
            or not value.isprintable()
        ):
            raise ValueError(
                f"{path}: {key}: expected a name of 1 to {MAX_NAME} printable characters "
                'in quotes (P0001 = "Ann Smith")'
            )
        names[key.strip()] = value.strip()
    return names


def shown_by(names: Mapping[str, str]) -> Callable[[object], str]:
    """The page's ``shown`` filter: ``"Name (id)"`` for an id the file names, else the
    value as it is (an empty cell stays empty)."""

    def shown(value: object) -> str:
        text = "" if value is None else str(value)
        name = names.get(text)
        return f"{name} ({text})" if name else text

    return shown
