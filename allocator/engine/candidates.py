"""Which workers each case may be given in the model: all eligible ones, or a diverse few.

Below :data:`FULL_MODEL_PAIRS` eligible (case, worker) pairs the model keeps them
all, so a proof of optimality is a proof for the whole problem. Above it, each
family is offered a pool of workers that always contains:

- the workers who already hold one of its children and the children's previous
  workers (continuity),
- the warm starts' choices, the greedy rule's among them (so the model can always
  reproduce the greedy plan and is never worse than it),
- the eligible workers with the most spare capacity and, where the child has an
  area, those covering it,
- an evenly spread sample of the remaining eligible workers, starting at an offset
  drawn from the family id. Pruning every case to the same few least-loaded workers
  starves the model (they fill up and everyone else is out of reach); a spread
  sample spreads the offers across the whole service.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping

from allocator.domain.objectives import outside_area
from allocator.domain.rules import ServiceState

#: Up to this many eligible pairs, every eligible pair is a variable of the whole models.
FULL_MODEL_PAIRS = 60_000
#: Up to this many eligible pairs, a neighbourhood offers each case every eligible
#: worker; above, the pools below. A neighbourhood's model grows with its cases'
#: candidates and is built once a round: on a 150-practitioner day of 18,000 eligible
#: pairs, whole candidate lists made each round cost most of a 2-second budget.
NEIGHBOURHOOD_PAIRS = 5_000
#: Per family: eligible workers with most spare capacity offered.
TOP_SPARE = 6
#: Per family: eligible workers covering the child's area offered.
TOP_AREA = 4
#: Per family: evenly spread eligible workers offered.
SPREAD = 14


def spread_sample(items: list[str], count: int, key: str) -> list[str]:
    """``count`` of ``items`` evenly spaced, starting at an offset drawn from ``key``.

    Deterministic (crc32, not Python's salted hash), and different keys start at
    different places, so the samples of many cases spread over the whole list.
    """
    if len(items) <= count:
        return list(items)
    offset = zlib.crc32(key.encode())
    stride = len(items) / count
    return [items[(offset + int(i * stride)) % len(items)] for i in range(count)]


def candidate_workers(
    state: ServiceState, starts: Iterable[Mapping[str, str]], full_pairs: int | None = None
) -> tuple[dict[str, list[str]], bool]:
    """Each case's candidate workers, and whether any eligible worker was left out.

    Parameters
    ----------
    state
        The service.
    starts
        Warm-start placements (the greedy rule's among them); each is kept as a
        candidate, so the model can always reproduce them.
    full_pairs
        Up to this many eligible pairs in all, every eligible worker is a candidate
        (default :data:`FULL_MODEL_PAIRS`).
    """
    starts = tuple(starts)
    eligible = {cid: state.eligible(cid) for cid in state.to_allocate}
    limit = FULL_MODEL_PAIRS if full_pairs is None else full_pairs
    if sum(len(ws) for ws in eligible.values()) <= limit:
        return eligible, False

    by_family: dict[str, list[str]] = defaultdict(list)
    for cid in state.to_allocate:
        by_family[state.cases[cid].family].append(cid)

    candidates: dict[str, list[str]] = {}
    pruned = False
    for family in sorted(by_family):
        children = by_family[family]
        union = sorted({w for cid in children for w in eligible[cid]})
        pool: set[str] = set(state.holders.get(family, ()))
        for cid in children:
            pool.update(state.cases[cid].previous_workers)
            pool.update(start[cid] for start in starts if cid in start)
        by_spare = sorted(union, key=lambda w: (-state.spare_before(w), w))
        pool.update(by_spare[:TOP_SPARE])
        covering = [w for w in by_spare if not outside_area(state, children[0], w)]
        pool.update(covering[:TOP_AREA])
        pool.update(spread_sample(union, SPREAD, family))
        for cid in children:
            candidates[cid] = [w for w in eligible[cid] if w in pool]
            pruned = pruned or len(candidates[cid]) < len(eligible[cid])
    return candidates, pruned
