"""Sign a test in as a role, in one line. Every demo database (``minqing.demo.build``, so every
fixture in tests/conftest.py) holds one account per role: see ``minqing.demo.accounts``.

AppTest (tests/pages)::

    from tests.auth import sign_in
    at = sign_in(AppTest.from_file(APP), "town_supervisor")   # before the first at.run()

It puts the role's demo account into the session as app.py's gate would after a sign-in (the
database is ``MINQING_DATABASE_URL``, or ``url=``). Without it a page test sees the sign-in form.

Playwright (tests/browser): the ``sign_in_as`` fixture of tests/browser/conftest.py sets the
signed session cookie in the page's browser context, exactly as a sign-in through the form does::

    def test_something(page, app_url, sign_in_as):
        sign_in_as("district_supervisor")
        page.goto(f"{app_url}/map")

Roles: district_supervisor, town_supervisor, area_head, grid_cadre, planner, data_officer, admin,
display (``minqing.access.Role``).
"""

from __future__ import annotations

import os

from minqing.access import Role
from minqing.demo.accounts import DEMO_ACCOUNTS
from minqing.scope import Viewer

USERNAMES = {Role(a.role).value: a.username for a in DEMO_ACCOUNTS}
PASSWORDS = {a.username: a.password for a in DEMO_ACCOUNTS}


def viewer_for(role: str, url: str | None = None) -> Viewer:
    """The viewer of the demo account holding ``role`` in the database at ``url``.

    A database built by hand (tests/world.py, tests/kpi_world.py) gets the demo accounts on first
    use, placed in its first town, area and grid like the demo's.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from minqing.accounts import viewer_of
    from minqing.demo.accounts import write_demo_accounts
    from minqing.models import Account
    from minqing.store import get_engine

    engine = get_engine(url or os.environ["MINQING_DATABASE_URL"])
    wanted = select(Account).where(Account.username == USERNAMES[Role(role).value])
    with Session(engine) as session:
        account = session.scalars(wanted).first()
    if account is None:
        with engine.begin() as conn:
            write_demo_accounts(conn)
        with Session(engine) as session:
            account = session.scalars(wanted).one()
    return viewer_of(account)


def sign_in(at, role: str = "district_supervisor", *, url: str | None = None):
    """Sign an AppTest in as the demo account of ``role``; returns ``at`` for chaining."""
    import ui

    at.session_state[ui.VIEWER_KEY] = viewer_for(role, url)
    return at


def session_cookie(role: str, url: str, base_url: str) -> dict:
    """A Playwright cookie carrying a fresh signed session of ``role``'s demo account."""
    from minqing import accounts
    from minqing.store import get_engine
    from ui.auth import COOKIE

    engine = get_engine(url)
    token = accounts.open_token(engine, viewer_for(role, url).account_id)
    return {"name": COOKIE, "value": accounts.sign(token, accounts.signing_key(engine)),
            "url": base_url}
