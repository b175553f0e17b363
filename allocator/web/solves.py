"""The meeting's re-solves, off the request path: one at a time, queued, with progress.

A re-solve takes from a fraction of a second to several seconds on a large service.
Run in the request handler it held every other request (the page, the log, other
managers' overrides) until it ended. Here each override becomes a :class:`Job` on a
single worker thread, so re-solves run one at a time in the order they came, and the
page, the JSON state and ``GET /jobs/{id}`` answer meanwhile, showing each job's
place in the queue and the solver's progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from allocator.contract.settings import Progress

#: Finished jobs kept for ``GET /jobs/{id}`` (older ones are forgotten).
KEEP_FINISHED = 100

Status = Literal["queued", "solving", "done", "refused", "failed"]
#: ``run(progress)`` -> the decision id the job logged (or a preview's outcome).
Run = Callable[[Callable[[Progress], None]], Any]


@dataclass
class Job:
    """One queued re-solve.

    Attributes
    ----------
    id
        Counted from 1 per server.
    what
        The override, in words ("Ann: choose C12 for P3").
    status
        ``queued``, ``solving``, ``done``, ``refused`` (the override could not be
        honoured: ``error`` says why) or ``failed``.
    stage
        The solver's progress while solving ("tier balance, stage 4 of 9").
    decision_id
        The decision logged, once done.
    """

    id: int
    what: str
    submitted: float
    status: Status = "queued"
    started: float | None = None
    finished: float | None = None
    stage: str | None = None
    decision_id: int | None = None
    error: str | None = None
    future: Future[Any] = field(default_factory=Future, repr=False)

    def seconds(self) -> float:
        """Seconds spent solving so far (or in all, once finished)."""
        if self.started is None:
            return 0.0
        return round((self.finished or time.monotonic()) - self.started, 2)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "id": self.id,
            "what": self.what,
            "status": self.status,
            "seconds": self.seconds(),
            "stage": self.stage,
            "decision_id": self.decision_id,
            "error": self.error,
        }


class SolveQueue:
    """Re-solves one at a time on one worker thread, first come first served."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="re-solve")
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._next = 1
        #: When this queue (the server) started, UTC to the second: jobs are numbered
        #: from 1 again after a restart, and those queued before it are lost.
        self.since = datetime.now(UTC).replace(microsecond=0)

    def submit(self, what: str, run: Run, refused: type[Exception]) -> Job:
        """Queue ``run``; an exception of type ``refused`` marks the job refused."""
        with self._lock:
            job = Job(self._next, what, time.monotonic())
            self._next += 1
            self._jobs[job.id] = job
            self._forget()

        def progress(p: Progress) -> None:
            job.stage = f"tier {p.tier.replace('_', ' ')}, stage {p.stage} of {p.stages}"

        def work() -> Any:
            job.status, job.started = "solving", time.monotonic()
            try:
                out = run(progress)
                job.decision_id = out if isinstance(out, int) else None
                job.status = "done"
                return out
            except refused as exc:
                job.status, job.error = "refused", str(exc)
                raise
            except Exception as exc:
                job.status, job.error = "failed", f"the re-solve failed ({type(exc).__name__})"
                raise
            finally:
                job.finished = time.monotonic()

        job.future = self._pool.submit(work)
        return job

    def job(self, job_id: int) -> Job | None:
        """The job ``job_id``, if it is still remembered."""
        return self._jobs.get(job_id)

    def pending(self) -> list[Job]:
        """The jobs queued or solving, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if j.status in ("queued", "solving")]

    def ahead(self, job: Job) -> int:
        """How many jobs run before ``job`` (0 once it is solving or finished)."""
        if job.status != "queued":
            return 0
        return sum(1 for j in self.pending() if j.id < job.id)

    def _forget(self) -> None:
        done = [i for i, j in self._jobs.items() if j.status not in ("queued", "solving")]
        for i in done[: max(0, len(done) - KEEP_FINISHED)]:
            del self._jobs[i]

    def shutdown(self) -> None:
        """Stop taking jobs; wait for the one running."""
        self._pool.shutdown(wait=True, cancel_futures=True)
