"""Weekly diary review (周查, ``?area=&silent=``): the area head's queue, review or send back, the
entries sent back, and the cadres who are behind."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing.errors import DomainError
from minqing.supervision import reviews
from ui.casework import flash, show_refusal
from ui.safe import md
from ui.supervision import (
    actor,
    area_picker,
    blank,
    export_button,
    show_table,
)

FLASH = "_review_flash"


def _entries(frame: pd.DataFrame, extra: dict | None = None) -> pd.DataFrame:
    shown = pd.DataFrame({
        "ID": frame["id"], ui.t("sv.col.date"): frame["entry_date"],
        ui.t("sv.col.grid"): frame["grid"], ui.t("sv.col.cadre"): frame["cadre"],
        ui.t("sv.col.text"): frame["text"],
    })
    for label, values in (extra or {}).items():
        shown[label] = list(values)
    return shown


def _review_form(queue: pd.DataFrame) -> None:
    rows = {int(r.id): r for r in queue.itertuples()}
    entry_id = st.selectbox(ui.t("review.pick"), list(rows), key="review_entry",
                            format_func=lambda i: f"{i} · {rows[i].entry_date} · {rows[i].cadre}")
    row = rows[entry_id]
    with st.form(f"review_{entry_id}_{st.session_state.get('_review_gen', 0)}", border=True):
        st.markdown(md(ui.t("review.form", id=entry_id, date=row.entry_date, cadre=row.cadre)))
        st.text(row.text)
        outcome = st.radio(ui.t("review.outcome"), [o.value for o in reviews.Outcome],
                           format_func=lambda o: ui.t(f"review.outcome.{o}"), horizontal=True)
        comment = st.text_area(ui.t("review.field.request"), height=70)
        submitted = st.form_submit_button(ui.t("review.submit"), type="primary")
    if not submitted:
        return
    try:
        reviews.review_entry(ui.engine(), scope=ui.current_scope(), entry_id=entry_id,
                             outcome=outcome, reviewer=actor(), comment=comment)
    except DomainError as exc:
        show_refusal(exc)
        return
    st.session_state["_review_gen"] = st.session_state.get("_review_gen", 0) + 1
    st.session_state[FLASH] = ui.t("review.saved", id=entry_id)
    st.rerun()


def _behind(area_id: int, area_name: str) -> None:
    st.subheader(ui.t("review.behind"))
    silent = ui.query_int("silent") or reviews.SILENT_DAYS
    c1, c2 = st.columns([1, 1])
    days = c1.number_input(ui.t("review.silent_days"), 1, 365, value=silent, step=1)
    if days != reviews.SILENT_DAYS:
        st.query_params["silent"] = str(days)
    else:
        st.query_params.pop("silent", None)
    only = c2.toggle(ui.t("review.only_behind"), value=True)
    st.caption(ui.t("review.behind_caption", days=days))
    table = reviews.cadres_behind(ui.engine(), scope=ui.current_scope(), area_id=area_id,
                                  silent_days=int(days))
    if only:
        table = table[table["behind"]]
    shown = pd.DataFrame({
        ui.t("sv.col.cadre"): table["cadre"],
        ui.t("review.col.last_entry"): blank(table["last_entry"]),
        ui.t("review.col.days_since"): blank(table["days_since"]),
        ui.t("review.col.entries_28d"): table["entries_28d"],
        ui.t("review.col.unreviewed_late"): table["unreviewed_late"],
        ui.t("review.col.returned"): table["returned"],
        ui.t("review.col.reasons"): [ui.t("minutes.sep").join(ui.t(f"review.reason.{r}")
                                                              for r in rs)
                                     for rs in table["reasons"]],
    })
    show_table(shown)
    export_button(shown, title=ui.t("review.behind"), file="cadres-behind",
                  filters=[(ui.t("sv.area"), area_name), (ui.t("review.silent_days"), days),
                           (ui.t("review.only_behind"), ui.t("case.value.yes" if only
                                                             else "case.value.no"))])


def page() -> None:
    st.title(ui.t("review.title"))
    ui.demo_badge()
    st.caption(ui.t("review.caption"))
    area = area_picker()
    if area is None:
        return
    area_id, area_name, _ = area
    flash(FLASH)
    queue = reviews.review_queue(ui.engine(), scope=ui.current_scope(), area_id=area_id)
    st.subheader(ui.t("review.queue", n=len(queue)))
    if queue.empty:
        st.info(ui.t("review.queue_empty"))
    else:
        shown = _entries(queue, {ui.t("sv.col.kind"): [ui.t(f"kind.{k}") for k in queue["kind"]]})
        show_table(shown)
        export_button(shown, title=ui.t("review.queue", n=len(queue)), file="review-queue",
                      filters=[(ui.t("sv.area"), area_name)])
        _review_form(queue)
    back = reviews.returned_entries(ui.engine(), scope=ui.current_scope(), area_id=area_id)
    st.subheader(ui.t("review.returned", n=len(back)))
    returned = _entries(back, {ui.t("review.request"): back["request"]})
    show_table(returned)
    if not returned.empty:
        export_button(returned, title=ui.t("review.returned", n=len(back)), file="review-returned",
                      filters=[(ui.t("sv.area"), area_name)])
    _behind(area_id, area_name)


page()
