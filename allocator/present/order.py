"""The order people read a plan's unallocated children in, on every page and table."""

from __future__ import annotations

from allocator.contract.models import Plan, Snapshot, Unallocated
from allocator.contract.policy import Policy


def unallocated_order(snapshot: Snapshot, policy: Policy, plan: Plan) -> list[Unallocated]:
    """The plan's unallocated children, the highest priority class first (urgent,
    then statutory, by default), the longest wait first within a class, then by id."""
    cases = {c.id: c for c in snapshot.cases}

    def key(u: Unallocated) -> tuple[int, int, str]:
        case = cases.get(u.case)
        klass = policy.priority_class(case) if case is not None else len(policy.class_names)
        return (klass, -(u.days_waiting or 0), u.case)

    return sorted(plan.unallocated, key=key)
