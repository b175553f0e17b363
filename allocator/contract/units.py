"""Points, the unit of weights and caps, and centi-points, the unit they are compared in."""

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
