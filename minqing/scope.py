"""Jurisdictions: every query function takes the caller's scope.

A scope is the district, one town, one area or one grid. Query functions turn it into a WHERE
clause here, in one place, so that access rules and personal-data masking can later be enforced
where the data is read rather than page by page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, select, true

from minqing.models import Area, Grid, Town

Level = Literal["district", "town", "area", "grid"]


@dataclass(frozen=True)
class Scope:
    """What the caller may see: ``level`` and the id of that town/area/grid (None for district)."""

    level: Level = "district"
    id: int | None = None

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
        return Scope.town(town_id)

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
