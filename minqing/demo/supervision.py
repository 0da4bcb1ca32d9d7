"""A year of supervision history for the demo district (四查, 会诊, 复诊), so no page opens empty.

* weekly diary reviews by each area's head since the start of last year (so last year's scoring
  has them): nearly every entry is reviewed within a week (lagging towns less), a few sent back
  and passed days later;
* weekly consultations: the cases a town decided on in a week (the ``assign`` events the case
  histories already hold) become that week's meeting, its items linked to those events;
* monthly follow-ups per area: cases late on the 25th get a criticism and a rectification
  deadline, written as ``rectify`` case events in their place in each case's history;
* quarterly verifications of everything unfinished at the last four quarter ends (the latest
  one still in progress).

Drawn from its own seeded generator, so the rest of the district is the same with or without it.
Last year's scores are published from these records by :func:`publish_last_year` once the
district is written (they are computed by :mod:`minqing.supervision.scoring`, from the KPIs).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np

from minqing.demo.cases import Cases, struggling_towns
from minqing.demo.geography import GridPlan
from minqing.demo.people import names
from minqing.demo.records import Diary

YEAR = 365
_RETURN_REQUESTS = ("请补充群众诉求的具体办理情况。", "记录过于简略，请写明走访对象和时间。",
                    "请注明是否已转为事项办理。", "请补充矛盾隐患的化解措施。")
_CRITICISM = ("事项超期未办结，提出批评，限期整改。", "办理进度缓慢，责任人作说明，限期整改到位。",
              "群众反映强烈，责令加快办理，按期销号。")
_NOT_VERIFIED = ("台账记录与现场情况不符，退回重新核实。", "未见办理佐证材料，要求补充。",
                 "群众表示问题尚未解决，继续跟踪。")
ATTENDEES = "党委书记、镇长（主任）、分管领导、各片片长、相关站所负责人"


@dataclass
class History:
    """Rows for the supervision tables, as tuples in the writer's column order."""

    reviews: list[tuple] = field(default_factory=list)
    meetings: list[tuple] = field(default_factory=list)
    items: list[tuple] = field(default_factory=list)
    verifications: list[tuple] = field(default_factory=list)
    rectify_by: dict[int, dt.date] = field(default_factory=dict)  # case index -> latest date


def _day(value) -> dt.date:
    return value.astype(dt.date) if hasattr(value, "astype") else value


def make_history(d: Diary, grids: GridPlan, c: Cases, as_of: dt.date, area_heads: list[str],
                 town_names: list[str], seed: int) -> History:
    """The year's history; also inserts the follow-ups' ``rectify`` events into ``c.events``
    (re-sorted so that each case's events keep their chronological append order)."""
    rng = np.random.default_rng([seed, 9])
    h = History()
    lagging = np.isin(grids.town, sorted(struggling_towns(len(town_names))))
    leaders = names(rng, 2 * len(town_names)).tolist()
    _reviews(h, d, grids, as_of, area_heads, lagging, rng)
    _follow_ups(h, d, grids, c, as_of, area_heads, rng)
    _consultations(h, d, grids, c, as_of, leaders, rng)
    _verifications(h, d, grids, c, as_of, leaders, rng)
    return h


def _reviews(h: History, d: Diary, grids: GridPlan, as_of: dt.date, heads: list[str],
             lagging: np.ndarray, rng) -> None:
    today = np.datetime64(as_of, "D")
    idx = np.flatnonzero(d.date >= np.datetime64(dt.date(as_of.year - 1, 1, 1), "D"))
    delay = rng.integers(1, 8, len(idx))
    lag = lagging[d.grid[idx]]
    delay = np.where(lag & (rng.random(len(idx)) < 0.35), delay + rng.integers(7, 30, len(idx)),
                     delay)
    when = d.date[idx] + delay
    done = when <= today
    returned = done & (rng.random(len(idx)) < 0.03)
    again = when + rng.integers(2, 6, len(idx))
    minute = rng.integers(8 * 60, 18 * 60, len(idx))
    for k in np.flatnonzero(done).tolist():
        e = int(idx[k])
        grid = int(d.grid[e])
        head = heads[int(grids.area[grid])]
        base = (e + 1, int(grids.town[grid]) + 1, grid + 1, head)
        first = _day(when[k])
        stamp = dt.datetime.combine(first, dt.time()) + dt.timedelta(minutes=int(minute[k]))
        if returned[k]:
            h.reviews.append((*base, "returned", _RETURN_REQUESTS[e % len(_RETURN_REQUESTS)],
                              first, stamp))
            second = _day(again[k])
            if second <= as_of:
                h.reviews.append((*base, "passed", "已补充，通过。", second,
                                  stamp + dt.timedelta(days=(second - first).days)))
        else:
            h.reviews.append((*base, "passed", "", first, stamp))


