"""allocator: allocates children's social-care cases to social workers.

Typical use::

    from allocator import load_snapshot, load_policy, allocate

    snapshot = load_snapshot("examples/service.json", referrals="examples/referrals.json")
    plan = allocate(snapshot, load_policy("examples/policy.toml"), time_limit=10)
    print(plan.status, len(plan.assignments), len(plan.unallocated))
"""

from allocator.allocate import allocate
from allocator.check import Violation, check_plan
from allocator.io import InputError, load_plan, load_snapshot, write_json
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
from allocator.rebalance import cap_cost, rebalance
from allocator.recommend import recommend

__all__ = [
    "Assignment",
    "Case",
    "CaseType",
    "Grade",
    "InputError",
    "Plan",
    "Policy",
    "PolicyError",
    "Practitioner",
    "Priority",
    "Snapshot",
    "Unallocated",
    "UnallocatedCode",
    "Violation",
    "WorkerLoad",
    "allocate",
    "cap_cost",
    "check_plan",
    "load_plan",
    "load_policy",
    "load_snapshot",
    "rebalance",
    "recommend",
    "write_json",
]
