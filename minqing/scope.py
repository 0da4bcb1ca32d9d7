"""Jurisdictions and the viewer: every query function takes the caller's scope.

A scope is the district, one town, one area or one grid, and (in the app) the signed-in
:class:`Viewer` it was obtained from. Query functions turn it into a WHERE clause here, in one place,
and ask it whether personal data may be shown (:mod:`minqing.access` holds the policy), so access
rules and masking are enforced where the data is read rather than page by page.

Two kinds of scope:

* **a viewer's scope** -- ``viewer.scope()``, the only way the app gets one: the viewer's
  jurisdiction, which :meth:`Scope.narrowed_to_town` can only narrow, never widen;
* **a system scope** -- ``Scope.district()``, ``Scope.town(3)``...: no viewer, full access, for
  the command line, importers, the demo generator, benchmarks and tests. Pages and ``ui`` never
  build one (``tests/minqing/test_access.py`` checks the source).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, select, true

from minqing.access import (
    AGGREGATES_ONLY,
    READS_AUDIT,
    SEES_PERSONAL_DATA,
    WRITES_CASEWORK,
    AccessDenied,
    Role,
)
from minqing.models import Area, Grid, Town

Level = Literal["district", "town", "area", "grid"]


@dataclass(frozen=True)
class Viewer:
    """The signed-in account as the data layer sees it: who, which role, which jurisdiction."""

    account_id: int
    username: str
    name: str
    role: str
    level: Level = "district"
    jurisdiction_id: int | None = None

    def scope(self) -> Scope:
        """The viewer's whole jurisdiction, carrying the viewer."""
        return Scope(self.level, self.jurisdiction_id, viewer=self)

    @property
    def label(self) -> str:
        """How the viewer is recorded on what they do (case events, diary entries)."""
        return f"{self.name} ({self.username})" if self.name != self.username else self.username


@dataclass(frozen=True)
class Scope:
    """What the caller may see: ``level``, the id of that town/area/grid (None for district), and
    the viewer it belongs to (None for a system scope)."""

    level: Level = "district"
    id: int | None = None
    viewer: Viewer | None = None

    @classmethod
    def district(cls) -> Scope:
        return cls("district", None)

    @classmethod
    def town(cls, town_id: int) -> Scope:
        return cls("town", int(town_id))

    @classmethod
    def area(cls, area_id: int) -> Scope:
        return cls("area", int(area_id))

    @classmethod
    def grid(cls, grid_id: int) -> Scope:
        return cls("grid", int(grid_id))

    def __post_init__(self) -> None:
        if (self.level == "district") != (self.id is None):
            raise ValueError(f"scope {self.level!r} needs {'no' if self.level == 'district' else 'an'} id")

    def narrowed_to_town(self, town_id: int | None) -> Scope:
        """The scope a town picker selects, never wider than this one."""
        if town_id is None or self.level != "district":
            return self
        return Scope("town", int(town_id), viewer=self.viewer)

    # --- what the viewer may do (a system scope may do everything) ----------------------------

    @property
    def role(self) -> Role | None:
        return None if self.viewer is None else Role(self.viewer.role)

    @property
    def reveals_personal_data(self) -> bool:
        """True when names, phones, ID numbers and addresses come back unmasked."""
        return self.viewer is None or self.role in SEES_PERSONAL_DATA

    @property
    def reads_person_level(self) -> bool:
        return self.viewer is None or self.role not in AGGREGATES_ONLY

    @property
    def writes_casework(self) -> bool:
        return self.viewer is None or self.role in WRITES_CASEWORK

    @property
    def reads_audit(self) -> bool:
        return self.viewer is None or self.role in READS_AUDIT

    def require_person_level(self) -> None:
        """Refuse person-level reads (households, members, cases, diary) to aggregate-only roles."""
        if not self.reads_person_level:
            raise AccessDenied("access.error.aggregates_only")

    def require_casework(self) -> None:
        """Refuse diary and case writes to roles that do not do casework."""
        if not self.writes_casework:
            raise AccessDenied("access.error.read_only")

    def actor(self, fallback: str) -> str:
        """Who is recorded as acting: the signed-in account, else ``fallback`` (system scopes)."""
        return fallback if self.viewer is None else self.viewer.label

    @property
    def account_id(self) -> int | None:
        return None if self.viewer is None else self.viewer.account_id

    def where(self, model) -> ColumnElement[bool]:
        """A WHERE clause limiting ``model`` rows to this scope.

        ``model`` is Town, Grid, or any model with ``town_id`` and ``grid_id`` columns
        (households, diary entries, cases).
        """
        if model is Grid:  # grids of the current layer version only (see minqing.layers)
            active = Grid.active.is_(True)
            if self.level == "district":
                return active
            column = {"town": Grid.town_id, "area": Grid.area_id, "grid": Grid.id}[self.level]
            return and_(active, column == self.id)
        if self.level == "district":
            return true()
        if model is Town:
            return Town.id == self._town_id_subquery()
        if model is Area:
            return {"town": Area.town_id == self.id, "area": Area.id == self.id}.get(
                self.level, Area.id == select(Grid.area_id).where(Grid.id == self.id).scalar_subquery()
            )
        if self.level == "town":
            return model.town_id == self.id
        if self.level == "area":
            return model.grid_id.in_(select(Grid.id).where(Grid.area_id == self.id))
        return model.grid_id == self.id

    def _town_id_subquery(self):
        if self.level == "town":
            return self.id
        if self.level == "area":
            return select(Area.town_id).where(Area.id == self.id).scalar_subquery()
        return select(Grid.town_id).where(Grid.id == self.id).scalar_subquery()
