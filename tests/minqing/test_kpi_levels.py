"""evaluate_levels (every level at once, summed up from the finest grain) gives exactly what
evaluate gives level by level: on the hand-made district and on the small demo."""

from __future__ import annotations

import pandas as pd
import pytest

from minqing import kpi
from minqing.scope import Scope
from minqing.store import get_engine
from tests.conftest import AS_OF
from tests.kpi_world import SINCE, TODAY, build_kpi_world


def _same(engine, scope, since, until, today):
    both = kpi.evaluate_levels(engine, scope=scope, since=since, until=until, today=today)
    for level in kpi.LEVELS:
        one = kpi.evaluate(engine, scope=scope, by=level, since=since, until=until, today=today)
        pd.testing.assert_frame_equal(both[level], one[both[level].columns], check_like=False,
                                      check_dtype=False)


def test_levels_on_the_hand_made_district(db_url):
    world = build_kpi_world(db_url)
    engine = get_engine(world.url)
    _same(engine, Scope.district(), SINCE, TODAY, TODAY)
    _same(engine, Scope.town(world.ids["T1"]), SINCE, TODAY, TODAY)
    hand = kpi.evaluate_levels(engine, scope=Scope.district(), levels=["cadre"],
                               kpis=["cases_due", "late_cases"], since=SINCE, until=TODAY,
                               today=TODAY)["cadre"]
    # K1: c1 (on time) and c2 (late) due; K3: c6 overdue
    assert hand.loc[world.ids["K1"], ["cases_due", "late_cases"]].tolist() == [2, 1]
    assert hand.loc[world.ids["K3"], ["cases_due", "late_cases"]].tolist() == [1, 1]


@pytest.mark.parametrize("scope", [Scope.district(), Scope.town(2)])
def test_levels_on_the_small_demo(demo_db_url, scope):
    _same(get_engine(demo_db_url), scope, AS_OF.replace(month=1, day=1), AS_OF, AS_OF)
