"""Size bounds, defined once and changeable by a planner: households per grid, households per
backbone member, backbone members per paired cadre.

The source district sizes a rural grid at roughly 80–150 households (a few natural villages, one
central household per 50–100 of them) and an urban community grid at roughly 100–200 resident
households (one community service worker per 100–200). Those are the defaults below; a planner may
change them (:func:`save_bound`), and the stored values (table ``planner_bounds``) then win. The
planner's "out of bounds" lists, the rebalancer and the demo generator (which deliberately puts
~5% of grids outside the defaults) all read them from here.

Keys: ``grid.rural`` / ``grid.urban`` (households per grid), ``backbone.rural`` /
``backbone.urban`` (households per central household / community service worker),
``pairing.district`` / ``pairing.town`` / ``pairing.village`` (backbone members paired with one
cadre of that level). All bounds are inclusive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, select

from minqing import clock
from minqing.access import AccessDenied
from minqing.errors import InputError
from minqing.scope import Scope

GRID_SIZE_BOUNDS: dict[str, tuple[int, int]] = {
    "rural": (80, 150),
    "urban": (100, 200),
}
BACKBONE_BOUNDS: dict[str, tuple[int, int]] = {
    "rural": (50, 100),  # households per central household (中心户)
    "urban": (100, 200),  # households per community service worker (社区服务员)
}
PAIRING_BOUNDS: dict[str, tuple[int, int]] = {
    "district": (8, 16),  # backbone members paired with one district cadre
    "town": (2, 18),
    "village": (2, 12),
}
DEFAULTS: dict[str, tuple[int, int]] = {
    **{f"grid.{k}": v for k, v in GRID_SIZE_BOUNDS.items()},
    **{f"backbone.{k}": v for k, v in BACKBONE_BOUNDS.items()},
    **{f"pairing.{k}": v for k, v in PAIRING_BOUNDS.items()},
}
_LIMIT = 100_000


@dataclass(frozen=True)
class Bounds:
    """All bounds in force: ``values[key] = (low, high)``, inclusive."""

    values: Mapping[str, tuple[int, int]]

    def grid(self, kind: str) -> tuple[int, int]:
        return self.values[f"grid.{kind}"]

    def backbone(self, kind: str) -> tuple[int, int]:
        return self.values[f"backbone.{kind}"]

    def pairing(self, level: str) -> tuple[int, int]:
        return self.values[f"pairing.{level}"]

    @property
    def grids(self) -> dict[str, tuple[int, int]]:
        """Households per grid by kind, as :func:`geo.rebalance.rebalance_town` takes them."""
        return {k.split(".", 1)[1]: v for k, v in self.values.items() if k.startswith("grid.")}

    def backbone_needed(self, kind: str, households: int) -> tuple[int, int]:
        """The fewest and most backbone members a group of ``households`` should have.

        One per ``low``–``high`` households: at least ceil(n / high), at most floor(n / low), and
        at least one for any group with households.
        """
        low, high = self.backbone(kind)
        if households <= 0:
            return 0, 0
        fewest = max(1, math.ceil(households / high))
        return fewest, max(fewest, households // low)


DEFAULT_BOUNDS = Bounds(DEFAULTS)


def out_of_bounds(kind: str, households: int, bounds: Bounds = DEFAULT_BOUNDS) -> bool:
    """True when a grid of ``kind`` ("rural"/"urban") with ``households`` is outside its bounds.

    Bounds are inclusive: a rural grid of exactly 80 or 150 households is within bounds.
    """
    lo, hi = bounds.grid(str(kind))
    return households < lo or households > hi


def deviation(households: int, low: int, high: int) -> int:
    """Signed distance outside ``[low, high]``: above the maximum > 0, below the minimum < 0."""
    if households > high:
        return households - high
    if households < low:
        return households - low
    return 0


def load_bounds(engine: Engine) -> Bounds:
    """The defaults overlaid with what planners stored."""
    from minqing.models import PlannerBound

    values = dict(DEFAULTS)
    with engine.connect() as conn:
        for key, low, high in conn.execute(select(PlannerBound.key, PlannerBound.low,
                                                  PlannerBound.high)):
            if key in values:
                values[key] = (int(low), int(high))
    return Bounds(values)


def save_bound(engine: Engine, *, scope: Scope, key: str, low: int, high: int) -> Bounds:
    """Store one bound (who changed it, the viewer of ``scope``, and when are kept with it);
    returns the bounds in force. Bounds hold for the whole district, so only district-level
    planning roles may change them.

    Raises :class:`InputError` naming the field for an unknown key, a non-positive minimum or a
    maximum below the minimum; :class:`~minqing.access.AccessDenied` for other roles.
    """
    from minqing.models import PlannerBound
    from minqing.planner import require_planner

    require_planner(scope)
    if scope.level != "district":
        raise AccessDenied("plan.error.outside")
    actor = scope.actor("system")
    if key not in DEFAULTS:
        raise InputError("sizing.error.key", field="key", name=key)
    low, high = int(low), int(high)
    if not 1 <= low <= _LIMIT:
        raise InputError("sizing.error.low", field="low", low=low)
    if not low <= high <= _LIMIT:
        raise InputError("sizing.error.high", field="high", low=low, high=high)
    with engine.begin() as conn:
        exists = conn.scalar(select(PlannerBound.key).where(PlannerBound.key == key))
        values = {"low": low, "high": high, "updated_at": clock.now(),
                  "updated_by": actor.strip()[:64]}
        table = PlannerBound.__table__
        if exists:
            conn.execute(table.update().where(table.c.key == key).values(**values))
        else:
            conn.execute(table.insert().values(key=key, **values))
    return load_bounds(engine)
