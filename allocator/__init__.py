"""allocator: allocates children's social-care cases to social workers.

Typical use::

    from allocator import Settings, load_snapshot, load_policy, allocate, check_plan

    snapshot = load_snapshot("examples/service.json", referrals="examples/referrals.json")
    policy = load_policy("examples/policy.toml")
    plan = allocate(snapshot, policy, Settings(time_limit=10))
    assert check_plan(snapshot, policy, plan) == []
    print(plan.status, len(plan.assignments), len(plan.unallocated))

The names below are the public API: the data contract (docs/FORMAT.md), reading
and writing it, the solves (:func:`allocate`, :func:`rebalance`, :func:`cap_cost`) with
their one :class:`Settings` (time limit, work units, seed, workers, :class:`Progress`
reports) and the engine's one :class:`Result` (per tier a :class:`TierResult`), the
independent check, and the questions a manager asks of a service or a plan
(:class:`Recommender`, :func:`explain_case`, :func:`worker_statement`,
:func:`analyse_plan`, :func:`diff_plans`). Importing the package does not load
OR-Tools: only a solve does.

``allocator.recommend`` is the module; its one-off :func:`allocator.recommend.recommend`
indexes the service on every call, so ask many questions of one :class:`Recommender`.
"""

import importlib
from typing import TYPE_CHECKING, Any

#: Where each public name lives. Names are imported on first use, so that importing
#: the package is cheap: the ``allocator`` command (:mod:`allocator.launch`) catches
#: Ctrl-C before anything heavy loads.
_HOMES: dict[str, str] = {
    "AppliedPlan": "allocator.apply",
    "Assignment": "allocator.models",
    "Candidate": "allocator.recommend",
    "CapCost": "allocator.rebalancing",
    "Case": "allocator.models",
    "CaseExplanation": "allocator.analysis",
    "CaseType": "allocator.models",
    "Grade": "allocator.models",
    "InputError": "allocator.io",
    "PendingHandovers": "allocator.models",
    "Plan": "allocator.models",
    "PlanNotApplicable": "allocator.apply",
    "PlanAnalysis": "allocator.analysis",
    "PlanDiff": "allocator.analysis",
    "Policy": "allocator.policy",
    "PolicyError": "allocator.policy",
    "Practitioner": "allocator.models",
    "Priority": "allocator.models",
    "Progress": "allocator.settings",
    "Recommendation": "allocator.recommend",
    "Recommender": "allocator.recommend",
    "Result": "allocator.result",
    "Settings": "allocator.settings",
    "Snapshot": "allocator.models",
    "TierResult": "allocator.result",
    "Unallocated": "allocator.models",
    "UnallocatedCode": "allocator.models",
    "UnknownIdError": "allocator.recommend",
    "Violation": "allocator.check",
    "WorkerLoad": "allocator.models",
    "WorkerStatement": "allocator.analysis",
    "allocate": "allocator.daily",
    "analyse_plan": "allocator.analysis",
    "apply_plan": "allocator.apply",
    "cap_cost": "allocator.rebalancing",
    "check_plan": "allocator.check",
    "diff_plans": "allocator.analysis",
    "explain_case": "allocator.analysis",
    "load_plan": "allocator.io",
    "load_policy": "allocator.policy",
    "load_snapshot": "allocator.io",
    "rebalance": "allocator.rebalancing",
    "snapshot_from_dict": "allocator.io",
    "worker_statement": "allocator.analysis",
    "write_json": "allocator.io",
    "write_snapshot": "allocator.io",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'allocator' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # the same names, for type checkers and readers
    from allocator.analysis import (
        CaseExplanation,
        PlanAnalysis,
        PlanDiff,
        WorkerStatement,
        analyse_plan,
        diff_plans,
        explain_case,
        worker_statement,
    )
    from allocator.apply import AppliedPlan, PlanNotApplicable, apply_plan
    from allocator.check import Violation, check_plan
    from allocator.daily import allocate
    from allocator.io import (
        InputError,
        load_plan,
        load_snapshot,
        snapshot_from_dict,
        write_json,
        write_snapshot,
    )
    from allocator.models import (
        Assignment,
        Case,
        CaseType,
        Grade,
        PendingHandovers,
        Plan,
        Practitioner,
        Priority,
        Snapshot,
        Unallocated,
        UnallocatedCode,
        WorkerLoad,
    )
    from allocator.policy import Policy, PolicyError, load_policy
    from allocator.rebalancing import CapCost, cap_cost, rebalance
    from allocator.recommend import Candidate, Recommendation, Recommender, UnknownIdError
    from allocator.result import Result, TierResult
    from allocator.settings import Progress, Settings
