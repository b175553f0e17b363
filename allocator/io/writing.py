"""Writing output, each file replaced atomically: JSON (:func:`dump_json`,
:func:`write_json`), text, bytes and snapshots (JSON or a CSV folder); and the checks,
made before any work, that an output path or folder may be written
(:func:`check_output`, :func:`check_output_folder`).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from enum import Enum
from io import StringIO
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json, to_jsonable_python

from allocator.contract.faults import InputError, _label
from allocator.contract.fields import _fields_of
from allocator.contract.models import (
    Case,
    Practitioner,
    Snapshot,
)
from allocator.io.layout import (
    CASES_CSV,
    LIST_SEPARATOR,
    MANIFEST,
    PRACTITIONERS_CSV,
    SNAPSHOT_CSV,
    STDIN,
    PathLike,
    _neutralised,
)


def dump_json(model_or_data: Any) -> str:
    """The JSON text written for a model or plain data: indent 2, UTF-8, final newline.

    Pydantic models are written by alias (``Assignment.from_`` as ``from``), dates as
    ``YYYY-MM-DD``, tuples as lists, non-ASCII text as itself.

    Raises
    ------
    ValueError
        For a number JSON cannot hold (NaN, infinity).
    pydantic_core.PydanticSerializationError
        For an object that is not data.
    """
    # pydantic-core writes a 50,000-case snapshot in a fraction of the time json.dumps
    # takes, but turns NaN and infinity into null silently; the scan below is cheap and
    # the strict check only runs when the text may hold such a constant.
    text = to_json(model_or_data, indent=2, by_alias=True, inf_nan_mode="constants").decode()
    if "NaN" in text or "Infinity" in text:
        data = to_jsonable_python(model_or_data, by_alias=True)
        if (where := _first_non_finite(data, "")) is not None:
            place, value = where
            raise ValueError(
                f"{place or 'the value'} is {value}, a number JSON cannot hold: expected a "
                "finite number or null"
            )
    return text + "\n"


def _first_non_finite(data: Any, place: str) -> tuple[str, float] | None:
    """Where the first NaN or infinity in ``data`` is (``cases[3].weight``), and it."""
    if isinstance(data, float) and not math.isfinite(data):
        return place, data
    items = (
        (((f"{place}.{k}" if place else str(k)), v) for k, v in data.items())
        if isinstance(data, dict)
        else ((f"{place}[{i}]", v) for i, v in enumerate(data))
        if isinstance(data, list)
        else ()
    )
    for inner_place, value in items:
        if (found := _first_non_finite(value, inner_place)) is not None:
            return found
    return None


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable; not possible on every platform, so best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    """Whether two ``os.stat`` results are of one file (a link, a path written two ways)."""
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _output_problem(path: Path, inputs: Mapping[str, PathLike]) -> str | None:
    """Why the file ``path`` must not be replaced by an output, or ``None`` if it may.

    It may be a new path in an existing folder the allocator can write in, or an
    existing regular file that is writable and is none of ``inputs``.
    """
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        folder = path.parent
        if not folder.is_dir():
            return f"the folder {folder} does not exist; expected a path in an existing folder"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot write in the folder {folder}; expected a folder you may write in"
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(status.st_mode):
        return (
            "is a symbolic link, which would be replaced rather than its target written; "
            "expected a regular file or a new path (name the link's target instead)"
        )
    if stat.S_ISDIR(status.st_mode):
        return "is a folder, expected a file or a new path"
    if not stat.S_ISREG(status.st_mode):
        return "is a device, pipe or socket, expected a regular file or a new path"
    for name, source in inputs.items():
        if str(source) == STDIN:
            continue
        source = Path(source)
        candidates = (
            [source / t for t in (SNAPSHOT_CSV, PRACTITIONERS_CSV, CASES_CSV)]
            if source.is_dir()
            else [source]
        )
        for candidate in candidates:
            with contextlib.suppress(OSError):
                if same_file(os.stat(candidate), status):
                    return f"is the input {name} ({candidate}); expected another path"
    writable = status.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if not writable or not os.access(path, os.W_OK):
        return "is read-only; expected a file that may be replaced, or a new path"
    return None


def check_output(
    path: PathLike | None, inputs: Mapping[str, PathLike | None] | None = None
) -> None:
    """Refuse, before any work is done, an output path that must not be replaced.

    Parameters
    ----------
    path
        Where a plan or a JSON snapshot will be written; ``None`` or ``-`` (standard
        output) is always fine. Otherwise it must be a new path in an existing
        folder that can be written, or an existing regular file that is writable —
        never a symbolic link, a device (``/dev/null``), a pipe or a folder.
    inputs
        The command's input files by what they are (``{"snapshot": ...}``): the
        output may not be one of them (nor a table of an input CSV folder).

    Raises
    ------
    InputError
        One sentence naming the path and what was expected.
    """
    if path is None or str(path) == STDIN:
        return
    given = {name: source for name, source in (inputs or {}).items() if source is not None}
    problem = _output_problem(Path(path), given)
    if problem is not None:
        raise InputError(f"{path}: {problem}; nothing was written.")


def made_by(folder: PathLike) -> str | None:
    """The command that made the results folder ``folder``, from its :data:`MANIFEST`
    (``"simulate"``), or ``None`` when it has none or it cannot be read."""
    manifest = read_manifest(Path(folder))
    return None if manifest is None else str(manifest.get("made_by", "")) or None


def read_manifest(folder: Path) -> dict[str, object] | None:
    """The results folder ``folder``'s :data:`MANIFEST` as a table, or ``None`` when it
    has none, or one that cannot be read as a JSON object."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_output_folder(
    path: PathLike,
    inputs: Mapping[str, PathLike | None] | None = None,
    files: Sequence[str] = (SNAPSHOT_CSV, PRACTITIONERS_CSV, CASES_CSV),
    *,
    results: bool = False,
) -> None:
    """Refuse, before any work is done, an output folder that must not be written.

    The one rule for every ``--out`` folder (a CSV snapshot, a forecast, a
    simulation, a capacity table, a sweep): an existing folder, or a new name in an
    existing folder you may write in (the folder is then made) — as a file's
    ``--out`` (:func:`check_output`), a missing parent folder is refused, never made.

    Parameters
    ----------
    path
        The folder.
    inputs
        As :func:`check_output`.
    files
        The files to be written in an existing folder, each checked as
        :func:`check_output` (default: a CSV snapshot's tables).
    results
        Whether a results folder is checked (:func:`allocator.io.results.check_results_folder`
        judges its manifest); any other folder holding a results folder's
        :data:`~allocator.io.layout.MANIFEST` is refused: its files would mix with them.

    Raises
    ------
    InputError
        If ``path`` is a symbolic link or a file, it or (when new) its parent folder
        may not be written, its parent folder does not exist, or one of ``files`` may
        not be replaced.
    """
    folder = Path(path)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise InputError(
            f"{folder}: expected a folder (not a link or a file); nothing was written."
        )
    if folder.is_dir():
        # Every file goes in by a rename in the folder itself, so the folder must be
        # writable whatever the files: else a run would fail only once its work was done.
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(
                f"{folder}: cannot write in this folder; expected a folder you may write "
                "in; nothing was written."
            )
        maker = None if results else made_by(folder)
        if maker is not None:
            raise InputError(
                f"{folder}: holds the results of `{maker}` (its {MANIFEST}); "
                "expected another folder; nothing was written."
            )
        for name in files:
            check_output(folder / name, inputs)
        return
    problem = _output_problem(folder, {})
    if problem is not None:
        raise InputError(f"{folder}: {problem}; nothing was written.")


