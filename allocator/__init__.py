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

``allocator.problems.recommend`` is the module; its one-off
:func:`allocator.problems.recommend.recommend`
indexes the service on every call, so ask many questions of one :class:`Recommender`.
"""

import importlib
from typing import TYPE_CHECKING, Any

#: Where each public name lives. Names are imported on first use, so that importing
#: the package is cheap: the ``allocator`` command (:mod:`allocator.launch`) catches
#: Ctrl-C before anything heavy loads.
_HOMES: dict[str, str] = {
    "AllocatorError": "allocator.contract.faults",
    "AppliedPlan": "allocator.problems.apply",
    "Assignment": "allocator.contract.models",
    "Candidate": "allocator.problems.recommend",
    "CapCost": "allocator.problems.rebalancing",
    "Case": "allocator.contract.models",
    "CaseExplanation": "allocator.present.analysis",
    "CaseType": "allocator.contract.models",
    "Grade": "allocator.contract.models",
    "InputError": "allocator.io",
    "PendingHandovers": "allocator.contract.models",
    "Plan": "allocator.contract.models",
    "PlanNotApplicable": "allocator.problems.apply",
    "PlanAnalysis": "allocator.present.analysis",
    "PlanDiff": "allocator.present.analysis",
    "Policy": "allocator.contract.policy",
    "PolicyError": "allocator.contract.policy",
    "Practitioner": "allocator.contract.models",
    "Priority": "allocator.contract.models",
    "Progress": "allocator.contract.settings",
    "Recommendation": "allocator.problems.recommend",
    "Recommender": "allocator.problems.recommend",
    "Result": "allocator.domain.result",
    "Settings": "allocator.contract.settings",
    "SettingsError": "allocator.contract.settings",
    "Snapshot": "allocator.contract.models",
    "TierResult": "allocator.domain.result",
    "Unallocated": "allocator.contract.models",
    "UnallocatedCode": "allocator.contract.models",
    "UnknownIdError": "allocator.problems.recommend",
    "Violation": "allocator.explain.check",
    "WorkerLoad": "allocator.contract.models",
    "WorkerStatement": "allocator.present.analysis",
    "allocate": "allocator.problems.daily",
    "analyse_plan": "allocator.present.analysis",
    "apply_plan": "allocator.problems.apply",
    "cap_cost": "allocator.problems.rebalancing",
    "check_plan": "allocator.explain.check",
    "diff_plans": "allocator.present.analysis",
    "explain_case": "allocator.present.analysis",
    "load_plan": "allocator.io",
    "load_policy": "allocator.io",
    "load_snapshot": "allocator.io",
    "rebalance": "allocator.problems.rebalancing",
    "snapshot_from_dict": "allocator.io",
    "worker_statement": "allocator.present.analysis",
    "write_json": "allocator.io",
    "write_snapshot": "allocator.io",
}

# Written out, not computed from _HOMES: a type checker reads only a literal list as
# the names the package exports (mypy --strict refused `from allocator import
# Settings` when it was `sorted(_HOMES)`). tests/test_front_door.py holds the two equal.
__all__ = [
    "AllocatorError",
    "AppliedPlan",
    "Assignment",
    "Candidate",
    "CapCost",
    "Case",
    "CaseExplanation",
    "CaseType",
    "Grade",
    "InputError",
    "PendingHandovers",
    "Plan",
    "PlanAnalysis",
    "PlanDiff",
    "PlanNotApplicable",
    "Policy",
    "PolicyError",
    "Practitioner",
    "Priority",
    "Progress",
    "Recommendation",
    "Recommender",
    "Result",
    "Settings",
    "SettingsError",
    "Snapshot",
    "TierResult",
    "Unallocated",
    "UnallocatedCode",
    "UnknownIdError",
    "Violation",
    "WorkerLoad",
    "WorkerStatement",
    "allocate",
    "analyse_plan",
    "apply_plan",
    "cap_cost",
    "check_plan",
    "diff_plans",
    "explain_case",
    "load_plan",
    "load_policy",
    "load_snapshot",
    "rebalance",
    "snapshot_from_dict",
    "worker_statement",
    "write_json",
    "write_snapshot",
]


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
    from allocator.contract.faults import AllocatorError
    from allocator.contract.models import (
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
    from allocator.contract.policy import Policy, PolicyError
    from allocator.contract.settings import Progress, Settings, SettingsError
    from allocator.domain.result import Result, TierResult
    from allocator.explain.check import Violation, check_plan
    from allocator.io import (
        InputError,
        load_plan,
        load_policy,
        load_snapshot,
        snapshot_from_dict,
        write_json,
        write_snapshot,
    )
    from allocator.present.analysis import (
        CaseExplanation,
        PlanAnalysis,
        PlanDiff,
        WorkerStatement,
        analyse_plan,
        diff_plans,
        explain_case,
        worker_statement,
    )
    from allocator.problems.apply import AppliedPlan, PlanNotApplicable, apply_plan
    from allocator.problems.daily import allocate
    from allocator.problems.rebalancing import CapCost, cap_cost, rebalance
    from allocator.problems.recommend import Candidate, Recommendation, Recommender, UnknownIdError
