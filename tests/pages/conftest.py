"""Page-test fixtures: the hand-made KPI district (tests/kpi_world.py) on SQLite, served to
AppTest, with the period set to the one its expected values were counted for."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.auth import sign_in
from tests.conftest import APP
from tests.kpi_world import SINCE, TODAY, KpiWorld, build_kpi_world


@pytest.fixture
def kpi_world(tmp_path, monkeypatch) -> KpiWorld:
    from minqing.store import get_engine, upgrade

    url = f"sqlite:///{tmp_path / 'kpi.db'}"
    upgrade(url)
    world = build_kpi_world(url)
    monkeypatch.setenv("MINQING_DATABASE_URL", url)
    get_engine.cache_clear()
    return world


def kpi_app(page: str | None = None, **params: str) -> AppTest:
    """The app on ``page`` with the period of the hand counts chosen, signed in as the district
    supervisor, not yet run."""
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "district_supervisor")
    at.session_state["period"] = (SINCE, TODAY)
    if page:
        at.run()
        at.switch_page(page)
    for name, value in params.items():
        at.query_params[name] = value
    return at