#: The name of the pending handovers written beside a CSV snapshot folder.
PENDING_HANDOVERS_NAME = "handovers.json"


def pending_handovers_path(snapshot_path: PathLike) -> Path:
    """Where the handovers still pending go beside a snapshot written to ``snapshot_path``.

    ``next.json`` -> ``next.handovers.json``; a CSV snapshot folder ``next/`` ->
    ``next/handovers.json`` (a folder's other files are ignored by the reader).
    """
    path = Path(snapshot_path)
    if path.suffix.lower() == ".json":
        return path.with_name(f"{path.stem}.handovers.json")
    return path / PENDING_HANDOVERS_NAME


def check_snapshot_output(
    path: PathLike, inputs: Mapping[str, PathLike | None] | None = None
) -> None:
    """Refuse, before any work, a snapshot target :func:`write_snapshot` may not replace.

    A ``.json`` path as :func:`check_output`; any other path as a CSV folder
    (:func:`check_output_folder`).

    Raises
    ------
    InputError
        One sentence naming the path and what was expected.
    """
    if str(path) == STDIN:
        raise InputError(
            "-: standard output, expected a .json file or a folder for the snapshot; "
            "nothing was written."
        )
    if Path(path).suffix.lower() == ".json":
        check_output(path, inputs)
    else:
        check_output_folder(path, inputs)


