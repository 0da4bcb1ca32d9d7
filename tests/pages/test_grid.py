"""AppTest of the grid, case and household pages over a writable copy of the small demo district:
the diary form (with "turn into a case"), refusals that keep the form, bad deep links, a case
action, the concurrent-save conflict, and the family archive."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from minqing import i18n
from minqing.cases import NewCase, open_case
from minqing.grids import grid_choices, group_leader
from minqing.households import household_choices
from minqing.models import Case, CaseEvent, DiaryEntry, Grid
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.auth import sign_in, viewer_for
from tests.conftest import APP, AS_OF

ALL = Scope.district()


@pytest.fixture
def url(sqlite_demo_url, monkeypatch) -> str:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    from minqing.store import get_engine as cached

    cached.cache_clear()
    return sqlite_demo_url


def _app() -> AppTest:
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "district_supervisor")
    at.run()
    return at


def _open_page(page: str, **params: str) -> AppTest:
    at = _app()
    at.switch_page(page)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _a_grid(url: str) -> tuple[int, str]:
    """A grid with a service-group leader (so the diary form has a writer): (id, leader name)."""
    engine = get_engine(url)
    for grid_id, _label in grid_choices(engine, scope=ALL):
        leader = group_leader(engine, scope=ALL, grid_id=grid_id)
        if leader and household_choices(engine, scope=ALL, grid_id=grid_id):
            return grid_id, leader[1]
    raise AssertionError("the demo has no grid with a service group")


def _count(url: str, model, *where) -> int:
    with session_scope(get_engine(url)) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _submit(at: AppTest, label: str) -> AppTest:
    (button,) = [b for b in at.button if b.label == label]
    return button.click().run()


def test_grid_page_shows_profile_group_backlog_and_diary(url):
    grid_id, leader = _a_grid(url)
    at = _open_page("app_pages/grid.py", grid=str(grid_id))
    labels = {m.label for m in at.metric}
    assert {"住户", "人口", "五保户", "低保户", "在办事项", "超期事项"} <= labels
    frames = [d.value for d in at.dataframe]
    assert any(leader in frame.to_string() for frame in frames), "service group not shown"
    assert next(t.label for t in at.tabs).endswith("写民情日记")


def test_diary_entry_turned_into_a_case_appears_in_backlog_and_timeline(url):
    grid_id, leader = _a_grid(url)
    at = _open_page("app_pages/grid.py", grid=str(grid_id))
    text = "测试：村口排水沟堵塞，雨天积水"
    at.text_area(key="d_text_0").input(text)
    at.checkbox(key="d_as_case_0").check()
    at.text_input(key="d_title_0").input("疏通村口排水沟")
    at.selectbox(key="d_track_0").set_value("supervised")
    at = _submit(at, "保存日记")
    assert not at.exception, at.exception
    assert any("已登记为事项" in s.value for s in at.success)
    with session_scope(get_engine(url)) as s:
        entry = s.scalars(select(DiaryEntry).where(DiaryEntry.text == text)).one()
        case = s.scalars(select(Case).where(Case.diary_entry_id == entry.id)).one()
        assert (entry.grid_id, case.grid_id, case.track) == (grid_id, grid_id, "supervised")
        assert case.responsible == leader
    shown = "\n".join(d.value.to_string() for d in at.dataframe)
    assert "疏通村口排水沟" in shown  # backlog
    assert text in shown  # timeline
    assert at.text_area(key="d_text_1").value == ""  # a fresh form for the next entry


def test_refused_case_keeps_what_was_typed_and_writes_nothing(url):
    grid_id, _ = _a_grid(url)
    at = _open_page("app_pages/grid.py", grid=str(grid_id))
    before = _count(url, DiaryEntry)
    text = "测试：要求修缮村道，承诺年底前完成"
    at.text_area(key="d_text_0").input(text)
    at.checkbox(key="d_as_case_0").check()
    at.selectbox(key="d_track_0").set_value("promised")
    at = _submit(at, "保存日记")
    assert not at.exception
    assert any("承诺办事项必须填写承诺办结日期" in e.value for e in at.error)
    assert at.text_area(key="d_text_0").value == text
    assert _count(url, DiaryEntry) == before


def test_deputies_reception_needs_its_counts(url):
    grid_id, _ = _a_grid(url)
    at = _open_page("app_pages/grid.py", grid=str(grid_id))
    at.text_area(key="d_text_0").input("两代表一委员进网格接待")
    at.selectbox(key="d_source_0").set_value("deputies")
    at = _submit(at, "保存日记")
    assert any("接待群众人数" in e.value for e in at.error)
    at.number_input(key="d_people_0").set_value(23)
    at.number_input(key="d_opinions_0").set_value(9)
    at = _submit(at, "保存日记")
    assert not at.error
    with session_scope(get_engine(url)) as s:
        entry = s.scalars(select(DiaryEntry).where(DiaryEntry.source == "deputies")
                          .order_by(DiaryEntry.id.desc())).first()
        assert (entry.people_received, entry.opinions_taken) == (23, 9)


@pytest.mark.parametrize(("value", "message"), [
    ("abc", "找不到网格 abc"), ("999999", "找不到网格 999999"), ("-1", "找不到网格"),
    ("99999999999999999999", "找不到网格 99999999999999999999"),
    ("18446744073709551616", "找不到网格"),
])
def test_bad_grid_links_get_a_friendly_message(url, value, message):
    at = _open_page("app_pages/grid.py", grid=value)
    assert any(message in w.value for w in at.warning)


def test_look_alike_ids_do_not_open_the_grid_they_resemble(url):
    """``int()`` reads 1_2_0, full-width digits and padded text as a number: the page must not."""
    with session_scope(get_engine(url)) as s:
        digits = str(s.scalar(select(func.max(Grid.id))))
    assert len(digits) >= 2
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in digits)
    for value in (f"{digits[0]}_{digits[1:]}", full_width, f" {digits}", f"+{digits}", f"{digits}.0"):
        at = _open_page("app_pages/grid.py", grid=value)
        assert any("找不到网格" in w.value for w in at.warning), value
        assert not at.title or at.title[0].value == "网格详情", value


def test_no_grid_link_offers_a_picker(url):
    at = _open_page("app_pages/grid.py")
    assert any(s.label == "选择网格" for s in at.selectbox)


def _registered_case(url: str) -> Case:
    grid_id, leader = _a_grid(url)
    with session_scope(get_engine(url)) as s:
        return open_case(s, new=NewCase(grid_id=grid_id, title="测试：路灯不亮", track="immediate",
                                        responsible=leader), actor=leader, today=AS_OF)


def _fill(at: AppTest, case_id: int, action: str, **fields: str) -> AppTest:
    """Choose the action (a rerun, as in the browser) and type into its form, not yet saved."""
    box = at.selectbox(key=f"action_{case_id}")
    assert i18n.t(f"case.action.{action}") in box.options
    box.set_value(action).run()
    key = next(k for k in at.session_state if str(k).startswith(f"cf_{case_id}_{action}_")
               and str(k).endswith("_comment")).removesuffix("_comment")
    for name, value in fields.items():
        widget = at.text_area if name in ("comment", "result") else at.text_input
        widget(key=f"{key}_{name}").input(value)
    return at


def _save(at: AppTest) -> AppTest:
    (button,) = [b for b in at.button if str(b.key).startswith("FormSubmitter")]
    return button.click().run()


def _act(at: AppTest, case_id: int, action: str, **fields: str) -> AppTest:
    return _save(_fill(at, case_id, action, **fields))


def test_case_page_moves_the_case_and_shows_its_history(url):
    case = _registered_case(url)
    at = _open_page("app_pages/case.py", case=str(case.id))
    assert any("测试：路灯不亮" in t.value for t in at.title)
    at = _act(at, case.id, "start")
    assert not at.exception
    assert any("已保存" in s.value for s in at.success)
    history = at.dataframe[-1].value
    assert list(history["经办人"])[-1] == viewer_for("district_supervisor", url).label
    assert list(history["状态变化"])[-1] == "已登记 → 办理中"


def test_second_concurrent_save_is_refused_with_a_clear_message(url):
    case = _registered_case(url)
    first = _open_page("app_pages/case.py", case=str(case.id))
    second = _fill(_open_page("app_pages/case.py", case=str(case.id)), case.id, "escalate",
                   comment="需要会诊")
    first = _act(first, case.id, "start")
    assert not first.error
    second = _save(second)
    assert any("已被他人修改" in e.value for e in second.error)
    assert [t.value for t in second.text_area if t.value == "需要会诊"], "typed text was lost"
    assert _count(url, CaseEvent, CaseEvent.case_id == case.id) == 2  # register + start only


def test_household_page_shows_the_family_archive(url):
    grid_id, _ = _a_grid(url)
    household_id, label = household_choices(get_engine(url), scope=ALL, grid_id=grid_id)[0]
    at = _open_page("app_pages/household.py", household=str(household_id))
    assert any(label.split(" · ")[0] in t.value for t in at.title)
    assert any("户主" in d.value.to_string() for d in at.dataframe)


@pytest.mark.parametrize(("page", "param"), [("app_pages/case.py", "case"),
                                             ("app_pages/household.py", "household")])
def test_bad_case_and_household_links_get_a_friendly_message(url, page, param):
    for value in ("abc", "99999999"):
        at = _open_page(page, **{param: value})
        assert at.warning, value


def test_blank_text_with_a_case_is_refused_not_crashed(url):
    grid_id, _ = _a_grid(url)
    at = _open_page("app_pages/grid.py", grid=str(grid_id))
    at.text_area(key="d_text_0").input("   ")
    at.checkbox(key="d_as_case_0").check()
    at = _submit(at, "保存日记")
    assert not at.exception
    assert any("内容" in e.value for e in at.error)


def _case_at(url: str, status: str) -> Case:
    """A registered case moved along its track until it is in ``status`` (feedback: satisfied)."""
    case = _registered_case(url)
    from minqing.cases import act

    steps = {"handling": [("start", {})], "result": [("start", {}), ("result", {"result": "已修好"})],
             "feedback": [("start", {}), ("result", {"result": "已修好"}),
                          ("feedback", {"satisfaction": "satisfied"})]}[status]
    version = case.version
    for action, fields in steps:
        version = act(get_engine(url), case_id=case.id, version=version, action=action,
                      actor="甲", today=AS_OF, **fields).version
    return case


def test_a_save_that_took_away_the_action_ends_in_the_conflict_message_with_input_kept(url):
    """A closes the case; B, who had the close form open, submits it too."""
    case = _case_at(url, "feedback")
    first = _open_page("app_pages/case.py", case=str(case.id))
    second = _fill(_open_page("app_pages/case.py", case=str(case.id)), case.id, "close",
                   comment="群众满意，同意销号")
    first = _act(first, case.id, "close")
    assert not first.error
    second = _save(second)
    assert not second.exception
    assert any("已被他人修改" in e.value for e in second.error)
    assert second.selectbox(key=f"action_{case.id}").value == "close"
    assert [t.value for t in second.text_area if t.value == "群众满意，同意销号"], "comment lost"
    assert _count(url, CaseEvent, CaseEvent.case_id == case.id, CaseEvent.action == "close") == 1
