"""AppTest of the data officer's page: a previewed import shown with its findings, applied or
cancelled; exports prepared for download. (AppTest cannot upload files: the plan is previewed
in the test and put in the session, as the upload button would.)"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from minqing.household_import import preview_households
from minqing.models import Household
from minqing.store import get_engine
from tests.auth import sign_in
from tests.conftest import APP
from ui.importflow import PLAN


@pytest.fixture
def app(sqlite_demo_url, monkeypatch) -> AppTest:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    get_engine.cache_clear()
    at = sign_in(AppTest.from_file(APP, default_timeout=120), "data_officer")
    at.switch_page("app_pages/data.py")
    return at


def _plan(url: str, tmp_path):
    engine = get_engine(url)
    with engine.connect() as conn:
        code = conn.scalar(select(Household.code).order_by(Household.id).limit(1))
        grid_row = conn.execute(select(Household.lon, Household.lat).order_by(Household.id)
                                .limit(1)).one()
    rows = pd.DataFrame([
        {"户编码": "NEW-1", "户主姓名": "新住户", "联系电话": "13800000000", "经度": grid_row.lon,
         "纬度": grid_row.lat},
        {"户编码": "NEW-2", "户主姓名": "", "联系电话": "1", "经度": grid_row.lon,
         "纬度": grid_row.lat},
        {"户编码": code, "户主姓名": "改名", "联系电话": "abc", "经度": grid_row.lat,
         "纬度": grid_row.lon},
    ])
    path = tmp_path / "homes.csv"
    rows.to_csv(path, index=False, encoding="gbk")
    return preview_households(engine, path)


def _count(url) -> int:
    with get_engine(url).connect() as conn:
        return conn.scalar(select(func.count()).select_from(Household))


def test_page_renders_both_tabs(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == "数据导入导出"
    assert [t.label for t in app.tabs] == ["导入", "导出"]


def test_preview_shows_findings_then_apply_writes(app, sqlite_demo_url, tmp_path):
    before = _count(sqlite_demo_url)
    app.session_state[PLAN] = _plan(sqlite_demo_url, tmp_path)
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert table["row"].tolist() == ["3", "4", "4", ""]  # a skipped row is not checked further
    assert "此行不导入" in table["action"].tolist()
    assert any("共 3 行：新增 1，更新 1" in m.value for m in app.markdown)
    next(b for b in app.button if b.label == "确认导入").click().run()
    assert not app.exception
    assert _count(sqlite_demo_url) == before + 1
    assert any("导入完成" in s.value for s in app.success)
    assert PLAN not in app.session_state


def test_cancel_changes_nothing(app, sqlite_demo_url, tmp_path):
    before = _count(sqlite_demo_url)
    app.session_state[PLAN] = _plan(sqlite_demo_url, tmp_path)
    app.run()
    next(b for b in app.button if b.label == "取消").click().run()
    assert not app.exception
    assert _count(sqlite_demo_url) == before
    assert any("未作任何改动" in i.value for i in app.info)


def test_exports_offered_as_download_buttons(app):
    app.run()
    assert not app.exception
    # built only when clicked (deferred data): AppTest sees the buttons, not the files
    assert [b.label for b in app.get("download_button")] == [
        "网格与统计（GeoPackage）", "网格与统计（GeoJSON）", "住户名单（Excel）", "在办事项（Excel）",
        "镇街排名（Excel）"]
