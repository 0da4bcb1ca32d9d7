"""Year-end scoring (年终评比, ``?year=2025&cadre=12``): the criteria, the ranking with service
stars, and every score explained item by item."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

import ui
from minqing.clock import today
from minqing.errors import DomainError
from minqing.kpi import KPIS
from minqing.supervision import scoring
from ui.casework import show_refusal
from ui.safe import md
from ui.supervision import actor, export_button, town_filter


@st.cache_data(ttl=600, show_spinner=False)
def _live(_engine, data_version: str, scope, year: int, weights: scoring.Weights,
          day) -> pd.DataFrame:
    return scoring.compute(_engine, scope=scope, year=year, weights=weights, today=day)


def _year() -> int:
    years = [today().year - n for n in range(3)]
    linked = ui.query_int("year")
    year = st.selectbox(ui.t("score.year"), years,
                        index=years.index(linked) if linked in years else 1)
    st.query_params["year"] = str(year)
    return year


def _criteria(year: int, weights: scoring.Weights) -> None:
    with st.expander(ui.t("score.criteria")), st.form(f"criteria_{year}"):
        cols = st.columns(len(scoring.ITEMS) + 1)
        values = {item: cols[i].number_input(ui.t(f"score.item.{item}"),
                                             value=weights.weight(item), step=0.1, format="%.2f")
                  for i, item in enumerate(scoring.ITEMS)}
        stars = cols[-1].number_input(ui.t("score.stars"), 0, 1000, value=weights.stars)
        if not st.form_submit_button(ui.t("score.save")):
            return
    try:
        scoring.save_weights(ui.engine(), year=year, actor=actor(), scope=ui.current_scope(),
                             weights=scoring.Weights(**values, stars=int(stars)))
    except DomainError as exc:
        show_refusal(exc)
        return
    st.toast(ui.t("score.saved", year=year))
    st.rerun()


def _ranking_frame(table: pd.DataFrame) -> pd.DataFrame:
    lang = ui.lang()
    out = pd.DataFrame({
        ui.t("score.rank"): table["rank"], ui.t("score.star"): [
            "★" if s else "" for s in table["star"]],
        ui.t("sv.col.cadre"): table["name"], ui.t("sv.col.town"): table["town"].fillna(""),
        ui.t("score.score"): table["score"],
    })
    for item, (key, is_rate) in scoring.ITEMS.items():
        values = table[item]
        out[KPIS[key].label(lang)] = (values * 100).round(1) if is_rate else values
    return out


def _explain(table: pd.DataFrame, weights: scoring.Weights, year: int) -> None:
    st.subheader(ui.t("score.explain"))
    by_id = {int(r.cadre_id): f"{r.rank}. {r.name}" for r in table.itertuples()}
    linked = ui.query_int("cadre")
    ids = list(by_id)
    cadre = st.selectbox(ui.t("score.pick"), ids, format_func=by_id.get,
                         index=ids.index(linked) if linked in by_id else 0)
    st.query_params["cadre"] = str(cadre)
    row = table[table["cadre_id"] == cadre].iloc[0]
    items = scoring.explain(row, weights=weights)
    lang = ui.lang()
    shown = pd.DataFrame({
        ui.t("score.item"): [ui.t(f"score.item.{i}") for i in items["item"]],
        ui.t("kpis.kpi"): [KPIS[k].label(lang) for k in items["kpi"]],
        ui.t("score.value"): [KPIS[k].show(v) for k, v in zip(items["kpi"], items["value"],
                                                             strict=True)],
        ui.t("score.weight"): items["weight"], ui.t("score.points"): items["points"],
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    st.markdown(md(f"{ui.t('score.total')}: {items['points'].sum():.2f} = "
                   f"{ui.t('score.score')} {row['score']:.2f}"))
    export_button(shown, title=ui.t("score.explain"), file=f"score-{year}-{cadre}",
                  filters=[(ui.t("score.year"), year), (ui.t("sv.col.cadre"), row["name"]),
                           (ui.t("score.score"), f"{row['score']:.2f}")])


def page() -> None:
    st.title(ui.t("score.title"))
    ui.demo_badge()
    st.caption(ui.t("score.caption"))
    year = _year()
    engine, scope = ui.engine(), ui.current_scope()
    frozen = scoring.published(engine, scope=scope, year=year)
    if frozen is None:
        weights = scoring.weights_for(engine, year=year)
        _criteria(year, weights)
        table = _live(engine, ui.version(), scope, year, weights, today())
        st.info(ui.t("score.live", year=year), icon=":material/calculate:")
        if (year < today().year and scope.level == "district"
                and st.button(ui.t("score.publish", year=year))):
            try:
                scoring.publish(engine, scope=scope, year=year)
            except DomainError as exc:
                show_refusal(exc)
            else:
                st.rerun()
    else:
        table, weights = frozen
        st.success(ui.t("score.published", year=year), icon=":material/verified:")
    st.subheader(ui.t("score.ranking", n=len(table)))
    shown = _ranking_frame(table)
    st.dataframe(shown, hide_index=True, width="stretch", height=420)
    stated = ", ".join(f"{ui.t(f'score.item.{k}')} {v}" for k, v in
                       dataclasses.asdict(weights).items() if k in scoring.ITEMS)
    export_button(shown, title=ui.t("score.title"), file=f"ranking-{year}", filters=[
        (ui.t("score.year"), year), town_filter(), (ui.t("score.criteria"), stated),
        (ui.t("score.stars"), weights.stars)])
    if not table.empty:
        _explain(table, weights, year)


page()
