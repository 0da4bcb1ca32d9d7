"""Year-end scoring on the hand-made district of tests/kpi_world.py: every item counted by hand,
explanations summing to the score, configured weights, stars and publication."""

from __future__ import annotations

import math

import pytest

from minqing.errors import InputError
from minqing.scope import Scope
from minqing.store import get_engine
from minqing.supervision import scoring
from tests.kpi_world import TODAY, build_kpi_world

ALL = Scope.district()


@pytest.fixture
def kw(db_url):
    return build_kpi_world(db_url)


def test_items_scores_and_ranking_by_hand(kw):
    engine = get_engine(kw.url)
    table = scoring.compute(engine, scope=ALL, year=2026, today=TODAY).set_index("name")
    # 2026 by cadre (cases count for the writer of their entry), counted from kpi_world:
    # K1: e1 e2 e4; solved c1 c2; due c1 (on time) c2 (late); both satisfied; e1 passed review
    # K2: e3; solved c5; due c5 on time, satisfied; e3 passed
    # K3: e5; due c6 (open, overdue, resident unsatisfied); nothing passed
    k1, k2, k3 = (table.loc[f"干部{k}"] for k in ("K1", "K2", "K3"))
    assert [k1[i] for i in scoring.ITEMS] == [3, 2, 0.5, 1.0, 1, 1]
    assert [k2[i] for i in scoring.ITEMS] == [1, 1, 1.0, 1.0, 1, 0]
    assert [k3[i] for i in scoring.ITEMS] == [1, 0, 0.0, 0.0, 0, 1]
    # default weights 0.5 / 1 / 0.3 per point / 0.2 per point / 0.2 / -2
    assert (k1.score, k2.score, k3.score) == (36.7, 51.7, -1.5)
    assert list(table.index[:3]) == ["干部K2", "干部K1", "干部K3"]
    assert list(table["rank"]) == [1, 2, 3]


def test_explanation_sums_to_the_score(kw):
    engine = get_engine(kw.url)
    table = scoring.compute(engine, scope=ALL, year=2026, today=TODAY)
    for row in table.to_dict("records"):
        items = scoring.explain(row)
        assert math.isclose(items["points"].sum(), row["score"], abs_tol=1e-9)
    k1 = table[table["name"] == "干部K1"].iloc[0]
    items = scoring.explain(k1).set_index("item")
    assert items.loc["on_time", "points"] == 15.0
    assert items.loc["late", "points"] == -2.0


def test_configured_weights_stars_and_publication(kw):
    engine = get_engine(kw.url)
    with pytest.raises(InputError):
        scoring.save_weights(engine, year=2026, weights=scoring.Weights(late=1.0), actor="书记")
    scoring.save_weights(engine, year=2026, actor="书记",
                         weights=scoring.Weights(entries=10, solved=0, on_time=0, satisfaction=0,
                                                 reviews=0, late=0, stars=1))
    table = scoring.compute(engine, scope=ALL, year=2026, today=TODAY)
    # entries only: K1 has 3 entries (30 points); K2 and K3 tie on 10, K2 first by id
    assert table[["name", "score", "star"]].values.tolist() == [
        ["干部K1", 30.0, True], ["干部K2", 10.0, False], ["干部K3", 10.0, False]]
    assert scoring.published(engine, scope=ALL, year=2026) is None
    assert scoring.publish(engine, scope=ALL, year=2026, today=TODAY) == 3
    frozen, weights = scoring.published(engine, scope=ALL, year=2026)
    assert weights.entries == 10
    assert frozen["name"].tolist() == ["干部K1", "干部K2", "干部K3"]
    assert math.isclose(scoring.explain(frozen.iloc[0], weights=weights)["points"].sum(), 30.0)
