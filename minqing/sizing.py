"""Grid size bounds: how many households a grid should hold, defined once.

The source district sizes a rural grid at roughly 80–150 households (a few natural villages, one
central household per 50–100 of them) and an urban community grid at roughly 100–200 resident
households (one community service worker per 100–200). The planner's "out of bounds" layer, the
rebalancer and the demo generator (which deliberately puts ~5% of grids outside) all read these.
"""

from __future__ import annotations

GRID_SIZE_BOUNDS: dict[str, tuple[int, int]] = {
    "rural": (80, 150),
    "urban": (100, 200),
}


def out_of_bounds(kind: str, households: int) -> bool:
    """True when a grid of ``kind`` ("rural"/"urban") with ``households`` is outside its bounds.

    Bounds are inclusive: a rural grid of exactly 80 or 150 households is within bounds.
    """
    lo, hi = GRID_SIZE_BOUNDS[str(kind)]
    return households < lo or households > hi
