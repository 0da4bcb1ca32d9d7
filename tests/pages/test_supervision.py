"""AppTest of the supervision pages over a writable copy of the small demo district: the review
queue, a consultation from agenda to decision and minutes, a follow-up rectification, the
quarterly verification, and their refusals."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from minqing.models import Case, CaseEvent, DiaryReview, Meeting, MeetingItem, Verification
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from minqing.supervision import meetings, reviews
from tests.auth import sign_in, viewer_for
from tests.conftest import APP, AS_OF

ALL = Scope.district()


@pytest.fixture
def url(sqlite_demo_url, monkeypatch) -> str:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    from minqing.store import get_engine as cached

    cached.cache_clear()
    return sqlite_demo_url


def _open(page: str, role: str = "district_supervisor", **params: str) -> AppTest:
    at = sign_in(AppTest.from_file(APP, default_timeout=90), role)
    at.run()
    at.switch_page(page)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _click(at: AppTest, label: str) -> AppTest:
    (button,) = [b for b in at.button if b.label == label]
    at = button.click().run()
    assert not at.exception, at.exception
    return at


def _count(url: str, model, *where) -> int:
    with session_scope(get_engine(url)) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _busy_town(url: str) -> int:
    """The town with the longest consultation agenda."""
    engine = get_engine(url)
    sizes = {t: len(meetings.agenda(engine, scope=ALL, kind="consultation", town_id=t,
                                    today=AS_OF)) for t in (1, 2, 3)}
    return max(sizes, key=sizes.get)


def test_consultation_agenda_start_decide_and_minutes(url):
    town = _busy_town(url)
    at = _open("app_pages/consultation.py", town=str(town))
    assert any(s.value.startswith("议程") for s in at.subheader)
    at.text_input(key="start_chair_consultation").input("镇党委书记")
    at.text_input(key="start_who_consultation").input("书记、镇长、各片长")
    at = _click(at, "开始会议")
    meeting_id = int(at.query_params["meeting"][0] if isinstance(at.query_params["meeting"], list)
                     else at.query_params["meeting"])
    items = _count(url, MeetingItem, MeetingItem.meeting_id == meeting_id)
    assert items > 0
    # a decision with nothing decided is refused and nothing is written
    key = next(w.key for w in at.text_input if w.key and w.key.endswith("_leader"))
    prefix = key[: -len("_leader")]
    at = _click(at, "保存决定")
    assert at.error, "an empty decision must be refused"
    assert _count(url, MeetingItem, MeetingItem.meeting_id == meeting_id,
                  MeetingItem.event_id.is_not(None)) == 0
    at.text_input(key=f"{prefix}_leader").input("钱副镇长")
    at.text_area(key=f"{prefix}_comment").input("由钱副镇长包案督办")
    at = _click(at, "保存决定")
    assert any("已记录事项" in s.value for s in at.success)
    with session_scope(get_engine(url)) as s:
        item = s.scalars(select(MeetingItem).where(MeetingItem.meeting_id == meeting_id,
                                                   MeetingItem.event_id.is_not(None))).one()
        event = s.get(CaseEvent, item.event_id)
        # recorded as the signed-in account
        assert (event.action, event.actor) == ("decide", viewer_for("district_supervisor").label)
        assert s.get(Case, item.case_id).leader == "钱副镇长"
    minutes = "\n".join(d.value.to_string() for d in at.dataframe)
    assert "钱副镇长" in minutes
    assert at.get("download_button")
    # the past meetings list on the agenda view links to it
    at = _open("app_pages/consultation.py", town=str(town))
    past = at.dataframe[-1].value.to_string()
    assert f"meeting={meeting_id}" in past


def _area_with_queue(url: str) -> str:
    engine = get_engine(url)
    sizes = {a[0]: len(reviews.review_queue(engine, scope=ALL, area_id=a[0], today=AS_OF))
             for a in reviews.area_choices(engine, scope=ALL)}
    return str(max(sizes, key=sizes.get))


def test_review_page_passes_an_entry(url):
    at = _open("app_pages/review.py", area=_area_with_queue(url))
    entry_id = at.selectbox(key="review_entry").value
    at = _click(at, "保存审阅")
    assert any(f"已审阅第 {entry_id} 条" in s.value for s in at.success)
    with session_scope(get_engine(url)) as s:
        review = s.scalars(select(DiaryReview).where(DiaryReview.entry_id == entry_id)).one()
    assert review.outcome == "passed"
    assert review.reviewer == viewer_for("district_supervisor").label


def test_review_send_back_needs_a_request(url):
    at = _open("app_pages/review.py", area=_area_with_queue(url))
    before = _count(url, DiaryReview)
    at.radio[0].set_value("returned")
    at = _click(at, "保存审阅")
    assert any("审阅意见" in e.value for e in at.error)
    assert _count(url, DiaryReview) == before


def test_follow_up_rectification(url):
    engine = get_engine(url)
    areas = reviews.area_choices(engine, scope=ALL)
    area = max(areas, key=lambda a: len(meetings.agenda(engine, scope=ALL, kind="follow_up",
                                                        area_id=a[0], today=AS_OF)))[0]
    at = _open("app_pages/followup.py", area=str(area))
    at.text_input(key="start_chair_follow_up").input("片长")
    at = _click(at, "开始会议")
    key = next(w.key for w in at.text_area if w.key and w.key.endswith("_criticism"))
    at.text_area(key=key).input("逾期未办结，提出批评，限期整改")
    at = _click(at, "保存整改要求")
    assert any("已记录事项" in s.value for s in at.success)
    with session_scope(engine) as s:
        newest = s.scalar(select(func.max(Meeting.id)).where(Meeting.kind == "follow_up"))
        item = s.scalars(select(MeetingItem).where(MeetingItem.meeting_id == newest,
                                                   MeetingItem.rectify_by.is_not(None))).one()
        assert s.get(Case, item.case_id).rectify_by == item.rectify_by
        assert s.get(Meeting, newest).chair == "片长"


def test_verification_page(url):
    at = _open("app_pages/verification.py", quarter="2026Q3")
    assert at.selectbox(key="quarter").value == "2026Q3"
    at = _click(at, "保存核查")
    assert any(s.value.startswith("已核查") for s in at.success)
    assert _count(url, Verification, Verification.quarter == "2026Q3",
                  Verification.verifier == viewer_for("district_supervisor").label) == 1


@pytest.mark.parametrize("page", ["app_pages/consultation.py", "app_pages/followup.py"])
def test_unknown_meeting_link(url, page):
    at = _open(page, meeting="987654")
    assert any("987654" in w.value for w in at.warning)


def test_english(url):
    at = _open("app_pages/consultation.py", town="1")
    at = at.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Township consultation"


def test_scoring_published_year_and_explanation(url):
    at = _open("app_pages/scoring.py", year="2025")
    assert any("已发布" in s.value for s in at.success)
    ranking = at.dataframe[0].value
    assert ranking["名次"].tolist()[:3] == [1, 2, 3]
    assert (ranking["服务之星"] == "★").sum() == 10
    total = next(m.value for m in at.markdown if m.value.startswith("合计"))
    numbers = re.findall(r"-?\d+\.\d+", total.replace("\\", ""))
    assert len(numbers) == 2
    assert numbers[0] == numbers[1]  # the items' points add up to the score


def test_scoring_live_year_saves_criteria(url):
    at = _open("app_pages/scoring.py", year=str(AS_OF.year))
    assert any("实时计算" in i.value for i in at.info)
    at.number_input[0].set_value(2.0)
    at = _click(at, "保存评分标准")
    from minqing.supervision import scoring

    assert scoring.weights_for(get_engine(url), year=AS_OF.year).entries == 2.0


def test_kpi_page_by_grid_over_a_linked_period(url):
    at = _open("app_pages/kpis.py", level="grid", since="2026-01-01", until="2026-06-30")
    table = at.dataframe[0].value
    assert len(table) == 40  # every grid of the small demo
    assert "按期办结率" in table.columns
    assert at.query_params["since"] in ("2026-01-01", ["2026-01-01"])
    at = _open("app_pages/kpis.py", level="cadre")
    assert at.dataframe[0].value.columns[0] == "干部"


def test_grid_page_links_its_entries_awaiting_review(url):
    engine = get_engine(url)
    waiting = reviews.unreviewed_by_grid(engine, scope=ALL, today=AS_OF)
    grid_id = int(waiting.idxmax())
    at = _open("app_pages/grid.py", grid=str(grid_id))
    links = [link for link in at.get("page_link") if "待审阅日记" in link.proto.label]
    assert [link.proto.label for link in links] == [f"待审阅日记 {int(waiting.max())} 条"]


def test_a_grid_cadre_cannot_run_the_supervision_cycle(url):
    """The pages are not offered to a grid cadre, and the data layer refuses the writes too."""
    from minqing.access import AccessDenied

    engine = get_engine(url)
    cadre = viewer_for("grid_cadre").scope()
    with pytest.raises(AccessDenied):
        meetings.start_meeting(engine, scope=cadre, kind="consultation", held_on=AS_OF,
                               chair="x", attendees="", actor="x", town_id=1, today=AS_OF)
    with pytest.raises(AccessDenied):
        reviews.review_entry(engine, scope=cadre, entry_id=1, outcome="passed", reviewer="x")


def test_map_counts_entries_awaiting_review_in_the_scope(url):
    engine = get_engine(url)
    waiting = int(reviews.unreviewed_by_grid(engine, scope=Scope.town(1), today=AS_OF).sum())
    at = _open("app_pages/map.py", town="1")
    labels = [link.proto.label for link in at.get("page_link") if "待审阅日记" in link.proto.label]
    assert labels == [f"待审阅日记 {waiting:,} 条"]
