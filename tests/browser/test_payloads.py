"""Hostile text through every stored field and every page, in Chromium: it must show as typed.

Every free-text column the pages show (names, codes, phones, addresses, titles, the case's
people and letter fields, comments, diary text, services) is overwritten with a payload of HTML,
markdown links and images, Streamlit's colour/icon directives, emoji shortcodes, typographic
``--``/``->``, bare URLs and e-mail addresses, maths and bidi overrides; a link carries one too.
On every page: no element, link, image or style comes out of it, no bidi control reaches the
screen, no outside request is made, and the values read exactly as typed.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select, update

from minqing import models as m
from minqing.store import get_engine, session_scope
from minqing.text import strip_bidi
from tests.browser.conftest import ARTIFACTS, start_app, wait_for_app
from tests.browser.payloads import OUTSIDE, PAYLOADS, shown

pytestmark = pytest.mark.browser

MARK = "ZQX"
#: One line holding every trick (fits the 64-character columns' worth of danger in one go).
LINE = (f"{MARK} <b>b</b> [Session expired]({OUTSIDE}/l) ![p]({OUTSIDE}/p.png) :red[r] "
        f":material/warning: :smile: :streamlit: a -- b -> c {OUTSIDE}/x www.example.invalid "
        f"m@example.invalid **s** `c` $x$ \u202eevil\u202c")
#: Spreadsheet formulas a resident's words could start with (formula injection).
FORMULAS = ('=HYPERLINK("http://example.invalid/x","click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)",
            "-2+3")
#: Long text fields get every payload, one per line (headings, lists, code blocks, tables too).
BLOCK = "\n".join(f"{MARK}{i} {p}" for i, p in enumerate(PAYLOADS))

_CHECK = """(mark) => {
  const bad = [];
  // st.title/st.subheader: the heading itself and its text span are the widget, not the payload
  const isHeadingRoot = (e) => e.closest('[data-testid=stHeading]')
      && (/^H[1-6]$/.test(e.tagName) || e.hasAttribute('data-heading-text'));
  for (const box of document.querySelectorAll('[data-testid=stMarkdownContainer]')) {
    for (const e of box.querySelectorAll('*')) {
      if (['P', 'BR', 'DIV'].includes(e.tagName) || isHeadingRoot(e)) continue;
      if (e.textContent.includes(mark) || e.tagName === 'IMG')
        bad.push(e.tagName + ': ' + e.outerHTML.slice(0, 160));
    }
  }
  for (const e of document.querySelectorAll('a[href*="example.invalid"], img[src*="example.invalid"], [style*="example.invalid"]'))
    bad.push('outside: ' + e.outerHTML.slice(0, 160));
  if (/[\\u202a-\\u202e\\u2066-\\u2069]/.test(document.body.innerText)) bad.push('bidi control shown');
  return bad;
}"""


def _poison(url: str) -> dict[str, int]:
    """Overwrite the shown text columns; one liaison, green-channel case gets every case field."""
    engine = get_engine(url)
    with session_scope(engine) as s:
        case = s.scalars(select(m.Case).where(m.Case.household_id.is_not(None))
                         .order_by(m.Case.id)).first()
        ids = {"case": case.id, "grid": case.grid_id, "household": case.household_id}
        line, block = LINE, BLOCK
        for model, columns in {
            m.Town: ("name",), m.Area: ("name", "head_name"), m.Grid: ("name",),
            m.Household: ("head_name", "phone", "id_number", "address"),
            m.HouseholdMember: ("name",), m.Cadre: ("name", "phone", "unit"),
            m.GroupMember: ("name", "phone"), m.HouseholdService: ("description",),
            m.CaseEvent: ("actor",),
        }.items():
            s.execute(update(model).values(dict.fromkeys(columns, line)))
        s.execute(update(m.DiaryEntry).values(text=block))
        s.execute(update(m.CaseEvent).values(comment=block))
        s.execute(update(m.Case).values(title=line, responsible=line, leader=line))
        s.execute(update(m.Grid).where(m.Grid.id == case.grid_id).values(code=f"{MARK}-g`*x*`"))
        s.execute(update(m.Household).where(m.Household.id == case.household_id)
                  .values(code=f"{MARK}-h[l](x)"))
        case.track, case.green_channel, case.status = "liaison", True, "handling"
        case.department, case.letter_no = line, f"{MARK}:red[n]"
        for field in ("letter_reply", "explanation", "result", "feedback"):
            setattr(case, field, block)
        newest = s.scalars(select(m.DiaryEntry.id).where(m.DiaryEntry.grid_id == case.grid_id)
                           .order_by(m.DiaryEntry.entry_date.desc(), m.DiaryEntry.id.desc())
                           .limit(len(FORMULAS))).all()
        for entry_id, formula in zip(newest, FORMULAS, strict=True):
            s.execute(update(m.DiaryEntry).where(m.DiaryEntry.id == entry_id).values(text=formula))
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    from minqing.demo import build
    from tests.conftest import AS_OF

    url = f"sqlite:///{tmp_path_factory.mktemp('payloads') / 'demo.db'}"
    build(url, scale="small", seed=11, as_of=AS_OF, progress=False)
    ids = _poison(url)
    proc, base = start_app(url)
    yield base, ids, url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _signed_in(page, base: str, url: str) -> None:
    from tests.auth import session_cookie

    if not page.context.cookies():
        page.context.add_cookies([session_cookie("district_supervisor", url, base)])


def _visit(page, address: str, ready: str) -> str:
    page.goto(address)
    page.locator(ready).first.wait_for()
    wait_for_app(page)
    page.wait_for_timeout(800)
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0, address
    assert page.get_by_text("Page not found").count() == 0, address
    bad = page.evaluate(_CHECK, MARK)
    assert bad == [], f"{address}: {bad[:5]}"
    return page.evaluate("() => document.body.innerText").replace("\u2060", "")


def test_stored_payloads_show_as_typed_on_every_page(page, poisoned):
    base, ids, url = poisoned
    _signed_in(page, base, url)
    typed = shown(LINE)
    pages = {
        f"{base}/": "[data-testid='stMetric']",
        f"{base}/overview": "[data-testid='stMetric']",
        f"{base}/map": "[data-testid='stPageLink']",
        f"{base}/grid?grid={ids['grid']}": "h1",
        f"{base}/case?case={ids['case']}": "h1",
        f"{base}/household?household={ids['household']}": "h1",
        f"{base}/grid": "[data-testid='stSelectbox']",
    }
    texts = {}
    for address, ready in pages.items():
        texts[address] = _visit(page, address, ready)
        page.screenshot(path=ARTIFACTS / f"payload-{len(texts)}.png", full_page=True)
    for address in list(pages)[2:6]:
        assert typed in texts[address], f"{address} does not show the name as typed"
    case_text = texts[f"{base}/case?case={ids['case']}"]
    assert case_text.count(typed) >= 2  # the title and the green-channel banner at least
    assert page.blocked_requests == []


def test_a_link_carrying_a_payload_names_it_as_typed(page, poisoned):
    base, _, url = poisoned
    _signed_in(page, base, url)
    for name in ("grid", "case", "household"):
        text = _visit(page, f"{base}/{name}?{name}=%5Bx%5D(http%3A%2F%2Fexample.invalid)%20--%20:red%5Bz%5D",
                      "[data-testid='stAlert']")
        assert "[x](http://example.invalid) -- :red[z]" in text
    assert page.blocked_requests == []


def test_typed_payload_in_the_diary_form_is_stored_without_bidi(page, poisoned):
    base, ids, url = poisoned
    _signed_in(page, base, url)
    _visit(page, f"{base}/grid?grid={ids['grid']}", "h1")
    page.get_by_role("tab").nth(0).click()
    page.locator("textarea").first.fill(BLOCK)
    page.get_by_role("button", name="保存日记").click()
    page.get_by_text("日记已保存").first.wait_for()
    wait_for_app(page)
    assert page.evaluate(_CHECK, MARK) == []
    assert page.blocked_requests == []
    with session_scope(get_engine(url)) as s:
        stored = s.scalar(select(m.DiaryEntry.text).order_by(m.DiaryEntry.id.desc()).limit(1))
    assert stored == strip_bidi(BLOCK).strip()


def test_downloads_hold_no_live_formula(page, poisoned):
    """Streamlit's own table download is off; the project's Excel and CSV keep formulas as text."""
    import csv
    import io

    from openpyxl import load_workbook

    base, ids, url = poisoned
    _signed_in(page, base, url)
    _visit(page, f"{base}/grid?grid={ids['grid']}", "h1")
    page.get_by_role("tab").nth(2).click()
    table = page.locator("[data-testid='stDataFrame']:visible").last
    table.hover()
    page.wait_for_timeout(300)
    toolbar = page.locator("[data-testid='stElementToolbar']")
    assert toolbar.get_by_role("button", name=re.compile("download", re.I)).count() == 0
    with page.expect_download() as got:
        page.get_by_role("button", name="导出 CSV").filter(visible=True).last.click()
    rows = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8-sig"))))
    texts = [row[3] for row in rows[1:]]
    for formula in FORMULAS:
        assert "'" + formula in texts
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
    with page.expect_download() as got:
        page.get_by_role("button", name="导出 Excel").filter(visible=True).last.click()
    ws = load_workbook(io.BytesIO(got.value.path().read_bytes())).active
    cells = [c for row in ws.iter_rows() for c in row if c.value in FORMULAS]
    assert len(cells) == len(FORMULAS)
    assert all(c.data_type == "s" for c in cells)
