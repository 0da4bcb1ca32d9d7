"""Cases raised from diary entries, and their histories, following the real workflow.

Each case gets a planned life on its track (四办) — started, perhaps sent to the weekly
consultation and assigned a responsible leader, for liaison cases the department's reply, a
result, the feedback to the resident and closure (销号) — with the same actions, status moves and
``{field: [old, new]}`` event data as :mod:`minqing.cases`, and deadlines from
:func:`minqing.deadlines.deadline_for`. Cutting every plan at ``as_of`` gives the statuses: most
cases closed on time, some closed late, a few percent open, some of those overdue.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from minqing import models as m
from minqing.cases import SATISFACTION, case_code, letter_number
from minqing.deadlines import deadline_for
from minqing.demo import texts
from minqing.demo.geography import GridPlan
from minqing.demo.groups import Cadres
from minqing.demo.people import names
from minqing.demo.records import Diary

TRACKS = ("immediate", "promised", "liaison", "supervised")
NEVER = 100_000  # days: a step that has not happened (and will not by as_of)
# The workflow's codes. Its "basically satisfied" code is longer than the satisfaction column
# (String(16)) allows on PostgreSQL; until the column is widened the demo records only "satisfied"
# there, so that the same build works on both backends.
_BASIC = 1 if len(SATISFACTION[1]) <= (m.Case.__table__.c.satisfaction.type.length or 99) else 0


@dataclass
class Cases:
    """Cases as parallel arrays/lists; the state is the state at ``as_of``."""

    entry: np.ndarray  # index of the diary entry it came from
    track: np.ndarray
    opened: np.ndarray  # datetime64[D]
    green: np.ndarray
    code: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    department: list[str | None] = field(default_factory=list)
    letter_no: list[str | None] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    deadline: list[dt.date] = field(default_factory=list)
    leader: list[str | None] = field(default_factory=list)
    result: list[str | None] = field(default_factory=list)
    satisfaction: list[str | None] = field(default_factory=list)
    feedback: list[str | None] = field(default_factory=list)
    letter_reply: list[str | None] = field(default_factory=list)
    explanation: list[str | None] = field(default_factory=list)
    closed: list[dt.date | None] = field(default_factory=list)
    # events: (case index, day, minute of day, actor, action, from, to, comment, data JSON)
    events: list[tuple] = field(default_factory=list)


@lru_cache(maxsize=8192)
def _deadline(track: str, opened: dt.date, promised: dt.date | None) -> dt.date:
    return deadline_for(track, opened, promised)


@dataclass
class _Plan:
    """Day offsets (from the opening day) of each step of each case; NEVER = not happening."""

    start: np.ndarray
    assign: np.ndarray  # consultation decision (escalate happens on ``start``)
    reply: np.ndarray  # liaison department's reply
    result: np.ndarray
    feedback: np.ndarray
    close: np.ndarray
    deadline: np.ndarray  # initial deadline
    new_deadline: np.ndarray  # deadline set by the consultation
    satisfaction: np.ndarray
    explain: np.ndarray  # liaison cases that cannot be done yet: explained to the resident
    reopen: np.ndarray  # rework (返工): the resident was not satisfied, the case is reopened
    redo_deadline: np.ndarray  # the deadline set on reopening
    redo_result: np.ndarray  # the second result; the second feedback comes on ``feedback2``
    feedback2: np.ndarray


def struggling_towns(n_towns: int) -> frozenset[int]:
    """The towns (0-based) whose casework lags, so that maps and rankings show a contrast."""
    return frozenset({1, 5, 8} if n_towns > 8 else {1})


def _plan(track: np.ndarray, opened: np.ndarray, consulted: np.ndarray, as_of: dt.date,
          rng: np.random.Generator, lagging: np.ndarray | None = None) -> _Plan:
    """Each case's steps. Proportions (measured on the full demo): roughly 10-20% of the open
    cases overdue and 90-97% closed on time overall, a few lagging towns clearly worse."""
    n = len(track)
    lagging = np.zeros(n, dtype=bool) if lagging is None else lagging
    promised = opened + rng.integers(15, 31, n)
    deadline = np.array([
        (_deadline(str(t), o, p if t == "promised" else None) - o).days
        for t, o, p in zip(track.tolist(), opened.astype(dt.date).tolist(),
                           promised.astype(dt.date).tolist(), strict=True)
    ])
    start = np.where(rng.random(n) < 0.7, 0, 1)
    assign = np.where(consulted, start + rng.integers(1, 7, n), NEVER)
    new_deadline = np.where(consulted, np.maximum(deadline, assign + rng.integers(10, 21, n)),
                            deadline)
    base = np.where(consulted, assign, start)
    age = (np.datetime64(as_of, "D") - opened).astype(int)
    # hard cases: some get stuck for a while, and the old ones have mostly been sorted out since
    slow = np.where(lagging, 3.0, 1.0)
    stuck = rng.random(n) < slow * (0.0003 + 0.012 * np.exp(-age / 60.0))
    late = (rng.random(n) < np.where(lagging, 0.13, 0.035)) & ~stuck
    on_time = base + np.ceil((new_deadline - base) * rng.uniform(0.2, 1.0, n)).astype(int)
    close = np.where(late, new_deadline + rng.integers(1, 16, n), np.maximum(on_time, base + 1))
    close = np.where(stuck, NEVER, close)
    result = np.maximum(base, close - rng.integers(0, 3, n))
    feedback = result + ((close - result) * rng.random(n)).astype(int)
    reply = np.where(track == "liaison", np.maximum(base, result - rng.integers(0, 4, n)), NEVER)
    satisfaction = np.where(rng.random(n) < np.where(late, 0.7, 0.89), 0, _BASIC)
    # a resident who is not satisfied blocks closure: only recent feedback is still waiting
    days_left = age - feedback
    unhappy = (rng.random(n) < 0.06) & (days_left >= 0) & (days_left < 10) & ~stuck
    satisfaction[unhappy] = 2
    close[unhappy] = NEVER
    explain = (track == "liaison") & (rng.random(n) < 0.25)
    # rework: an unsatisfied resident sends a few cases back (more in the lagging towns); the
    # case is reopened with a fresh deadline, done again and closed after a second visit
    rework = (rng.random(n) < np.where(lagging, 0.07, 0.025)) & ~stuck & ~unhappy
    reopen = np.where(rework, feedback + rng.integers(0, 3, n), NEVER)
    redo_deadline = reopen + rng.integers(10, 21, n)
    redo_result = reopen + rng.integers(3, 11, n)
    feedback2 = redo_result + rng.integers(0, 4, n)
    close = np.where(rework, feedback2 + rng.integers(0, 3, n), close)
    satisfaction[rework] = 2  # the first feedback; the second one is satisfied
    return _Plan(start, assign, reply, np.where(stuck, NEVER, result),
                 np.where(stuck, NEVER, feedback), close, deadline, new_deadline, satisfaction,
                 explain, reopen, redo_deadline, redo_result, feedback2)


def make_cases(d: Diary, grids: GridPlan, cadres: Cadres, as_of: dt.date,
               town_names: list[str], rng: np.random.Generator) -> Cases:
    """Turn ~42% of demands and half of the risks into cases on the four tracks."""
    p = np.select([d.kind == "demand", d.kind == "risk"], [0.42, 0.5], default=0.0)
    entry = np.flatnonzero(rng.random(len(d.grid)) < p)
    n = len(entry)
    risk = d.kind[entry] == "risk"
    track_p = np.where(risk[:, None], [[.35, .25, .15, .25]], [[.60, .18, .12, .10]])
    track = np.array(TRACKS)[(rng.random(n)[:, None] > np.cumsum(track_p, axis=1)[:, :3]).sum(1)]
    today = np.datetime64(as_of, "D")
    opened = np.minimum(d.date[entry] + np.where(rng.random(n) < 0.7, 0, rng.integers(1, 3, n)),
                        today)
    level = d.risk_level[entry]
    green = ((level == 3) & (rng.random(n) < 0.4)) | (rng.random(n) < 0.003)
    consulted = (risk & (level >= 2) & np.isin(track, ("promised", "supervised"))) | green
    c = Cases(entry=entry, track=track, opened=opened, green=green)
    town = grids.town[d.grid[entry]]
    lagging = np.isin(town, sorted(struggling_towns(int(grids.town.max()) + 1)))
    plan = _plan(track, opened, consulted, as_of, rng, lagging)
    _fixed_fields(c, d, grids, cadres, town_names, rng)
    _live(c, d, cadres, plan, consulted, as_of, town_names, grids, rng)
    return c


def _fixed_fields(c: Cases, d: Diary, grids: GridPlan, cadres: Cadres, town_names: list[str],
                  rng) -> None:
    """What is set when a case is opened: code, title, responsible, department and letter."""
    n = len(c.entry)
    grid = d.grid[c.entry]
    town = grids.town[grid]
    dept = rng.integers(len(texts.DEPARTMENTS), size=n)
    town_pick = rng.random(n)
    letters: dict[int, int] = {}
    seq: dict[int, int] = {}
    for i, (opened, track) in enumerate(zip(c.opened.astype(dt.date).tolist(), c.track.tolist(),
                                            strict=True)):
        seq[opened.year] = seq.get(opened.year, 0) + 1
        c.code.append(case_code(opened, seq[opened.year]))
        e = int(c.entry[i])
        c.title.append(f"{d.place[e]}{d.title[e]}")
        pool = cadres.paired["town"][int(town[i])]
        if track in ("promised", "liaison"):
            c.responsible.append(cadres.name[pool[int(town_pick[i] * len(pool))]])
        else:
            c.responsible.append(cadres.name[int(cadres.grid_leader[grid[i]])])
        if track == "liaison":
            letters[opened.year] = letters.get(opened.year, 0) + 1
            c.department.append(texts.DEPARTMENTS[dept[i]])
            c.letter_no.append(letter_number(opened.year, letters[opened.year]))
        else:
            c.department.append(None)
            c.letter_no.append(None)


def _json(changed: dict) -> str:
    return json.dumps(changed, ensure_ascii=False)


def _live(c: Cases, d: Diary, cadres: Cadres, plan: _Plan, consulted: np.ndarray,
          as_of: dt.date, town_names: list[str], grids: GridPlan, rng) -> None:
    """Play each case's plan up to ``as_of``: its events, and its state at the end."""
    n = len(c.entry)
    elapsed = (np.datetime64(as_of, "D") - c.opened).astype(int).tolist()
    opened = c.opened.astype(dt.date).tolist()
    leaders = names(rng, n).tolist()
    pick = rng.integers(3, size=(n, 4))
    minutes = 9 * 60 + 40 * np.arange(12)[None, :] + rng.integers(0, 35, (n, 12))
    town = grids.town[d.grid[c.entry]].tolist()
    for i in range(n):
        writer = cadres.name[int(d.cadre[c.entry[i]])]
        track = str(c.track[i])
        deadline = opened[i] + dt.timedelta(days=int(plan.deadline[i]))
        leader = f"{leaders[i]}（区领导）" if c.green[i] else None
        state = {"status": "registered", "deadline": deadline, "leader": leader}
        steps = _steps(c, i, plan, bool(consulted[i]), track, writer, leaders[i],
                       town_names[town[i]], pick[i])
        events = [("open", None, "registered", writer, "由民情日记登记", 0,
                   _open_data(c, i, deadline, leader))]
        status = "registered"
        for action, to, actor, comment, day, changed in steps:
            if day > elapsed[i]:
                break
            before = status
            status = to or status
            diff = ({"status": [before, status]} if to else {}) | {
                k: [_plain(state.get(k)), _plain(v)] for k, v in changed.items()}
            state.update(changed)
            events.append((action, before if to else status, status, actor, comment, day,
                           _json(diff)))
        for j, (action, src, dst, actor, comment, day, data) in enumerate(events):
            c.events.append((i, opened[i] + dt.timedelta(days=day), int(minutes[i, j]), actor,
                             action, src, dst, comment, data))
        c.status.append(status)
        c.deadline.append(state["deadline"])
        c.leader.append(state.get("leader"))
        for name in ("result", "satisfaction", "feedback", "letter_reply", "explanation"):
            getattr(c, name).append(state.get(name))
        c.closed.append(state.get("closed_on"))


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _open_data(c: Cases, i: int, deadline: dt.date, leader: str | None) -> str:
    """The opening event's data: every field the case was opened with, as ``[None, value]``."""
    fields = {"title": c.title[i], "track": str(c.track[i]), "status": "registered",
              "deadline": deadline.isoformat(), "responsible": c.responsible[i],
              "department": c.department[i], "letter_no": c.letter_no[i], "leader": leader,
              "green_channel": bool(c.green[i])}
    return _json({k: [None, v] for k, v in fields.items() if v is not None})




