"""The order people read a plan's unallocated children in, on every page and table."""

from __future__ import annotations

from allocator.contract.models import Plan, Snapshot, Unallocated
from allocator.contract.policy import Policy
from allocator.domain.rules import ServiceState


def unallocated_order(snapshot: Snapshot, policy: Policy, plan: Plan) -> list[Unallocated]:
    """The plan's unallocated children, the highest priority class first (urgent,
    then statutory, by default), within a class the longest wait as the class counts
    it first (:meth:`~allocator.domain.rules.ServiceState.counted_wait`: a court
    child's head start included, as the engine serves them), then the longest wait in
    days, then by id. A case the snapshot does not hold comes last."""
    state = ServiceState.of(snapshot, policy)
    last = len(policy.class_names)

    def key(u: Unallocated) -> tuple[int, int, int, str]:
        days = u.days_waiting or 0
        if u.case not in state.cases:
            return (last, 0, -days, u.case)
        counted = state.counted_wait(u.case, days)
        return (state.priority_class[u.case], -counted, -days, u.case)

    return sorted(plan.unallocated, key=key)