def _follow_ups(h: History, d: Diary, grids: GridPlan, c: Cases, as_of: dt.date,
                heads: list[str], rng) -> None:
    """Monthly follow-ups on the 25th: each area's late cases (at most eight) are criticised and
    given a rectification deadline; the ``rectify`` events join the case histories."""
    grid = d.grid[c.entry]
    area = grids.area[grid]
    opened = c.opened.astype(dt.date)
    deadline0 = c.deadline
    new_events = []
    month = dt.date(as_of.year - 1, as_of.month, 25)
    while month <= as_of:
        day = month
        late = [i for i in range(len(c.entry))
                if opened[i] <= day and deadline0[i] < day
                and (c.closed[i] is None or c.closed[i] > day)]
        by_area: dict[int, list[int]] = {}
        for i in late:
            by_area.setdefault(int(area[i]), []).append(i)
        for a, cases in sorted(by_area.items()):
            picked = sorted(cases, key=lambda i: deadline0[i])[:8]
            town = grids.area_names[a][0]
            meeting_id = len(h.meetings) + 1
            h.meetings.append((meeting_id, "follow_up", town + 1, a + 1, day, heads[a],
                               f"{heads[a]}、本片各网格联户干部", heads[a],
                               dt.datetime.combine(day, dt.time(16))))
            for i in picked:
                by = day + dt.timedelta(days=int(rng.integers(10, 21)))
                text = _CRITICISM[int(rng.integers(len(_CRITICISM)))]
                prev = h.rectify_by.get(i)
                data = json.dumps({"rectify_by": [prev.isoformat() if prev else None,
                                                  by.isoformat()]}, ensure_ascii=False)
                new_events.append((i, day, 16 * 60 + 30, heads[a], "rectify", None, None, text,
                                   data, (meeting_id, by, text, heads[a])))
                h.rectify_by[i] = by
        month = _next_month(month)
    _merge_events(h, c, new_events)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, day.day)


def _merge_events(h: History, c: Cases, new_events: list[tuple]) -> None:
    """Insert the rectify events into each case's history in date order; fill their statuses
    from the event before them and link them to their meeting items."""
    tagged = [(ev[0], ev[1], ev[2], 0, k, ev) for k, ev in enumerate(c.events)]
    tagged += [(ev[0], ev[1], ev[2], 1, k, ev) for k, ev in enumerate(new_events)]
    tagged.sort(key=lambda t: (t[0], t[1], t[2], t[3]))
    merged, status = [], {}
    for case_i, _, _, is_new, _, ev in tagged:
        if is_new:
            now = status.get(case_i, "handling")
            meeting_id, by, text, head = ev[9]
            ev = (*ev[:5], now, now, *ev[7:9])
            h.items.append((meeting_id, case_i + 1, "late", text, len(merged) + 1, by, head))
        else:
            status[case_i] = ev[6]
        merged.append(ev)
    c.events[:] = merged


def _consultations(h: History, d: Diary, grids: GridPlan, c: Cases, as_of: dt.date,
                   leaders: list[str], rng) -> None:
    """Each week's ``assign`` events in a town are that week's consultation and its decisions."""
    since = as_of - dt.timedelta(days=YEAR)
    town = grids.town[d.grid[c.entry]]
    level = d.risk_level[c.entry]
    weeks: dict[tuple[int, dt.date], list[int]] = {}
    for k, ev in enumerate(c.events):
        if ev[4] == "assign" and ev[1] >= since:
            monday = ev[1] - dt.timedelta(days=ev[1].weekday())
            weeks.setdefault((int(town[ev[0]]), monday), []).append(k)
    for (t, _monday), ks in sorted(weeks.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        held = min(c.events[k][1] for k in ks)
        meeting_id = len(h.meetings) + 1
        h.meetings.append((meeting_id, "consultation", t + 1, None, held, leaders[2 * t],
                           ATTENDEES, "党政办",
                           dt.datetime.combine(held, dt.time(9))))
        for k in ks:
            i = c.events[k][0]
            reasons = ["green"] if c.green[i] else []
            reasons += ["escalated"] + (["high_risk"] if level[i] >= 3 else [])
            h.items.append((meeting_id, i + 1, ",".join(reasons), c.events[k][7], k + 1, None,
                            "党政办"))


def _verifications(h: History, d: Diary, grids: GridPlan, c: Cases, as_of: dt.date,
                   leaders: list[str], rng) -> None:
    """Every item unfinished at the last four quarter ends, checked by the town's leaders; the
    latest quarter is still being worked through."""
    town = grids.town[d.grid[c.entry]]
    grid = d.grid[c.entry]
    opened = c.opened.astype(dt.date)
    start = dt.date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    for n in range(4):
        end = start - dt.timedelta(days=1)
        quarter = f"{end.year}Q{(end.month - 1) // 3 + 1}"
        share = 0.7 if n == 0 else 1.0
        for i in range(len(c.entry)):
            if opened[i] > end or (c.closed[i] is not None and c.closed[i] <= end):
                continue
            if rng.random() >= share:
                continue
            at = end + dt.timedelta(days=int(rng.integers(3, 16)))
            if at > as_of:
                continue
            ok = rng.random() < 0.93
            who = leaders[2 * int(town[i]) + int(rng.integers(2))]
            note = "" if ok else _NOT_VERIFIED[int(rng.integers(len(_NOT_VERIFIED)))]
            h.verifications.append((i + 1, int(town[i]) + 1, int(grid[i]) + 1, quarter, ok, who,
                                    note, dt.datetime.combine(at, dt.time(10))))
        start = dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)


def publish_last_year(url: str, as_of: dt.date) -> int:
    """Store last year's criteria (the defaults) and publish its ranking, as a district would
    have done in January; returns the cadres ranked."""
    from minqing.scope import Scope
    from minqing.store import get_engine
    from minqing.supervision import scoring

    engine = get_engine(url)
    year = as_of.year - 1
    scoring.save_weights(engine, year=year, weights=scoring.Weights(), actor="区委督查室",
                         at=dt.datetime(as_of.year, 1, 5, 9))
    return scoring.publish(engine, scope=Scope.district(), year=year, today=as_of)
