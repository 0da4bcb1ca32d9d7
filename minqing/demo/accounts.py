"""One demo account per role, so anyone trying the demo can see each view (README "Demo accounts").

The town supervisor, area head and grid cadre are placed in the first town (by code), its first
area and that area's first grid. The passwords are public: they exist only in demo databases.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from minqing.access import Role
from minqing.accounts import hash_password
from minqing.clock import now
from minqing.models import Account, Area, Grid, Town


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    name: str
    role: str
    level: str


DEMO_ACCOUNTS = (
    DemoAccount("district", "demo-district", "区督查（演示）", Role.DISTRICT_SUPERVISOR, "district"),
    DemoAccount("town", "demo-town", "镇街督查（演示）", Role.TOWN_SUPERVISOR, "town"),
    DemoAccount("area", "demo-area", "片长（演示）", Role.AREA_HEAD, "area"),
    DemoAccount("cadre", "demo-cadre", "网格干部（演示）", Role.GRID_CADRE, "grid"),
    DemoAccount("planner", "demo-planner", "规划员（演示）", Role.PLANNER, "district"),
    DemoAccount("data", "demo-data", "数据专员（演示）", Role.DATA_OFFICER, "district"),
    DemoAccount("display", "demo-display", "大屏（演示）", Role.DISPLAY, "district"),
    DemoAccount("admin", "demo-admin", "管理员（演示）", Role.ADMIN, "district"),
)


def _places(conn: Connection) -> dict[str, int | None]:
    town = conn.scalar(select(Town.id).order_by(Town.code).limit(1))
    area = conn.scalar(select(Area.id).where(Area.town_id == town).order_by(Area.id).limit(1))
    grid = conn.scalar(select(Grid.id).where(Grid.area_id == area).order_by(Grid.code).limit(1))
    return {"district": None, "town": town, "area": area, "grid": grid}


def write_demo_accounts(conn: Connection) -> None:
    """Create the demo accounts, or reset them (password, role, place, lock) when present."""
    places = _places(conn)
    for demo in DEMO_ACCOUNTS:
        values = {"name": demo.name, "role": demo.role.value, "level": demo.level,
                  "jurisdiction_id": places[demo.level],
                  "password_hash": hash_password(demo.password), "must_change_password": False,
                  "disabled": False, "failed_attempts": 0, "locked_until": None}
        existing = conn.scalar(select(Account.id).where(Account.username == demo.username))
        if existing is None:
            conn.execute(Account.__table__.insert().values(username=demo.username,
                                                           created_at=now(), **values))
        else:
            conn.execute(update(Account).where(Account.id == existing).values(**values))
