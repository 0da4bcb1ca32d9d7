"""Service groups follow a grid layer version: the rules :func:`minqing.layers.publish_layer`
applies (inside its transaction) and the planner previews.

Every grid has one service group (``service_groups.grid_id`` is unique). When a version is
published or restored:

1. **Backbone members follow their household.** A central household / community service worker
   is a household; when the household changes grid, the member joins the new grid's group.
2. **A grid merged away dissolves its group into its heir's.** The heir is the grid that took
   most of its households (see :func:`minqing.layers._successors`). The other members (leader
   cadre, police, teacher, medic, volunteers) join the heir's group; nobody is deleted. The
   emptied group stays attached to the inactive grid as history, and the version's event says
   who went where. An heir that has no group takes the whole group.
3. **A grid that comes back gets its people back.** When a restore (or any later version) makes
   such a grid current again, the members its group lost when it was merged away return from
   the group they joined, if they are still there (a whole group comes back if it is still the
   heir's).
4. **A new grid gets a group.** A grid created by a split (or an import) with no group gets one,
   led by the leader of the group of the grid most of its households came from until the town
   names a leader of its own, sited at the centre of its households.

Pairings point at members, not groups, so they are kept as the members move.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, update

from minqing.models import GroupMember, Household, LayerEvent, ServiceGroup

__all__ = ["BACKBONE_ROLES", "follow_layer", "preview"]

BACKBONE_ROLES = ("central_household", "service_worker")


def follow_layer(conn: Connection, *, active: Iterable[int], retired: Iterable[int],
                 added: Iterable[int], heirs: Mapping[int, int],
                 came_from: Mapping[int, int]) -> dict:
    """Bring the service groups in line with the current grids (rules 1-4 of the module).

    ``active``: the grids of the version; ``retired`` / ``added``: grids that left it / joined
    it; ``heirs``: for each retired grid, the grid that took most of its households;
    ``came_from``: for each added grid, the grid most of its households were in before.

    Returns what changed, for the version's event: ``dissolved`` (group, grid, into_group,
    into_grid, members), ``returned`` (group, grid, members), ``created`` (group, grid,
    leader_from_grid) and ``backbone`` (members that followed their household).
    """
    group_of = dict(conn.execute(select(ServiceGroup.grid_id, ServiceGroup.id)).all())
    out: dict = {"dissolved": [], "returned": [], "created": [], "backbone": 0}
    for grid in sorted(added):
        back = _return(conn, grid, group_of)
        if back is not None:
            out["returned"].append({"group": group_of[grid], "grid": grid, "members": back})
    for grid in sorted(set(active) - set(group_of)):
        created = _create(conn, grid, group_of.get(came_from.get(grid, -1)))
        if created is not None:
            group_of[grid] = created
            out["created"].append({"group": created, "grid": grid,
                                   "leader_from_grid": came_from.get(grid)})
    for grid in sorted(retired):
        gone, heir = group_of.get(grid), heirs.get(grid)
        if gone is not None and heir is not None:
            out["dissolved"].append(_dissolve(conn, gone, grid, heir, group_of))
    out["backbone"] = _backbone_follow(conn, group_of)
    return out


def _dissolve(conn: Connection, group: int, grid: int, heir: int,
              group_of: dict[int, int]) -> dict:
    """Group ``group`` of retired ``grid`` into the heir's: its members other than the backbone
    join the heir's group; an heir without a group takes the whole group."""
    record = {"group": group, "grid": grid, "into_grid": heir}
    if heir not in group_of:
        conn.execute(update(ServiceGroup).where(ServiceGroup.id == group).values(grid_id=heir))
        del group_of[grid]
        group_of[heir] = group
        return {**record, "into_group": group, "members": [], "whole": True}
    moved = conn.scalars(select(GroupMember.id).where(
        GroupMember.group_id == group, GroupMember.role.not_in(BACKBONE_ROLES))).all()
    if moved:
        conn.execute(update(GroupMember).where(GroupMember.id.in_(moved))
                     .values(group_id=group_of[heir]))
    return {**record, "into_group": group_of[heir], "members": sorted(moved)}


def _create(conn: Connection, grid: int, parent_group: int | None) -> int | None:
    """A group for a grid without one, led by the parent group's leader (None: no parent)."""
    if parent_group is None:
        return None
    leader = conn.scalar(select(ServiceGroup.leader_cadre_id)
                         .where(ServiceGroup.id == parent_group))
    lon, lat = conn.execute(select(func.avg(Household.lon), func.avg(Household.lat))
                            .where(Household.grid_id == grid)).one()
    if lon is None:
        lon, lat = conn.execute(select(ServiceGroup.lon, ServiceGroup.lat)
                                .where(ServiceGroup.id == parent_group)).one()
    return conn.execute(insert(ServiceGroup).values(grid_id=grid, leader_cadre_id=leader,
                                                    lon=float(lon), lat=float(lat))
                        .returning(ServiceGroup.id)).scalar_one()


