"""Household (?household=): the family archive (家庭档案) — members, tags, the cadres who serve it,
every diary entry and case about it, and the practical services done for it this year."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing import casebook, diary, households
from minqing.clock import today
from ui.casework import case_list_table, missing_record, timeline_table
from ui.safe import md


def _relation(code: str) -> str:
    text = ui.t(f"relation.{code}")
    return code if text.startswith("relation.") else text


def _header(h: households.HouseholdArchive) -> None:
    st.title(ui.t("household.title", name=md(h.head_name)))
    st.caption(f"{md(h.code)} · {md(h.town)}")
    st.page_link("app_pages/grid.py", label=md(h.grid), icon=":material/grid_view:",
                 query_params={"grid": str(h.grid_id)})
    ui.demo_badge()
    tags = ui.t("punct.list").join(ui.t(f"tag.{tag}") for tag in h.tags) or "—"
    roles = ui.t("punct.list").join(ui.t(f"role.{role}") for role in h.group_roles)
    cells = [(ui.t("household.size"), str(h.size)), (ui.t("household.phone"), md(h.phone)),
             (ui.t("household.tags"), tags)]
    for column, (label, value) in zip(st.columns(len(cells)), cells, strict=True):
        column.metric(label, value)
    colon = ui.t("punct.colon")
    st.markdown(f"{ui.t('household.address')}{colon}{md(h.address)} · "
                f"{ui.t('household.id_number')}{colon}{md(h.id_number)}"
                + (f" · {ui.t('household.group_role')}{colon}{roles}" if roles else ""))


def _people(h: households.HouseholdArchive) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader(ui.t("household.members"))
        members = h.members.assign(relation=[_relation(r) for r in h.members["relation"]])
        st.dataframe(members.rename(columns={
            "name": ui.t("tbl.name"), "relation": ui.t("household.relation"),
            "birth_year": ui.t("household.birth_year")}), hide_index=True, width="stretch")
    with right:
        st.subheader(ui.t("household.cadres"))
        if h.liaison_cadre:
            c = h.liaison_cadre
            st.markdown(f"**{ui.t('role.leader')}**{ui.t('punct.colon')}{md(c['name'])}"
                        f"{ui.t('punct.aside', text=md(c['unit']))} {md(c['phone'])}")
        if not h.paired_cadres.empty:
            st.dataframe(h.paired_cadres.assign(
                level=[ui.t(f"level.{v}") for v in h.paired_cadres["level"]]).rename(columns={
                    "level": ui.t("tbl.level"), "name": ui.t("tbl.cadre"),
                    "unit": ui.t("tbl.unit"), "phone": ui.t("tbl.phone")}),
                hide_index=True, width="stretch")


def _cases(frame: pd.DataFrame) -> None:
    st.subheader(ui.t("household.cases", n=len(frame)))
    if frame.empty:
        st.caption(ui.t("household.no_cases"))
        return
    case_list_table(frame)


def _services(frame: pd.DataFrame) -> None:
    st.subheader(ui.t("household.services", year=today().year, n=len(frame)))
    if frame.empty:
        st.caption(ui.t("household.no_services"))
        return
    st.dataframe(frame.rename(columns={"done_on": ui.t("tbl.date"),
                                       "description": ui.t("household.service"),
                                       "cadre": ui.t("tbl.cadre")}),
                 hide_index=True, width="stretch")


def page() -> None:
    household_id, raw = ui.query_int("household"), st.query_params.get("household")
    scope = ui.current_scope()
    archive = (households.household_archive(ui.engine(), scope=scope, household_id=household_id)
               if household_id is not None else None)
    if archive is None:
        st.title(ui.t("nav.household"))
        missing_record("household", raw)
        return
    _header(archive)
    _people(archive)
    _cases(casebook.household_cases(ui.engine(), scope=scope, household_id=household_id,
                                    today=today()))
    _services(households.services_this_year(ui.engine(), scope=scope, household_id=household_id,
                                            today=today()))
    st.subheader(ui.t("household.entries"))
    timeline_table(diary.timeline(ui.engine(), scope=scope, household_id=household_id))


page()