def _atomic_write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` in one step, or leave it as it was.

    The temporary file lives in the same directory (so ``os.replace`` is a rename on
    one file system) and keeps the mode of the file it replaces. The target is
    checked first (:func:`check_output`): a link, device or read-only file is
    never replaced.

    Raises
    ------
    InputError
        If ``path`` may not be replaced.
    OSError
        If writing fails; it names ``path``, not the temporary file.
    """
    check_output(path)
    directory = path.parent
    temporary = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        _write_whole(temporary, content, keep_mode_of=path)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError) and exc.filename == str(temporary):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    _fsync_directory(directory)


def write_files(
    path: PathLike, files: Mapping[str, bytes | str], *, remove: list[str] | None = None
) -> Path:
    """Write ``files`` (name -> bytes, or text written as UTF-8) into the folder ``path``
    (made if new, its parent existing), and remove the files named in ``remove``, all
    in one step as far as the file system allows.

    Each file is first written whole under a temporary name in the folder; only when
    every one is written is each renamed over its target, the file it replaces kept
    aside until all are in, and put back if a later rename fails.

    Raises
    ------
    InputError
        One sentence naming the file that could not be written and why, ending
        "nothing was written" (the folder is as it was) — or, if even putting the
        earlier files back failed, which files are from which run.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{folder}: cannot make the folder ({exc.strerror or exc}); expected a folder "
            "you may write in; nothing was written."
        ) from None
    token = secrets.token_hex(6)
    temporaries: dict[str, Path] = {}
    aside: dict[str, Path] = {}
    placed: list[str] = []

    def clean(paths: Mapping[str, Path]) -> None:
        for p in paths.values():
            with contextlib.suppress(OSError):
                p.unlink()

    try:
        # 1. Every file whole under a temporary name: a full disk or a refused write
        #    stops here, with nothing replaced.
        for name, content in files.items():
            temporary = folder / f".{name}.{token}.tmp"
            temporaries[name] = temporary
            data = content.encode("utf-8") if isinstance(content, str) else content
            try:
                _write_whole(temporary, data, keep_mode_of=folder / name)
            except OSError as exc:
                # Named by the file the user knows, not the temporary one.
                raise OSError(exc.errno, exc.strerror, str(folder / name)) from None
        # 2. What each replaces kept aside (a hard link, else a copy), so that a rename
        #    refused later (an immutable file) can be undone.
        for name in [*files, *(remove or [])]:
            target = folder / name
            if target.exists():
                backup = folder / f".{name}.{token}.old"
                try:
                    os.link(target, backup)
                except OSError:
                    shutil.copy2(target, backup)
                aside[name] = backup
    except OSError as exc:
        clean(temporaries)
        clean(aside)
        raise InputError(
            f"{exc.filename or folder}: {exc.strerror or exc}; nothing was written "
            f"(the folder {folder} is as it was)."
        ) from None
    except BaseException:
        clean(temporaries)
        clean(aside)
        raise
    # 3. The renames; a failure puts back what was replaced.
    failed: OSError | None = None
    for name in [*files, *(remove or [])]:
        try:
            if name in files:
                os.replace(temporaries[name], folder / name)
            elif name in aside:
                os.unlink(folder / name)
        except OSError as exc:
            failed = OSError(exc.errno, exc.strerror, str(folder / name))
            break
        placed.append(name)
    if failed is None:
        clean(aside)
        _fsync_directory(folder)
        return folder
    not_restored = _put_back(folder, placed, aside)
    clean(temporaries)
    clean({n: p for n, p in aside.items() if n not in not_restored})
    if not not_restored:
        raise InputError(
            f"{failed.filename}: {failed.strerror}; nothing was written (the folder {folder} "
            "is as it was)."
        )
    new = ", ".join(not_restored)
    raise InputError(
        f"{failed.filename}: {failed.strerror}; the folder {folder} is now mixed: {new} "
        f"from this run, every other file from the run before (its copies kept as "
        f".NAME.{token}.old)."
    )


def _put_back(folder: Path, placed: list[str], aside: Mapping[str, Path]) -> list[str]:
    """Undo the renames of ``placed``; the names that could not be undone."""
    stuck = []
    for name in placed:
        target = folder / name
        try:
            if name in aside:
                os.replace(aside[name], target)
            else:
                target.unlink()
        except OSError:
            stuck.append(name)
    return stuck


def _write_whole(path: Path, data: bytes, *, keep_mode_of: Path) -> None:
    """``data`` to the new file ``path``, flushed to disk, with the mode of the file it
    will replace."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    with contextlib.suppress(OSError):
        os.chmod(path, os.stat(keep_mode_of).st_mode & 0o7777)


def json_for_terminal(text: str) -> str:
    r"""JSON ``text`` with every character that is not printable (a C1 control, a bidi
    override) written as its ``\uXXXX`` escape: the same JSON, nothing a terminal acts on.

    A file keeps the bytes :func:`dump_json` gives (stored plans are hashed); only
    standard output, which may be a terminal, is escaped.

    >>> json_for_terminal('{"id": "C‮R"}')
    '{"id": "C\\u202eR"}'
    """
    if text.replace("\n", "").isprintable():
        return text

    def escaped(ch: str) -> str:
        if ch == "\n" or ch.isprintable():
            return ch
        units = ch.encode("utf-16-be")
        return "".join(
            f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2)
        )

    return "".join(escaped(ch) for ch in text)


def write_json(path: PathLike | None, model_or_data: Any) -> None:
    """Write a model or plain data as JSON (see :func:`dump_json`), atomically.

    Parameters
    ----------
    path
        The file to write; ``None`` or ``"-"`` writes to standard output.
    model_or_data
        A pydantic model (written by alias) or JSON-able data.

    Raises
    ------
    ValueError, pydantic_core.PydanticSerializationError
        If the data cannot be written as JSON; an existing file is left untouched.
    InputError
        If ``path`` may not be replaced (see :func:`check_output`): a link, a
        device, a folder, a read-only file, or a path in a folder that does not exist.
    OSError
        If the file cannot be written.
    """
    text = dump_json(model_or_data)
    if path is None or str(path) == "-":
        sys.stdout.write(json_for_terminal(text))
        sys.stdout.flush()
        return
    _atomic_write(Path(path), text.encode("utf-8"))


def write_text(path: PathLike, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically (as :func:`write_json` does).

    Raises
    ------
    InputError
        If ``path`` may not be replaced (see :func:`check_output`).
    OSError
        If the file cannot be written.
    """
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: PathLike, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically (as :func:`write_text` does): a PNG.

    Raises
    ------
    InputError
        If ``path`` may not be replaced (see :func:`check_output`).
    OSError
        If the file cannot be written.
    """
    _atomic_write(Path(path), content)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return _neutralised(LIST_SEPARATOR.join(value))
    return _neutralised(str(value))


def _unwritable(value: Any) -> str | None:
    """Why ``value`` would not read back the same from a CSV cell, or ``None``."""
    if isinstance(value, str) and (not value or value != value.strip()):
        return "is empty or starts or ends with a space"
    if isinstance(value, tuple):
        for item in value:
            if not item or item != item.strip() or LIST_SEPARATOR in item:
                return (
                    f"has an item that is empty, has surrounding spaces or holds {LIST_SEPARATOR!r}"
                )
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    return None


def _csv_text(
    records: Sequence[BaseModel], model: type[BaseModel], name: str
) -> tuple[str, list[str]]:
    """One table as CSV text, and the values that would not read back the same."""
    attrs = list(model.model_fields)
    columns = list(_fields_of(model))
    out = StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    problems: list[str] = []
    for i, record in enumerate(records):
        values = [getattr(record, attr) for attr in attrs]
        for column, value in zip(columns, values, strict=True):
            why = _unwritable(value)
            if why is not None:
                ident = getattr(record, "id", "")
                problems.append(
                    f"cannot write {name}, line {i + 2} (id {_label(str(ident))}): field "
                    f"{column!r} {why}, which a CSV cell cannot hold exactly; write JSON instead."
                )
        writer.writerow([_csv_cell(value) for value in values])
    return out.getvalue(), problems


def write_snapshot(snapshot: Snapshot, path: PathLike) -> Path:
    """Write a snapshot as JSON (``path`` ends ``.json``) or as a CSV directory.

    The CSV directory holds ``snapshot.csv``, ``practitioners.csv`` and ``cases.csv``
    (layout in ``docs/FORMAT.md`` Part 2); it is created if needed and the three files
    are replaced together (:func:`write_files`). Either way :func:`load_snapshot` reads
    back an equal snapshot.

    Parameters
    ----------
    snapshot
        The snapshot to write.
    path
        A ``.json`` file name, or a directory.

    Returns
    -------
    Path
        ``path``, for chaining (``load_snapshot(write_snapshot(s, p)) == s``).

    Raises
    ------
    InputError
        If a value cannot be held exactly by a CSV cell (empty text, text with
        surrounding spaces, a list item holding ``;``), or if the target may not be
        replaced (:func:`check_output`, :func:`check_output_folder`); nothing is
        written then.
    OSError
        If a file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        check_output_folder(path)
    if path.suffix.lower() == ".json":
        write_json(path, snapshot)
        return path
    head = StringIO(newline="")
    writer = csv.writer(head, lineterminator="\n")
    writer.writerow(["format", "as_of"])
    writer.writerow([snapshot.format, snapshot.as_of.isoformat()])
    staff, staff_problems = _csv_text(snapshot.practitioners, Practitioner, PRACTITIONERS_CSV)
    cases, case_problems = _csv_text(snapshot.cases, Case, CASES_CSV)
    if staff_problems or case_problems:
        raise InputError([f"{path}: {p}" for p in staff_problems + case_problems])
    # The three tables go in together (write_files): a snapshot of one day's staff
    # and another day's cases would read as valid.
    write_files(path, {SNAPSHOT_CSV: head.getvalue(), PRACTITIONERS_CSV: staff, CASES_CSV: cases})
    return path
