"""Invariants of the demo district generator, at small scale, on every backend.

The read-only checks share the session's small district (``demo_db_url``); the rebuild rules use
fresh databases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections import Counter

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select, text

from minqing import models as m
from minqing.demo import DemoExistsError, build
from minqing.sizing import GRID_SIZE_BOUNDS, out_of_bounds
from minqing.store import get_engine, session_scope
from tests.conftest import AS_OF


def _rows(url: str, *cols):
    with get_engine(url).connect() as conn:
        return conn.execute(select(*cols)).all()


def _grids(url: str):
    rows = _rows(url, m.Grid.id, m.Grid.town_id, m.Grid.kind, m.Grid.geom)
    ids = np.array([r[0] for r in rows])
    return ids, np.array([r[1] for r in rows]), np.array([r[2] for r in rows]), np.array(
        [r[3] for r in rows], dtype=object)


def test_every_household_inside_exactly_one_grid_of_its_town(demo_db_url):
    g_id, g_town, _, g_geom = _grids(demo_db_url)
    rows = _rows(demo_db_url, m.Household.grid_id, m.Household.town_id, m.Household.lon,
                 m.Household.lat, m.Household.geom)
    grid_id = np.array([r[0] for r in rows])
    town_id = np.array([r[1] for r in rows])
    points = np.array([r[4] for r in rows], dtype=object)
    assert len(rows) > 3000
    np.testing.assert_array_equal(shapely.get_x(points), [r[2] for r in rows])
    np.testing.assert_array_equal(shapely.get_y(points), [r[3] for r in rows])

    hit_point, hit_grid = shapely.STRtree(g_geom).query(points, predicate="within")
    per_point = np.bincount(hit_point, minlength=len(points))
    assert (per_point == 1).all(), f"{(per_point != 1).sum()} households not in exactly one grid"
    order = np.argsort(hit_point)
    assert (g_id[hit_grid[order]] == grid_id).all()
    assert (g_town[hit_grid[order]] == town_id).all()


def test_grids_tile_each_town_without_gaps_or_overlaps(demo_db_url):
    _g_id, g_town, _, g_geom = _grids(demo_db_url)
    towns = _rows(demo_db_url, m.Town.id, m.Town.geom)
    assert set(shapely.get_type_id(g_geom)) == {3}, "every grid is a single Polygon"
    assert shapely.is_valid(g_geom).all()
    for town_id, town_geom in towns:
        mine = g_geom[g_town == town_id]
        assert len(mine) >= 5
        union = shapely.union_all(mine)
        gap = shapely.symmetric_difference(union, town_geom).area
        assert gap / town_geom.area < 1e-6, f"town {town_id}: grids miss or exceed the town"
        assert abs(shapely.area(mine).sum() - town_geom.area) / town_geom.area < 1e-6
    area = shapely.area(g_geom)
    _, _, g_kind, _ = _grids(demo_db_url)
    assert np.median(area[g_kind == "urban"]) < np.median(area[g_kind == "rural"]) / 3
    left, right = shapely.STRtree(g_geom).query(g_geom, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(g_geom[left[pairs]], g_geom[right[pairs]]))
    assert pairs.sum() > len(g_geom), "neighbouring grids share borders"
    assert overlap.sum() / shapely.area(g_geom).sum() < 1e-9


def test_towns_tile_the_district_outline(demo_db_url):
    from minqing.demo.geography import district_outline

    towns = np.array([g for _, g in _rows(demo_db_url, m.Town.id, m.Town.geom)], dtype=object)
    outline = district_outline()
    union = shapely.union_all(towns)
    assert shapely.symmetric_difference(union, outline).area / outline.area < 1e-5
    assert shapely.area(towns).sum() == pytest.approx(outline.area, rel=1e-5)


def test_counts_and_backbone_ratios(demo_db_url):
    towns = Counter(k for (k,) in _rows(demo_db_url, m.Town.kind))
    assert towns == {"subdistrict": 1, "town": 2}
    areas = Counter(t for (t,) in _rows(demo_db_url, m.Area.town_id))
    assert all(3 <= n <= 6 for n in areas.values())
    _, _, g_kind, _ = _grids(demo_db_url)
    assert Counter(g_kind.tolist()) == {"rural": 20, "urban": 20}
    names = [n for (n,) in _rows(demo_db_url, m.Grid.name)]
    assert len(set(names)) == 40
    assert all(n.endswith("网格") and ("村第" in n or "社区第" in n) for n in names)

    with get_engine(demo_db_url).connect() as conn:
        hh = conn.execute(select(m.Grid.kind, func.count()).join(
            m.Household, m.Household.grid_id == m.Grid.id).group_by(m.Grid.kind)).all()
        roles = conn.execute(select(m.GroupMember.role, func.count()).group_by(
            m.GroupMember.role)).all()
    per_kind, roles = dict(hh), dict(roles)
    assert 3500 < sum(per_kind.values()) < 5500
    central = roles["central_household"] / per_kind["rural"]
    workers = roles["service_worker"] / per_kind["urban"]
    assert 1 / 110 < central < 1 / 45, central
    assert 1 / 220 < workers < 1 / 90, workers
    assert roles["leader"] == roles["police"] == roles["teacher"] == roles["medic"] == 40
    assert 40 <= roles["volunteer"] <= 120


def test_service_groups_are_led_by_village_cadres_and_backbones_are_paired(demo_db_url):
    with get_engine(demo_db_url).connect() as conn:
        leaders = conn.execute(select(m.Cadre.level).join(
            m.ServiceGroup, m.ServiceGroup.leader_cadre_id == m.Cadre.id)).scalars().all()
        backbone = conn.execute(select(m.GroupMember.id, m.GroupMember.household_id).where(
            m.GroupMember.role.in_(["central_household", "service_worker"]))).all()
        pair_levels = conn.execute(select(m.Pairing.member_id, m.Pairing.level)).all()
        grid_of_group = dict(conn.execute(select(m.ServiceGroup.id, m.ServiceGroup.grid_id)).all())
        hh_grid = dict(conn.execute(select(m.Household.id, m.Household.grid_id)).all())
        members = conn.execute(select(m.GroupMember.group_id, m.GroupMember.household_id).where(
            m.GroupMember.household_id.is_not(None))).all()
    assert len(leaders) == 40
    assert set(leaders) == {"village"}
    assert all(h is not None for _, h in backbone)
    levels = Counter(lv for _, lv in pair_levels)
    assert levels == {"district": len(backbone), "town": len(backbone), "village": len(backbone)}
    assert all(hh_grid[h] == grid_of_group[g] for g, h in members), "backbone lives in its grid"


def test_out_of_bound_grids_are_about_five_percent(demo_db_url):
    with get_engine(demo_db_url).connect() as conn:
        rows = conn.execute(select(m.Grid.kind, func.count(m.Household.id)).join(
            m.Household, m.Household.grid_id == m.Grid.id).group_by(m.Grid.id, m.Grid.kind)).all()
    out = [out_of_bounds(kind, n) for kind, n in rows]
    assert len(rows) == 40
    assert 1 <= sum(out) <= 4  # 5% of 40 = 2, one per kind
    assert {k for (k, n), o in zip(rows, out, strict=True) if o} == {"rural", "urban"}


def test_sizing_bounds_are_inclusive():
    lo, hi = GRID_SIZE_BOUNDS["rural"]
    assert not out_of_bounds("rural", lo)
    assert not out_of_bounds("rural", hi)
    assert out_of_bounds("rural", lo - 1)
    assert out_of_bounds("rural", hi + 1)
    assert out_of_bounds("urban", GRID_SIZE_BOUNDS["urban"][1] + 1)


def test_diary_proportions_risks_clustered_and_silent_grids(demo_db_url):
    rows = _rows(demo_db_url, m.DiaryEntry.grid_id, m.DiaryEntry.entry_date, m.DiaryEntry.kind,
                 m.DiaryEntry.source, m.DiaryEntry.people_received, m.DiaryEntry.opinions_taken)
    kinds = Counter(r[2] for r in rows)
    assert kinds.most_common(2)[0][0] == "demand"
    assert kinds.most_common(2)[1][0] == "risk"
    sources = Counter(r[3] for r in rows)
    assert (sources["reception"] + sources["house_call"]) / len(rows) > 0.45
    dates = [r[1] for r in rows]
    assert max(dates) <= AS_OF
    assert (AS_OF - min(dates)).days >= 700
    for r in rows:
        if r[3] == "deputies":
            assert r[4] >= 1
            assert 0 <= r[5] <= r[4]
        else:
            assert r[4] is None
            assert r[5] is None
    risks = Counter(r[0] for r in rows if r[2] == "risk")
    entries = Counter(r[0] for r in rows)
    share = sorted(risks[g] / entries[g] for g in entries)
    assert share[-1] > 2.5 * np.median(share), "risks cluster in some grids"
    last = {}
    for g, d, *_ in rows:
        last[g] = max(last.get(g, d), d)
    silent = [g for g, d in last.items() if (AS_OF - d).days >= 60]
    assert len(last) == 40
    assert 1 <= len(silent) <= 4


def test_diary_texts_fit_village_or_community(demo_db_url):
    with get_engine(demo_db_url).connect() as conn:
        rows = conn.execute(select(m.Grid.kind, m.DiaryEntry.text).join(
            m.Grid, m.Grid.id == m.DiaryEntry.grid_id)).all()
    rural = [t for k, t in rows if k == "rural"]
    urban = [t for k, t in rows if k == "urban"]
    assert len(set(rural)) > 0.9 * len(rural), "texts are varied"
    assert not any("业主" in t or "加装电梯" in t for t in rural)
    assert not any("村民" in t or "灌溉" in t for t in urban)


def test_cases_mostly_closed_on_time_some_open_and_overdue(demo_db_url):
    from minqing.deadlines import is_overdue

    rows = _rows(demo_db_url, m.Case.track, m.Case.status, m.Case.opened_on, m.Case.deadline,
                 m.Case.closed_on, m.Case.satisfaction, m.Case.letter_no, m.Case.is_risk,
                 m.Case.id)
    n = len(rows)
    assert 700 < n < 1400
    tracks = Counter(r[0] for r in rows)
    assert tracks.most_common(1)[0][0] == "immediate"
    assert set(tracks) == {
        "immediate", "promised", "liaison", "supervised"}
    closed = [r for r in rows if r[1] == "closed"]
    open_share = 1 - len(closed) / n
    assert 0.01 < open_share < 0.10, open_share
    on_time = sum(r[4] <= r[3] for r in closed) / len(closed)
    assert 0.8 < on_time < 0.97
    assert all(r[5] in ("satisfied", "basically_satisfied") for r in closed)
    assert all(r[4] is None for r in rows if r[1] != "closed")
    assert all(r[5] is None for r in rows if r[1] not in ("closed", "feedback"))
    overdue = sum(is_overdue(r[1], r[3], AS_OF) for r in rows)
    # some open cases overdue, but not most (the full district: 10-20%, see demo/cases.py)
    assert 1 <= overdue <= 0.4 * (n - len(closed)), (overdue, n - len(closed))
    assert all(r[6].startswith("联系函〔") for r in rows if r[0] == "liaison")
    assert any(r[7] for r in rows)
    assert all(r[2] <= r[3] for r in rows)


def test_case_events_follow_the_workflow_state_machine(demo_db_url):
    from minqing.cases import ACTIONS

    with get_engine(demo_db_url).connect() as conn:
        events = conn.execute(select(
            m.CaseEvent.case_id, m.CaseEvent.at, m.CaseEvent.action, m.CaseEvent.from_status,
            m.CaseEvent.to_status, m.CaseEvent.data).order_by(m.CaseEvent.case_id,
                                                              m.CaseEvent.id)).all()
        cases = {r[0]: r for r in conn.execute(select(
            m.Case.id, m.Case.status, m.Case.track, m.Case.letter_reply, m.Case.closed_on,
            m.Case.deadline))}
    by_case: dict[int, list] = {}
    for e in events:
        by_case.setdefault(e[0], []).append(e)
    assert set(by_case) == set(cases)
    for case_id, seq in by_case.items():
        status, track, reply, closed_on, _deadline = cases[case_id][1:]
        assert 1 <= len(seq) <= 11  # open .. (reopen, result, feedback) .. close
        assert seq[0][2] == "open"
        assert seq[0][4] == "registered"
        assert seq[-1][4] == status
        assert [e[1] for e in seq] == sorted(e[1] for e in seq)
        for _, _, action, src, dst, data in seq[1:]:
            spec = ACTIONS[action]
            assert src in spec.sources, (case_id, action, src)
            if spec.target is not None:
                assert dst == spec.target, (case_id, action, dst)
                assert json.loads(data)["status"] == [src, dst]
            else:
                assert src == dst
        if status == "closed":
            assert closed_on == seq[-1][1].date()
        if track == "liaison" and status in ("result", "feedback", "closed"):
            assert reply, "a liaison result needs the department's reply first"
    assert json.loads(by_case[1][0][5])["deadline"][1] <= cases[1][5].isoformat()


def test_some_cases_are_reworked_and_closed_after_a_second_visit(demo_db_url):
    """The rework rate KPI has something to show: an unsatisfied resident sends a few cases
    back; each is reopened with a fresh deadline and, once closed, closed over satisfied
    feedback."""
    with get_engine(demo_db_url).connect() as conn:
        reopened = conn.execute(select(m.CaseEvent.case_id, m.CaseEvent.at, m.CaseEvent.data)
                                .where(m.CaseEvent.action == "reopen")).all()
        cases = {r[0]: r for r in conn.execute(select(
            m.Case.id, m.Case.status, m.Case.satisfaction, m.Case.deadline))}
    assert 0.005 * len(cases) <= len(reopened) <= 0.1 * len(cases), len(reopened)
    for case_id, at, data in reopened:
        change = json.loads(data)
        assert change["status"] == ["feedback", "handling"]
        assert change["satisfaction"] == ["unsatisfied", None]
        assert change["deadline"][1] > at.date().isoformat()  # a fresh deadline
        _, status, satisfaction, _ = cases[case_id]
        if status == "closed":
            assert satisfaction == "satisfied"


def test_personal_fields_look_real_but_are_synthetic(demo_db_url):
    rows = _rows(demo_db_url, m.Household.id_number, m.Household.phone, m.Household.size,
                 m.Household.tags, m.Household.address)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for idn, phone, size, _tags, address in rows[:500]:
        assert len(idn) == 18
        assert idn.startswith("330402")
        assert "10X98765432"[sum(int(c) * w for c, w in zip(idn, weights, strict=False)) % 11] == idn[-1]
        assert len(phone) == 11
        assert phone.startswith("1")
        assert 1 <= size <= 6
        assert address.startswith("嘉兴市南湖区")
    tags = Counter(t for r in rows for t in r[3].split(",") if t)
    assert 0.01 < tags["dibao"] / len(rows) < 0.06
    with get_engine(demo_db_url).connect() as conn:
        info = dict(conn.execute(select(m.DatasetInfo.key, m.DatasetInfo.value)).all())
        members = conn.scalar(select(func.count()).select_from(m.HouseholdMember))
        sizes = conn.scalar(select(func.sum(m.Household.size)))
    assert members == sizes
    assert info["demo"] == "1"
    assert info["as_of"] == AS_OF.isoformat()
    assert info["seed"] == "7"


def _content_hash(url: str) -> str:
    """A hash over every record table's rows, ordered by primary key (raw values, geometry as
    stored); accounts are left out: their password hashes are salted."""
    digest = hashlib.sha256()
    with get_engine(url).connect() as conn:
        for tbl in m.Base.metadata.sorted_tables:
            if tbl.name in m.DEPLOYMENT_TABLES:
                continue
            pk = ", ".join(c.name for c in tbl.primary_key.columns)
            for row in conn.execute(text(f"SELECT * FROM {tbl.name} ORDER BY {pk}")):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_same_seed_gives_identical_database_and_another_seed_does_not(tmp_path, capsys):
    urls = [f"sqlite:///{tmp_path / f'{name}.db'}" for name in ("a", "b", "c")]
    for url, seed, progress in zip(urls, (7, 7, 8), (False, True, False), strict=True):
        build(url, scale="small", seed=seed, as_of=AS_OF, progress=progress)
    hashes = [_content_hash(url) for url in urls]
    assert hashes[0] == hashes[1]
    assert hashes[0] != hashes[2]
    assert "示例数据" in capsys.readouterr().err, "progress=True shows a bar on stderr"


def test_rebuild_needs_replace_and_leaves_ids_free_for_the_app(db_url, monkeypatch):
    import minqing.demo

    first = build(db_url, scale="small", seed=3, as_of=AS_OF, progress=False)
    with pytest.raises(DemoExistsError, match="replace"):
        build(db_url, scale="small", seed=3, as_of=AS_OF, progress=False)

    def write_then_fail(conn, **data):
        real_write(conn, **data)
        raise RuntimeError("disk full")

    real_write = minqing.demo.write
    monkeypatch.setattr(minqing.demo, "write", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        build(db_url, scale="small", seed=4, as_of=AS_OF, replace=True, progress=False)
    monkeypatch.undo()
    with get_engine(db_url).connect() as conn:
        info = dict(conn.execute(select(m.DatasetInfo.key, m.DatasetInfo.value)).all())
        assert conn.scalar(select(func.count()).select_from(m.Household)) == first["households"]
    assert info["seed"] == "3", "a failed rebuild leaves the old district as it was"

    again = build(db_url, scale="small", seed=3, as_of=AS_OF, replace=True, progress=False)
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in first.items() if k != "seconds"}
    with get_engine(db_url).connect() as conn:
        assert conn.scalar(select(func.count()).select_from(m.Case)) == first["cases"]
    with session_scope(get_engine(db_url)) as session:
        event = m.CaseEvent(case_id=1, at=dt.datetime(2026, 11, 20, 9), actor="测试",
                            action="comment", comment="", data="")
        session.add(event)
        session.flush()
        assert event.id == first["case_events"] + 1


def test_supervision_history_is_consistent(demo_db_url):
    """The year of reviews, meetings and verifications links to real records: meeting items'
    events belong to their case, rectify events sit in date order, verifications are of items
    unfinished at their quarter end."""
    engine = get_engine(demo_db_url)
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(m.Meeting.kind, func.count()).group_by(m.Meeting.kind)).all())
        assert kinds.get("consultation", 0) > 0
        assert kinds.get("follow_up", 0) > 0
        mismatched = conn.scalar(
            select(func.count()).select_from(m.MeetingItem)
            .join(m.CaseEvent, m.CaseEvent.id == m.MeetingItem.event_id)
            .where(m.CaseEvent.case_id != m.MeetingItem.case_id))
        assert mismatched == 0
        actions = set(conn.scalars(
            select(m.CaseEvent.action).join(m.MeetingItem, m.MeetingItem.event_id == m.CaseEvent.id)))
        assert actions == {"assign", "rectify"}
        events = conn.execute(select(m.CaseEvent.case_id, m.CaseEvent.at)
                              .order_by(m.CaseEvent.case_id, m.CaseEvent.id)).all()
        assert all(a.at <= b.at for a, b in itertools.pairwise(events)
                   if a.case_id == b.case_id)
        reviewed = conn.scalar(select(func.count(func.distinct(m.DiaryReview.entry_id))))
        assert reviewed > 0
        checks = conn.execute(select(m.Verification.quarter, m.Case.opened_on, m.Case.closed_on)
                              .join(m.Case, m.Case.id == m.Verification.case_id)).all()
    assert checks
    from minqing.scope import Scope
    from minqing.supervision import scoring
    from minqing.supervision.verification import quarter_end

    ranking, weights = scoring.published(engine, scope=Scope.district(), year=AS_OF.year - 1)
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1))
    assert int(ranking["star"].sum()) == weights.stars == 10

    assert all(opened <= quarter_end(q) and (closed is None or closed > quarter_end(q))
               for q, opened, closed in checks)
