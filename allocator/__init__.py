"""allocator: allocates children's social-care cases to social workers.

Typical use::

    from allocator import load_snapshot, load_policy, allocate, check_plan

    snapshot = load_snapshot("examples/service.json", referrals="examples/referrals.json")
    policy = load_policy("examples/policy.toml")
    plan = allocate(snapshot, policy, time_limit=10)
    assert check_plan(snapshot, policy, plan) == []
    print(plan.status, len(plan.assignments), len(plan.unallocated))

The names below are the public API: the data contract (docs/FORMAT.md), reading
and writing it, the two solves (:func:`allocate`, :func:`rebalance`), the independent
check, and the questions a manager asks of a service or a plan
(:class:`Recommender`, :func:`explain_case`, :func:`worker_statement`,
:func:`analyse_plan`, :func:`diff_plans`). Importing the package does not load
OR-Tools: only a solve does.

``allocator.recommend`` is the module; its one-off :func:`allocator.recommend.recommend`
indexes the service on every call, so ask many questions of one :class:`Recommender`.
"""

from allocator.allocate import allocate
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
from allocator.check import Violation, check_plan
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
    Plan,
    Practitioner,
    Priority,
    Snapshot,
    Unallocated,
    UnallocatedCode,
    WorkerLoad,
)
from allocator.policy import Policy, PolicyError, load_policy
from allocator.rebalance import CapCost, cap_cost, rebalance
from allocator.recommend import Candidate, Recommendation, Recommender, UnknownIdError

__all__ = [
    "Assignment",
    "Candidate",
    "CapCost",
    "Case",
    "CaseExplanation",
    "CaseType",
    "Grade",
    "InputError",
    "Plan",
    "PlanAnalysis",
    "PlanDiff",
    "Policy",
    "PolicyError",
    "Practitioner",
    "Priority",
    "Recommendation",
    "Recommender",
    "Snapshot",
    "Unallocated",
    "UnallocatedCode",
    "UnknownIdError",
    "Violation",
    "WorkerLoad",
    "WorkerStatement",
    "allocate",
    "analyse_plan",
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
