"""Points, the unit of weights and caps, centi-points, the unit they are compared in, and
a load as a share of capacity as people read it (:func:`percent`)."""

from __future__ import annotations

import math
from typing import NewType

#: Weights and capacities are compared in integer centi-points everywhere (solver and
#: plain Python alike), so 0.75 x 3 = 2.25 points is exact and both sides agree.
POINTS_SCALE = 100

#: Points (floats, as in the interchange format) scaled once, at the door, to whole
#: hundredths of a point; every load is a sum of these, exact.
CentiPoints = NewType("CentiPoints", int)


def _hundredths(points: float) -> float:
    # Six places drop the binary noise of a decimal (0.1 x 3 x 100 = 30.000000000000004)
    # without touching any hundredth a person wrote.
    return round(points * POINTS_SCALE, 6)


def weight_units(points: float) -> CentiPoints:
    """A case's weight in centi-points, rounded up to the next hundredth of a point.

    Rounding a weight up (and a cap down, :func:`capacity_units`) keeps every sum of
    weights at or above the true one, so a cap the plan says holds really holds:
    three cases of 3.334 points (10.002 in all) do not fit a cap of 10.
    """
    return CentiPoints(math.ceil(_hundredths(points)))


def capacity_units(points: float) -> CentiPoints:
    """A worker's capacity in centi-points, rounded down to the hundredth of a point."""
    return CentiPoints(math.floor(_hundredths(points)))


#: Half a point in centi-points: the unit of a case's weight in the ``age_points``
#: waiting rule (fine enough to tell a court case from two child-protection cases).
HALF_POINT = 50


def to_points(units: int) -> float:
    """Centi-points back to points, for people and the plan."""
    return units / POINTS_SCALE


#: Nearest a load short of the cap, or above it, may read to 100 (percent): a load as
#: a share of capacity is shown one way on every page, table and sentence (:func:`percent`,
#: here, below the rooms that show it: present/ and problems/).
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
