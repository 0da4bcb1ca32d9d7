"""AppTest of the quick case update a grid cadre opens from "my grids" (``/case?case=N&update=quick``)
over a copy of the small demo district: the field work only, the next move preselected, the
account and today said as presets; progress, result, feedback and close in turn; a resent
submission writes one event; a save over someone else's leaves the typed text in the form; the
receipts that say a save went through (diary entries too)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from minqing import i18n
from minqing.cases import NewCase, act
from minqing.clock import today
from minqing.diary import NewEntry, record
from minqing.grids import cadre_choices
from minqing.models import Case, CaseEvent
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.auth import sign_in, viewer_for
from tests.conftest import APP
from ui.safe import md

ALL = Scope.district()


@pytest.fixture
def url(sqlite_demo_url, monkeypatch) -> str:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    get_engine.cache_clear()
    return sqlite_demo_url


def _handling_case(url: str) -> int:
    """A case in the grid cadre's grid, opened from an entry and started: in handling."""
    engine = get_engine(url)
    grid_id = viewer_for("grid_cadre", url).jurisdiction_id
    cadre_id = cadre_choices(engine, scope=ALL, grid_id=grid_id)[0][0]
    entry = NewEntry(grid_id=grid_id, cadre_id=cadre_id, entry_date=today(), kind="demand",
                     source="house_call", text="楼道灯坏了")
    case = NewCase(grid_id=grid_id, title="楼道灯坏了", track="immediate", responsible="李干部")
    _, case_id = record(engine, entry=entry, case=case, actor="test")
    with session_scope(engine) as s:
        version = s.get(Case, case_id).version
    act(engine, case_id=case_id, version=version, action="start", actor="test")
    return case_id


def _quick(case_id: int) -> AppTest:
    """The cadre's app on the case's quick update, as the start page's link opens it."""
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "grid_cadre")
    at.run()
    (link,) = [el for el in at.get("page_link")
               if el.proto.query_string in (f"case={case_id}&update=quick",
                                            f"update=quick&case={case_id}")]
    assert link.proto.page.endswith("case")
    at.switch_page("app_pages/case.py")
    at.query_params["case"] = str(case_id)
    at.query_params["update"] = "quick"
    at.run()
    assert not at.exception, at.exception
    return at


def _picker(at: AppTest, case_id: int):
    (pills,) = [b for b in at.button_group if str(b.key).startswith(f"quick_action_{case_id}_")]
    return pills


def _form_key(at: AppTest, case_id: int, action: str) -> str:
    return next(k for k in at.session_state if str(k).startswith(f"cf_{case_id}_{action}_")
                and str(k).endswith("_comment")).removesuffix("_comment")


def _fill(at: AppTest, case_id: int, action: str, **fields: str) -> AppTest:
    """Tap the action (unless preselected) and type into its form, not yet saved."""
    pills = _picker(at, case_id)
    if pills.value != action:
        pills.set_value(action).run()
    key = _form_key(at, case_id, action)
    for name, value in fields.items():
        if name == "satisfaction":
            at.radio(key=f"{key}_{name}").set_value(value)
        elif name in ("comment", "result"):
            at.text_area(key=f"{key}_{name}").input(value)
        else:
            at.text_input(key=f"{key}_{name}").input(value)
    return at


def _save(at: AppTest) -> AppTest:
    (button,) = [b for b in at.button if str(b.key).startswith("FormSubmitter")]
    at = button.click().run()
    assert not at.exception, at.exception
    return at


