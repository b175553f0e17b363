"""A load as a share of capacity, the one way every page, table and sentence shows it."""

from __future__ import annotations

#: Nearest a load short of the cap, or above it, may read to 100 (percent).
NEAREST = 0.1


def percent(load: float, cap: float) -> str:
    """``load`` as a share of ``cap`` for people: ``"84%"``; ``"-"`` for no cap.

    Whole percents, except where rounding would read 100% of a load that is not the
    cap: then one decimal place, and never 100.0 (99.75 of 100 reads ``"99.8%"``,
    99.99 ``"99.9%"``, 100.01 ``"100.1%"``). So a worker with room never reads as
    full, and one over their cap never reads as at it; 100% is the cap exactly.
    ``load`` and ``cap`` in the same unit (points, or the engine's integer units).

    Examples
    --------
    >>> percent(99.4, 100), percent(99.75, 100), percent(100, 100), percent(100.25, 100)
    ('99%', '99.8%', '100%', '100.2%')
    """
    if cap <= 0:
        return "-"
    share = 100 * load / cap
    whole = round(share)
    if whole != 100 or load == cap:
        return f"{whole}%"
    tenth = (
        min(round(share, 1), 100 - NEAREST) if load < cap else max(round(share, 1), 100 + NEAREST)
    )
    return f"{tenth:.1f}%"
