"""What a plan is made from: each input file with its SHA-256 (:func:`inputs_of`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from allocator.contract.models import (
    FileDigest,
    MadeFrom,
    Snapshot,
)
from allocator.io.layout import CASES_CSV, PRACTITIONERS_CSV, SNAPSHOT_CSV, STDIN, PathLike


def file_digest(path: PathLike) -> FileDigest:
    """The SHA-256 of an input file, or of a CSV snapshot directory, with its name.

    A directory's digest is the SHA-256 of the lines ``<sha256 of file>  <file
    name>\n`` for its three tables in the order ``snapshot.csv``,
    ``practitioners.csv``, ``cases.csv`` (a missing table counts as empty), so two
    directories holding the same tables have the same digest.

    Parameters
    ----------
    path
        The file or directory, named as the user named it.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    if str(path) == STDIN:
        return FileDigest(file=STDIN)  # read once already: no digest can be taken
    path = Path(path)
    if path.is_dir():
        lines = []
        for name in (SNAPSHOT_CSV, PRACTITIONERS_CSV, CASES_CSV):
            table = path / name
            data = table.read_bytes() if table.exists() else b""
            lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
        digest = hashlib.sha256("".join(lines).encode()).hexdigest()
    else:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return FileDigest(file=str(path), sha256=digest)


def service_digest(service: Snapshot) -> str:
    """The SHA-256 (hex) of ``service``'s canonical JSON: equal for the same service
    read from different files (JSON or CSV, re-saved, with a byte-order mark)."""
    return hashlib.sha256(service.model_dump_json().encode()).hexdigest()


def inputs_of(
    snapshot: PathLike,
    referrals: PathLike | None = None,
    policy: PathLike | None = None,
    command: str | None = None,
    service: Snapshot | None = None,
) -> MadeFrom:
    """What a plan is made from (or checked against): each input file with its digest.

    Parameters
    ----------
    snapshot, referrals, policy
        The files as given on the command line; ``None`` for one not given.
    command
        The command that made the plan (``allocate``, ``rebalance``), if any.
    service
        The service those files hold, as read (referrals merged): its digest is
        recorded (:func:`service_digest`).

    Raises
    ------
    OSError
        If a file cannot be read (they have been read once already, so rarely).
    """
    return MadeFrom(
        snapshot=file_digest(snapshot),
        referrals=None if referrals is None else file_digest(referrals),
        policy=None if policy is None else file_digest(policy),
        command=command,
        service_sha256=None if service is None else service_digest(service),
    )