def _return(conn: Connection, grid: int, group_of: dict[int, int]) -> list[int] | None:
    """Undo the last dissolving of ``grid``'s group, as far as it still holds: the members that
    left return from the group they joined if they are still there; a whole group that went to
    an heir comes back if it is still the heir's. None when the grid's group was never
    dissolved."""
    rows = conn.scalars(select(LayerEvent.data)
                        .where(LayerEvent.action.in_(("publish", "restore")))
                        .order_by(LayerEvent.at.desc(), LayerEvent.id.desc()))
    for data in rows:
        for gone in json.loads(data or "{}").get("groups", {}).get("dissolved", []):
            if gone["grid"] != grid:
                continue
            if gone.get("whole"):
                if grid in group_of or group_of.get(gone["into_grid"]) != gone["group"]:
                    return None
                conn.execute(update(ServiceGroup).where(ServiceGroup.id == gone["group"])
                             .values(grid_id=grid))
                del group_of[gone["into_grid"]]
                group_of[grid] = gone["group"]
                return []
            if group_of.get(grid) != gone["group"]:
                return None
            back = conn.scalars(select(GroupMember.id).where(
                GroupMember.id.in_(gone["members"]),
                GroupMember.group_id == gone["into_group"])).all()
            if back:
                conn.execute(update(GroupMember).where(GroupMember.id.in_(back))
                             .values(group_id=gone["group"]))
            return sorted(back)
    return None


def _backbone_follow(conn: Connection, group_of: Mapping[int, int]) -> int:
    """Backbone members whose household is in another grid than their group's join that
    grid's group; returns how many moved."""
    rows = conn.execute(
        select(GroupMember.id, Household.grid_id)
        .join(Household, Household.id == GroupMember.household_id)
        .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
        .where(GroupMember.role.in_(BACKBONE_ROLES), ServiceGroup.grid_id != Household.grid_id)
    ).all()
    moves = [{"m": m, "g": group_of[g]} for m, g in rows if g in group_of]
    for move in moves:
        conn.execute(update(GroupMember).where(GroupMember.id == move["m"])
                     .values(group_id=move["g"]))
    return len(moves)


def preview(engine: Engine, *, households: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """What publishing an assignment would do to the service groups, per grid label.

    ``households``: household_id, before, after (grid labels; new grids negative);
    ``labels``: label, retired. Returns label, group (the group's id or None), effect
    ("dissolved", "created", "changed" or ""), into (the heir's label for a dissolved group,
    the parent's for a created one), members_out (members that leave: all of a dissolved
    group, the backbone of moved households otherwise), backbone_in.
    """
    with engine.connect() as conn:
        group_of = dict(conn.execute(select(ServiceGroup.grid_id, ServiceGroup.id)).all())
        members = pd.DataFrame(conn.execute(
            select(GroupMember.id, GroupMember.group_id, GroupMember.role,
                   GroupMember.household_id)).all(),
            columns=["member_id", "group_id", "role", "household_id"])
    old = households["before"].to_numpy()
    new = households["after"].to_numpy()
    moved = households[old != new]
    backbone = members[members["role"].isin(BACKBONE_ROLES)].merge(
        moved[["household_id", "before", "after"]], on="household_id")
    size = members.groupby("group_id").size()
    rows = []
    for label, retired in zip(labels["label"], labels["retired"], strict=True):
        label = int(label)
        group = group_of.get(label)
        out = int((backbone["before"] == label).sum())
        into = None
        if retired:
            took = Counter(new[old == label].tolist())
            into = took.most_common(1)[0][0] if took else None
            effect, out = "dissolved", int(size.get(group, 0)) if group is not None else 0
        elif group is None:
            came = Counter(old[new == label].tolist())
            into = came.most_common(1)[0][0] if came else None
            effect = "created"
        else:
            effect = "changed" if out or (backbone["after"] == label).any() else ""
        rows.append({"label": label, "group": group, "effect": effect, "into": into,
                     "members_out": out, "backbone_in": int((backbone["after"] == label).sum())})
    return pd.DataFrame(rows, columns=["label", "group", "effect", "into", "members_out",
                                       "backbone_in"])
