"""Hand-made cases and diary entries in the tiny world, for the supervision membership rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from minqing.models import Case, CaseEvent, DiaryEntry
from minqing.store import get_engine, session_scope
from tests.conftest import AS_OF
from tests.world import World, build_world


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def add_entry(w: World, *, day: dt.date, grid_id: int | None = None, cadre_id: int | None = None,
              risk_level: int = 0, kind: str = "demand") -> int:
    with session_scope(get_engine(w.url)) as s:
        e = DiaryEntry(grid_id=grid_id or w.grid_id, town_id=w.town_id,
                       cadre_id=cadre_id or w.cadre_id, entry_date=day, kind=kind,
                       source="house_call", text=f"走访记录 {day}", risk_level=risk_level,
                       created_at=dt.datetime.combine(day, dt.time(9)))
        s.add(e)
        s.flush()
        return e.id


def add_case(w: World, code: str, *, status: str = "handling", deadline: dt.date = AS_OF,
             opened_on: dt.date = AS_OF - dt.timedelta(days=20), closed_on: dt.date | None = None,
             green: bool = False, is_risk: bool = False, entry_id: int | None = None,
             track: str = "promised", rectify_by: dt.date | None = None,
             events: tuple[tuple[str, dict], ...] = (), grid_id: int | None = None) -> int:
    """A case in a given state, with extra events ``(action, data)`` after its opening."""
    with session_scope(get_engine(w.url)) as s:
        c = Case(code=code, grid_id=grid_id or w.grid_id, town_id=w.town_id,
                 diary_entry_id=entry_id, title=f"事项{code}", track=track, status=status,
                 opened_on=opened_on, deadline=deadline, responsible="李干部", green_channel=green,
                 is_risk=is_risk, closed_on=closed_on, rectify_by=rectify_by,
                 leader="赵区长" if green else None)
        s.add(c)
        s.flush()
        at = dt.datetime.combine(opened_on, dt.time(9))
        s.add(CaseEvent(case_id=c.id, at=at, actor="李干部", action="open", to_status="registered",
                        comment="", data="{}"))
        for n, (action, data) in enumerate(events, start=1):
            s.add(CaseEvent(case_id=c.id, at=at + dt.timedelta(days=n), actor="李干部",
                            action=action, from_status="handling", to_status="handling",
                            comment="", data=json.dumps(data)))
        return c.id