def _steps(c: Cases, i: int, plan: _Plan, consulted: bool, track: str, writer: str,
           leader_name: str, town_name: str, pick: np.ndarray) -> list[tuple]:
    """The planned steps after opening: (action, new status or None, actor, comment, day,
    changed fields), in order."""
    opened = c.opened[i].astype(dt.date)
    resp = c.responsible[i]
    steps: list[tuple] = []
    if consulted:
        steps.append(("escalate", "consultation", writer, "情况复杂，提交镇街会诊", int(plan.start[i]), {}))
        new_deadline = opened + dt.timedelta(days=int(plan.new_deadline[i]))
        leader = f"{leader_name}（区领导）" if c.green[i] else f"{leader_name}（{town_name}班子成员）"
        steps.append(("assign", "handling", leader, f"会诊定案：{leader}包案，{resp}牵头办理",
                      int(plan.assign[i]), {"leader": leader, "deadline": new_deadline}))
    else:
        steps.append(("start", "handling", writer, f"交办{resp}办理", int(plan.start[i]), {}))
    if track == "liaison":
        reply = texts.LETTER_REPLIES[pick[0]]
        steps.append(("letter_reply", None, resp, f"{c.department[i]}书面回复", int(plan.reply[i]),
                      {"letter_reply": reply}))
        if plan.explain[i]:
            steps.append(("explain", None, resp, "向群众解释说明", int(plan.reply[i]),
                          {"explanation": texts.EXPLANATIONS[pick[1]]}))
    result = texts.RESULTS[track][pick[2]]
    steps.append(("result", "result", resp, "登记办理结果", int(plan.result[i]), {"result": result}))
    k = int(plan.satisfaction[i])
    sat, sat_cn = SATISFACTION[k], texts.SATISFACTION_CN[k]
    steps.append(("feedback", "feedback", writer, f"回访群众：{sat_cn}", int(plan.feedback[i]),
                  {"satisfaction": sat, "feedback": texts.FEEDBACK[k][pick[3]]}))
    if plan.reopen[i] != NEVER:
        sat, sat_cn = SATISFACTION[0], texts.SATISFACTION_CN[0]
        steps.append(("reopen", "handling", writer, "群众不满意，重新办理", int(plan.reopen[i]),
                      {"deadline": opened + dt.timedelta(days=int(plan.redo_deadline[i])),
                       "satisfaction": None, "feedback": None}))
        steps.append(("result", "result", resp, "登记重新办理的结果", int(plan.redo_result[i]),
                      {"result": texts.RESULTS[track][(pick[2] + 1) % 3]}))
        steps.append(("feedback", "feedback", writer, f"再次回访群众：{sat_cn}",
                      int(plan.feedback2[i]),
                      {"satisfaction": sat, "feedback": texts.FEEDBACK[0][pick[3]]}))
    close = int(plan.close[i])
    steps.append(("close", "closed", writer, f"群众{sat_cn}，予以销号", close,
                  {"closed_on": opened + dt.timedelta(days=min(close, NEVER - 1))}))
    return steps