def _events(url: str, case_id: int) -> list[tuple[str, int | None]]:
    with session_scope(get_engine(url)) as s:
        return list(s.execute(select(CaseEvent.action, CaseEvent.account_id)
                              .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def _saved(at: AppTest, action: str) -> bool:
    return any(f"已保存：{i18n.t(f'case.action.{action}')}" in s.value for s in at.success)


def test_progress_then_result_feedback_and_close_from_the_quick_update(url):
    case_id = _handling_case(url)
    who = viewer_for("grid_cadre", url)
    at = _quick(case_id)
    pills = _picker(at, case_id)
    assert pills.options == [i18n.t("case.action.result"), i18n.t("case.action.note")]
    assert pills.value == "result"  # the next move along the main line, preselected
    assert any(md(who.label) in c.value and str(today()) in c.value for c in at.caption), [c.value for c in at.caption]
    at = _save(_fill(at, case_id, "note", comment="已联系物业，明天换灯"))
    assert _saved(at, "note")
    assert _picker(at, case_id).value == "result"
    at = _save(_fill(at, case_id, "result", result="已换新灯"))
    assert _saved(at, "result")
    assert _picker(at, case_id).value == "feedback"
    at = _save(_fill(at, case_id, "feedback", satisfaction="satisfied"))
    assert _picker(at, case_id).value == "close"
    at = _save(at)  # close: nothing to type
    assert _saved(at, "close")
    assert [a for a, _ in _events(url, case_id)] == ["open", "start", "note", "result",
                                                     "feedback", "close"]
    assert {account for _, account in _events(url, case_id)[2:]} == {who.account_id}
    with session_scope(get_engine(url)) as s:
        case = s.get(Case, case_id)
        assert (case.status, case.result, case.satisfaction) == ("closed", "已换新灯", "satisfied")


def test_a_resent_submission_writes_one_event(url):
    """The same form sent again (its reply lost, the session still holding its key): the store
    finds the key and writes nothing; the page says it is saved."""
    case_id = _handling_case(url)
    at = _quick(case_id)
    gen = 0  # a fresh session's first form
    at = _save(_fill(at, case_id, "note", comment="电话回访"))
    with session_scope(get_engine(url)) as s:
        sent = s.scalar(select(CaseEvent.event_key).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.action == "note"))
    at.session_state["_case_gen"] = gen  # the form as it was when it was sent
    at.session_state[f"_case_key_{case_id}_{gen}"] = sent
    at.run()
    at = _save(_fill(at, case_id, "note", comment="电话回访"))
    assert _saved(at, "note")
    assert [a for a, _ in _events(url, case_id)].count("note") == 1


def test_the_next_run_says_the_last_save_was_recorded(url):
    """After a reconnect the page is drawn again: the save's receipt is still there."""
    case_id = _handling_case(url)
    at = _save(_fill(_quick(case_id), case_id, "note", comment="电话回访"))
    assert _saved(at, "note")
    at.run()
    assert any("「添加备注」已经记录" in i.value and "无需重新提交" in i.value for i in at.info)
    assert not at.success


def test_a_quick_save_over_someone_elses_is_refused_with_the_text_kept(url):
    case_id = _handling_case(url)
    mine = _fill(_quick(case_id), case_id, "result", result="已换新灯")
    with session_scope(get_engine(url)) as s:
        version = s.get(Case, case_id).version
    act(get_engine(url), case_id=case_id, version=version, action="result", actor="甲",
        result="物业已修好")  # someone else recorded the result first: "result" is gone
    mine = _save(mine)
    assert any("已被他人修改" in e.value for e in mine.error)
    assert _picker(mine, case_id).value == "result"
    assert [t.value for t in mine.text_area if t.value == "已换新灯"], "typed text was lost"
    assert [a for a, _ in _events(url, case_id)].count("result") == 1


def test_a_diary_save_leaves_a_receipt(url):
    grid_id = viewer_for("grid_cadre", url).jurisdiction_id
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "grid_cadre")
    at.run()
    at.switch_page("app_pages/grid.py")
    at.query_params["grid"] = str(grid_id)
    at.query_params["entry"] = "new"
    at.run()
    at.text_area(key="d_text_0").input("收据测试：一条日记")
    (button,) = [b for b in at.button if b.label == "保存日记"]
    at = button.click().run()
    assert any("日记已保存" in s.value for s in at.success)
    at.run()
    assert any("民情日记已经记录" in i.value for i in at.info)
    assert at.text_area(key="d_text_1").value in ("", None)  # the next, blank form
