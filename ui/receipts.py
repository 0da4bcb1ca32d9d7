"""The last save of a form, kept in the session until the form is saved again.

A save is confirmed by the run after it. On a weak network that run's reply can be lost: the
socket dies while the server still thinks it open, and once the phone reconnects (Streamlit
resumes the session) the user gets the next, blank form with no word about the save, and may
type it all again. So the confirmation is kept as a receipt: the first run after the save shows
it as a success, every later run (the one after a reconnect too) as "your last save was recorded
at HH:MM, no need to submit it again", until the form's next save replaces it. Messages are
catalogue keys, translated when shown; a :class:`~minqing.errors.Label` parameter is a key too.

The reconnect must also redraw the page. Streamlit's frontend, reconnecting to its session, asks
for a run only when it knows its page may be stale (a run it saw start, or self-rerunning
fragments); a lost reply leaves it unaware, showing the form already sent with its text. So the
receipt is drawn by a fragment that reruns itself every :data:`RECHECK` seconds: a page with one
is rerun in full when its connection comes back, and the user sees the next form under the
receipt (``tests/browser/test_phone*.py`` lose a reply and check this).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import streamlit as st

import ui
from minqing.clock import now
from minqing.errors import Label

RECHECK = timedelta(seconds=30)  # also when a fresh confirmation turns into the reminder


@dataclass
class Receipt:
    """What the save did (``first``: shown once), what later runs say, and where to go next."""

    first: str
    later: str
    params: dict[str, object] = field(default_factory=dict)
    link: tuple[str, str, dict[str, str]] | None = None  # (label key, page, query params)
    shown: bool = False


def _name(form: str) -> str:
    return f"_receipt_{form}"


def keep(form: str, *, first: str, later: str, link: tuple[str, str, dict[str, str]] | None = None,
         **params: object) -> None:
    """Record that ``form`` was just saved; ``later`` is formatted with ``at`` (HH:MM) too."""
    st.session_state[_name(form)] = Receipt(first=first, later=later, link=link,
                                            params={**params, "at": f"{now():%H:%M}"})


def _text(key: str, params: dict[str, object]) -> str:
    return ui.t(key, **{k: ui.t(v.key) if isinstance(v, Label) else v for k, v in params.items()})


@st.fragment(run_every=RECHECK)
def show(form: str) -> None:
    """The receipt of ``form``'s last save, if any: the confirmation once, then the reminder.
    Called on every page with the form, receipt or not (see the module docstring)."""
    receipt: Receipt | None = st.session_state.get(_name(form))
    if receipt is None:
        return
    if receipt.shown:
        st.info(_text(receipt.later, receipt.params), icon=":material/task_alt:")
    else:
        st.success(_text(receipt.first, receipt.params), icon=":material/check_circle:")
        receipt.shown = True
    if receipt.link:
        label, page, query = receipt.link
        st.page_link(page, label=ui.t(label), query_params=query, icon=":material/arrow_forward:")
