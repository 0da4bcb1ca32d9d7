"""Two app processes on one PostgreSQL, as README's multi-process recipe runs them: B has the
close form of a case open in one process while A closes the case through the other; B's save
ends in the conflict message with B's typed comment still in the form.

Needs MINQING_TEST_PG_URL (CI sets it); skipped otherwise."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from minqing.cases import act
from minqing.models import Case, CaseEvent
from minqing.store import get_engine, session_scope
from tests.browser.conftest import LOCAL_HOSTS, start_app, wait_for_app
from tests.conftest import AS_OF, PG_URL

pytestmark = pytest.mark.browser
CLOSE = "销号"


@pytest.fixture(scope="module")
def pg_demo():
    if not PG_URL:
        pytest.skip("MINQING_TEST_PG_URL not set")
    from minqing.demo import build
    from tests.conftest import _drop_database, _new_database

    url = _new_database("postgis", None)
    build(url, scale="small", seed=5, as_of=AS_OF, progress=False)
    engine = get_engine(url)
    with session_scope(engine) as s:
        case = s.scalars(select(Case).where(Case.status == "handling", Case.track == "immediate")
                         .order_by(Case.id)).first()
        case_id, version = case.id, case.version
    version = act(engine, case_id=case_id, version=version, action="result", actor="甲",
                  result="已修好", today=AS_OF).version
    act(engine, case_id=case_id, version=version, action="feedback", actor="甲",
        satisfaction="satisfied", today=AS_OF)
    engine.dispose()
    apps = [start_app(url), start_app(url)]
    yield url, case_id, [base for _, base in apps]
    for proc, _ in apps:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    _drop_database(url)


def _open_close_form(page, base: str, case_id: int) -> None:
    page.goto(f"{base}/case?case={case_id}")
    page.locator("h1").first.wait_for()
    wait_for_app(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="操作").click()
    page.get_by_role("option", name=CLOSE, exact=True).click()
    wait_for_app(page)
    page.wait_for_timeout(500)


def test_two_processes_one_postgres_the_second_close_gets_the_conflict_message(browser, pg_demo):
    url, case_id, (base_a, base_b) = pg_demo
    contexts = [browser.new_context(viewport={"width": 1400, "height": 900}) for _ in range(2)]
    outside: list[str] = []
    for context in contexts:
        context.route("**/*", lambda route: (
            route.continue_() if (urlparse(route.request.url).hostname or "") in LOCAL_HOSTS
            or route.request.url.startswith(("data:", "blob:", "about:"))
            else (outside.append(route.request.url), route.abort())))
    from tests.auth import session_cookie

    for context, base in zip(contexts, (base_a, base_b), strict=True):
        context.add_cookies([session_cookie("district_supervisor", url, base)])
    a, b = (context.new_page() for context in contexts)
    try:
        for page in (a, b):
            page.set_default_timeout(60_000)
        _open_close_form(b, base_b, case_id)
        b.locator("textarea").last.fill("群众满意，同意销号")

        _open_close_form(a, base_a, case_id)
        a.get_by_role("button", name=CLOSE, exact=True).click()
        a.get_by_text(f"已保存：{CLOSE}").wait_for()

        b.get_by_role("button", name=CLOSE, exact=True).click()
        b.get_by_text(re.compile("已被他人修改")).wait_for()
        wait_for_app(b)
        assert b.locator("textarea").last.input_value() == "群众满意，同意销号"
        with session_scope(get_engine(url)) as s:
            closes = s.scalars(select(CaseEvent.actor).where(
                CaseEvent.case_id == case_id, CaseEvent.action == "close")).all()
        assert len(closes) == 1
        assert outside == []
    finally:
        for context in contexts:
            context.close()
