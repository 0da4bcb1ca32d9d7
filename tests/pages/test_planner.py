"""AppTest of the planner page over a writable copy of the small demo district: the bounds check,
a proposal, a hand edit with its live preview, publishing, restoring, pairings and bounds."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from minqing import i18n, layers
from minqing.models import Household
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import sign_in
from tests.conftest import APP

PAGE = "app_pages/planner.py"


def t(key: str, **fmt) -> str:
    return i18n.t(key, "zh", **fmt)


@pytest.fixture
def url(sqlite_demo_url, monkeypatch) -> str:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    from minqing.store import get_engine as cached

    cached.cache_clear()
    return sqlite_demo_url


def _open(role: str = "planner") -> AppTest:
    at = sign_in(AppTest.from_file(APP, default_timeout=120), role)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_check_lists_towns_and_grids_out_of_bounds(url):
    at = _open()
    assert at.title[0].value == t("plan.title")
    assert [tab.label for tab in at.tabs] == [t(f"plan.tab.{k}") for k in
                                               ("check", "propose", "pairings", "versions",
                                                "bounds")]
    towns = at.dataframe[0].value
    assert len(towns) == 3  # the small demo's towns
    assert towns["out_of_bounds"].sum() >= 1
    assert any(t("plan.check.off", n=0)[:6] in m.value for m in at.markdown)
    assert t("plan.none_yet") in [i.value for i in at.info]


def test_propose_edit_publish_restore(url):
    at = _open()
    form_submit = _button(at, t("plan.propose"))
    form_submit.click().run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert t("plan.sum.moved") in labels
    moved = int(next(m.value for m in at.metric if m.label == t("plan.sum.moved")).replace(",", ""))
    assert moved > 0
    # hand edit: pick a block of 3 households; the preview shows both grids before applying
    at.number_input(key="plan_edit_block").set_value(3).run()
    assert len(at.multiselect(key="plan_edit_pick").value) == 3
    preview = next(d.value for d in at.dataframe if "now" in d.value.columns)
    assert len(preview) == 2
    assert (preview["after"] - preview["now"]).abs().tolist() == [3, 3]
    _button(at, t("plan.edit.apply")).click().run()
    assert not at.exception, at.exception
    after_edit = int(next(m.value for m in at.metric
                          if m.label == t("plan.sum.moved")).replace(",", ""))
    assert after_edit != moved  # the hand edit is part of the proposal now
    # publish (needs who and why); the edit may leave a grid out of bounds: allowed, as shown
    engine = get_engine(url)
    v1 = layers.current_layer(engine)
    at.text_area[-1].set_value("会议通过")
    _button(at, t("plan.publish.go")).click().run()
    assert not at.exception, at.exception
    current = layers.current_layer(engine)
    assert current.number == 2
    assert [s.value for s in at.success][-1].startswith(t("plan.publish.done", number=2,
                                                          moved=0)[:8])
    # restore version 1 from the versions tab
    at.selectbox(key="plan_ver_pick").set_value(v1.number).run()
    at.text_area[-1].set_value("撤回")
    _button(at, t("plan.ver.restore")).click().run()
    assert not at.exception, at.exception
    assert layers.current_layer(engine).id == v1.id
    events = layers.layer_events(engine)
    assert events["action"].tolist()[:3] == ["restore", "publish", "create"]
    assert set(events["actor"].tolist()[:3]) == {"规划员（演示） (planner)"}  # the signed-in planner
    with engine.connect() as conn:
        assert conn.scalar(select(Household.id).limit(1)) is not None


def test_restore_only_one_town_from_the_versions_tab(url):
    at = _open()
    _button(at, t("plan.propose")).click().run()
    compare = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert "group" in compare.columns  # what happens to each grid's service group
    assert t("plan.group.rule") in [c.value for c in at.caption]
    engine = get_engine(url)
    v1 = layers.current_layer(engine)
    at.text_area[-1].set_value("会议通过")
    _button(at, t("plan.publish.go")).click().run()
    assert not at.exception, at.exception
    assert t("plan.publish.groups", dissolved=0, created=0, returned=0, backbone=0)[:4] in [
        i.value[:4] for i in at.info]
    old = layers.layer_assignment(engine, layer_id=v1.id, scope=Scope.district())
    old = dict(zip(old["household_id"], old["grid_id"], strict=True))
    with engine.connect() as conn:
        homes = conn.execute(select(Household.id, Household.grid_id, Household.town_id)).all()
    town = next(t_ for h, g, t_ in homes if old[h] != g)  # the town the plan changed
    at.selectbox(key="plan_ver_pick").set_value(v1.number).run()
    at.selectbox(key="plan_ver_town").set_value(town).run()
    at.radio(key="plan_ver_whole").set_value(False)  # inside the form: sent on submit
    at.text_area[-1].set_value("撤回本镇")
    _button(at, t("plan.ver.restore")).click().run()
    assert not at.exception, at.exception
    current = layers.current_layer(engine)
    assert (current.number, current.source) == (3, "restore")
    with engine.connect() as conn:
        now = dict(conn.execute(select(Household.id, Household.grid_id)
                                .where(Household.town_id == town)).all())
    assert now == {h: old[h] for h in now}


def test_publish_without_a_reason_is_refused_with_a_message(url):
    at = _open()
    _button(at, t("plan.propose")).click().run()
    _button(at, t("plan.publish.go")).click().run()
    assert [e.value for e in at.error] == [t("layers.error.reason")]
    assert layers.current_layer(get_engine(url)).number == 1


def test_bounds_are_saved_from_the_page(url):
    at = _open()
    at.number_input(key="plan_b_grid.rural_lo").set_value(60)
    _button(at, t("plan.bounds.save")).click().run()
    assert not at.exception, at.exception
    assert t("plan.bounds.saved") in [s.value for s in at.success]
    from minqing.sizing import load_bounds

    assert load_bounds(get_engine(url)).grid("rural") == (60, 150)


def test_other_roles_are_not_offered_the_planner(url):
    at = sign_in(AppTest.from_file(APP, default_timeout=120), "town_supervisor")
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


def test_english(url):
    at = sign_in(AppTest.from_file(APP, default_timeout=120), "planner")
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == i18n.t("plan.title", "en")
