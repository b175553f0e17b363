"""A results folder that says which command made it
(:data:`MANIFEST`, :func:`check_results_folder`, :func:`write_results_folder`).

Every command that writes a results folder (``simulate``, ``forecast``, ``capacity``,
``backtest``, ``sweep``) writes it through :func:`write_results_folder` and checks its
``--out`` at the door with :func:`check_results_folder`: the one rule is that the folder
is new, empty, or made by the same command, so that no two commands' files (both write
a ``children.csv``) ever lie side by side telling different stories.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from allocator.contract.faults import InputError
from allocator.io.layout import MANIFEST, STDIN, PathLike
from allocator.io.writing import check_output_folder, made_by, read_manifest, same_file, write_files

#: The commands that write a results folder, as each folder's manifest names them.
SIMULATE = "allocator simulate"
SWEEP = "allocator sweep"
FORECAST = "allocator forecast"
CAPACITY = "allocator capacity"
BACKTEST = "allocator backtest"


def check_results_folder(
    path: PathLike, command: str, inputs: Mapping[str, PathLike | None] | None = None
) -> None:
    """Refuse, before any work, a results folder ``command`` may not write into.

    As :func:`~allocator.io.check_output_folder`, and: an existing folder must be
    empty or hold the :data:`MANIFEST` of an earlier run of the same ``command``; an
    input given as a folder (a CSV snapshot, an SSD extract) is never the output.

    Raises
    ------
    InputError
        "shared: holds the results of `allocator forecast` (its manifest.json); expected
        a new or empty folder, or one `allocator simulate` made: give another --out (or
        empty this one); nothing was written."
    """
    folder = Path(path)
    check_output_folder(folder, inputs, files=(), results=True)
    if not folder.is_dir():
        return
    for name, source in (inputs or {}).items():
        if source is None or str(source) == STDIN or not Path(source).is_dir():
            continue
        with contextlib.suppress(OSError):
            if same_file(os.stat(source), os.stat(folder)):
                raise InputError(
                    f"{folder}: is the input {name} (a folder); expected another folder for "
                    f"the results; nothing was written."
                )
    try:
        present = [p.name for p in folder.iterdir()]
    except OSError as exc:
        raise InputError(
            f"{folder}: cannot be listed ({exc.strerror}); expected a folder you may read "
            "and write; nothing was written."
        ) from None
    if not present:
        return
    maker = made_by(folder)
    if maker == command:
        return
    want = (
        f"expected a new or empty folder, or one `{command}` made: give another "
        "--out (or empty this one); nothing was written."
    )
    if maker is not None:
        raise InputError(f"{folder}: holds the results of `{maker}` (its {MANIFEST}); {want}")
    shown = ", ".join(sorted(present)[:3]) + (", ..." if len(present) > 3 else "")
    raise InputError(
        f"{folder}: holds files no allocator command's {MANIFEST} names ({shown}); {want}"
    )


def write_results_folder(
    path: PathLike, command: str, files: Mapping[str, bytes | str]
) -> list[Path]:
    """Write ``files`` (name -> content) into the results folder ``path`` with a
    :data:`MANIFEST` naming ``command`` and them, all or none (:func:`write_files`).

    The files an earlier run of ``command`` wrote there and this one does not (a plot
    left out) are removed in the same step, so that the folder holds one run.

    Returns
    -------
    list of Path
        The files written, in the order given, the manifest last.
    """
    folder = Path(path)
    before = read_manifest(folder)
    listed = before.get("files", []) if before is not None else []
    stale = [
        name
        for name in (listed if isinstance(listed, list) else [])
        if isinstance(name, str) and name not in files and name != MANIFEST and "/" not in name
    ]
    manifest = json.dumps({"made_by": command, "files": list(files)}, indent=1) + "\n"
    write_files(folder, {**files, MANIFEST: manifest}, remove=stale)
    return [folder / name for name in [*files, MANIFEST]]


__all__ = [
    "BACKTEST",
    "CAPACITY",
    "FORECAST",
    "MANIFEST",
    "SIMULATE",
    "SWEEP",
    "check_results_folder",
    "made_by",
    "write_results_folder",
]
