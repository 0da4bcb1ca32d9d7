"""Quarterly verification: what is unfinished at quarter end, and the share verified by town."""

from __future__ import annotations

import datetime as dt

import pytest

from minqing.errors import InputError, NotFoundError, RuleError
from minqing.scope import Scope
from minqing.store import get_engine
from minqing.supervision import verification as v
from tests.conftest import AS_OF
from tests.minqing.supervision.conftest import add_case

ALL = Scope.district()
END = dt.date(2026, 9, 30)


def test_quarters():
    assert v.quarter_end("2026Q3") == END
    assert v.quarter_end("2026Q4") == dt.date(2026, 12, 31)
    assert v.last_ended_quarter(AS_OF) == "2026Q3"
    assert v.last_ended_quarter(dt.date(2026, 1, 5)) == "2025Q4"
    assert v.recent_quarters(AS_OF, 3) == ["2026Q3", "2026Q2", "2026Q1"]
    with pytest.raises(InputError):
        v.quarter_end("2026-3")


def test_unfinished_at_quarter_end_and_share(world):
    engine = get_engine(world.url)
    still_open = add_case(world, "V1", opened_on=END - dt.timedelta(days=40))
    closed_later = add_case(world, "V2", status="closed", opened_on=END - dt.timedelta(days=5),
                            closed_on=END + dt.timedelta(days=1))
    add_case(world, "V3", status="closed", opened_on=END - dt.timedelta(days=9), closed_on=END)
    add_case(world, "V4", opened_on=END + dt.timedelta(days=1))  # opened after the quarter
    items = v.unfinished_items(engine, scope=ALL, quarter="2026Q3")
    assert sorted(items["case_id"]) == sorted([still_open, closed_later])
    v.verify(engine, scope=ALL, case_id=still_open, quarter="2026Q3", verified=True,
             verifier="镇长", note="")
    with pytest.raises(InputError):  # not verified needs a note
        v.verify(engine, scope=ALL, case_id=closed_later, quarter="2026Q3", verified=False,
                 verifier="镇长")
    v.verify(engine, scope=ALL, case_id=closed_later, quarter="2026Q3", verified=False,
             verifier="镇长", note="台账与现场不符")
    with pytest.raises(RuleError):
        v.verify(engine, scope=ALL, case_id=still_open, quarter="2026Q3", verified=True,
                 verifier="书记")
    with pytest.raises(NotFoundError):  # not unfinished at that quarter end
        v.verify(engine, scope=ALL, case_id=still_open, quarter="2026Q1", verified=True,
                 verifier="书记")
    share = v.share_by_town(engine, scope=ALL, quarter="2026Q3")
    assert share[["unfinished", "checked", "verified", "share"]].values.tolist() == [[2, 2, 1, 0.5]]
    items = v.unfinished_items(engine, scope=ALL, quarter="2026Q3")
    assert dict(zip(items["case_id"], items["verified"], strict=True)) == {
        still_open: True, closed_later: False}
