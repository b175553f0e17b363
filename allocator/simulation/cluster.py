"""Dask for the simulation's many runs: one quiet local cluster, or a scheduler given.

Shared by :mod:`allocator.simulation.sweep` (policy sweeps) and
:mod:`allocator.simulation.forecast` (a forecast's runs): the simulation package
holds it so that both import downward.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

#: Seconds to wait for a scheduler given by address to answer.
CONNECT_SECONDS = 15

#: Dask's own log level (``logging.CRITICAL``, the number: the package imports no
#: logging, so that nothing writes case records to a log behind the user's back).
DASK_LOG_LEVEL = 50


@contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client on ``scheduler`` or on a quiet ``LocalCluster``, closed on the way out.

    The local cluster's HTTP server (dashboard and metrics) takes any free port: with
    ``dashboard_address=None`` distributed still tries 8787 and warns when another
    cluster holds it (the warning is filtered as well, for a scheduler that warns
    anyway). Logs below CRITICAL are silenced: the caller's progress is the display,
    and a failed run is reported by the caller in one line. The local workers ignore
    Ctrl-C (:func:`dask_setup`): it is the caller's to handle. However the block is
    left (an interruption included), the client and the cluster are closed, each
    given a few seconds: the nannies kill workers still busy with a cell.
    """
    import warnings

    # distributed ships no type hints: its entry points are typed here as Any.
    from dask import distributed

    local_cluster: Any = distributed.LocalCluster
    client_of: Any = distributed.Client
    cluster: Any = None
    client: Any = None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
            if scheduler is None:
                cluster = local_cluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=DASK_LOG_LEVEL,
                    preload=[__name__],  # each worker process runs dask_setup below
                )
            client = client_of(cluster) if scheduler is None else _connect(client_of, scheduler)
        yield client
    finally:
        # A failure to close (a timeout) must not hide why the block was left.
        if client is not None:
            with suppress(Exception):
                client.close(timeout=5)  # releases the futures: a remote scheduler drops them
        if cluster is not None:
            with suppress(Exception):
                cluster.close(timeout=5)


def dask_setup(worker: object) -> None:
    """Run by Dask in each worker process of the local cluster as it starts (the
    cluster's ``preload``): the process ignores SIGINT from then on.

    A terminal's Ctrl-C goes to every process of the command's group, the worker
    processes too; each would print a ``KeyboardInterrupt`` traceback as it died,
    before the command's one line. The command alone handles it, and closing the
    cluster stops the workers (a running scheduler's own workers, given by
    address, are not ours to change: they are not in the command's group).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _connect(client_of: Any, scheduler: str) -> Any:
    """A client on the scheduler at ``scheduler``, or :class:`~allocator.io.InputError`
    in one sentence when nothing answers there within :data:`CONNECT_SECONDS`."""
    from allocator.io import InputError

    try:
        return client_of(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        why = str(exc).split("\n", 1)[0] or type(exc).__name__
        raise InputError(
            f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_SECONDS} s "
            f"({why}); expected a running `dask scheduler` there, its workers started "
            "with `dask worker` and that address"
        ) from None
