"""The planner page's sections: check, propose and edit, compare and publish, pairings, versions,
bounds. Each reads state, calls :mod:`minqing.planner` / :mod:`minqing.layers` /
:mod:`minqing.pairing_plan` / :mod:`minqing.sizing` and draws; nothing here computes a plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import ui
from geo.basemap import resolve_basemap
from geo.crs import wgs84_to_gcj02
from geo.plan_map import edit_map, plan_map
from minqing import layers, pairing_plan, planner, sizing
from minqing.errors import DomainError
from minqing.scope import Scope
from minqing.settings import load_settings
from ui.safe import md

PROPOSAL = "plan_proposal"
PAIRINGS = "plan_pairings"
SELECTED = "plan_selected"
MAP_HEIGHT = 460


@st.cache_resource(show_spinner=False)
def basemap():
    return resolve_basemap(load_settings())


def bounds() -> sizing.Bounds:
    return sizing.load_bounds(ui.engine())


@st.cache_data(ttl=600, show_spinner=False, max_entries=8)
def _balance(_engine, version: str, scope: Scope, key: tuple) -> pd.DataFrame:
    return planner.grid_balance(_engine, scope=scope, bounds=sizing.Bounds(dict(key)))


def balance(scope: Scope | None = None) -> pd.DataFrame:
    b = bounds()
    return _balance(ui.engine(), ui.version(), scope or ui.current_scope(),
                    tuple(sorted(b.values.items())))


def own_scope() -> Scope:
    """The viewer's whole jurisdiction: what they may plan (writes are recorded as them)."""
    return ui.viewer().scope()


def show_error(exc: DomainError) -> None:
    st.error(md(exc.message(ui.lang())))


def town_names() -> dict[int, str]:
    return dict(ui.towns(ui.engine(), ui.version(), own_scope()))


def _tip(frame: pd.DataFrame, count: str) -> list[str]:
    return [f"{c} {n} · {h} ({lo}–{hi})" for c, n, h, lo, hi in
            zip(frame["code"], frame["name"], frame[count], frame["low"], frame["high"],
                strict=True)]


# --- check ---------------------------------------------------------------------------------------


def check_section() -> None:
    table = balance()
    towns = planner.town_balance(table)
    st.subheader(ui.t("plan.check.towns"))
    st.dataframe(towns.drop(columns=["town_id"]), hide_index=True, width="stretch",
                 column_config={c: ui.t(f"plan.check.col.{c}") for c in towns.columns})
    names = dict(zip(towns["town_id"], towns["town"], strict=True))
    town = st.selectbox(ui.t("plan.check.town"), list(names), format_func=names.get,
                        key="plan_check_town")
    mine = table[table["town_id"] == town].rename(columns={"grid_id": "label"})
    left, right = st.columns([3, 2])
    with left:
        frame = mine.assign(tooltip=_tip(mine, "households"))
        st_folium(plan_map(frame, geom="geom", basemap=basemap()), key="plan_check_map",
                  height=MAP_HEIGHT, use_container_width=True, returned_objects=[])
        st.caption(ui.t("plan.check.legend"))
    with right:
        off = mine[(mine["deviation"] != 0) | (mine["backbone_deviation"] < 0)]
        st.markdown(f"**{ui.t('plan.check.off', n=len(off))}**")
        cols = ["code", "name", "households", "low", "high", "deviation", "backbone",
                "backbone_low", "backbone_deviation"]
        st.dataframe(off[cols], hide_index=True, width="stretch",
                     column_config={c: ui.t(f"plan.check.col.{c}") for c in cols})


# --- propose, edit, compare, publish --------------------------------------------------------------


def propose_section() -> None:
    table = balance(own_scope())
    towns = planner.town_balance(table)
    names = dict(zip(towns["town_id"], towns["town"], strict=True))
    scope_town = ui.current_town()
    default = [scope_town] if scope_town in names else [int(towns["town_id"].iloc[0])]
    with st.form("plan_propose"):
        chosen = st.multiselect(ui.t("plan.towns"), list(names), default=default,
                                format_func=names.get)
        grids = table[table["town_id"].isin(chosen)]
        codes = dict(zip(grids["grid_id"], grids["code"] + " " + grids["name"], strict=True))
        locked = st.multiselect(ui.t("plan.locked_grids"), list(codes), format_func=codes.get)
        homes = st.text_area(ui.t("plan.locked_households"), height=68)
        go = st.form_submit_button(ui.t("plan.propose"), type="primary")
    if st.session_state.pop("plan_cancelled", False):
        st.warning(ui.t("plan.cancelled"))
    if go and chosen:
        _run_proposal(chosen, locked, homes)
    p: planner.Proposal | None = st.session_state.get(PROPOSAL)
    if p is None:
        st.info(ui.t("plan.none_yet"))
        return
    _results(p)


def _run_proposal(towns: list[int], locked: list[int], homes_text: str) -> None:
    codes = [c.strip() for c in homes_text.replace(",", "\n").splitlines() if c.strip()]
    try:
        ids = planner.household_ids(ui.engine(), codes=codes, town_ids=towns)
    except DomainError as exc:
        show_error(exc)
        return
    stop = st.empty()
    # a click reruns the page, which stops this run at its next progress update; nothing of the
    # unfinished plan is kept
    stop.button(ui.t("plan.cancel"), key="plan_cancel",
                on_click=lambda: st.session_state.update(plan_cancelled=True))
    bar = st.progress(0.0, text=ui.t("plan.working"))
    try:
        p = planner.propose(ui.engine(), scope=own_scope(), town_ids=towns, bounds=bounds(),
                            locked_grids=locked,
                            locked_households=ids, lang=ui.lang(),
                            progress=lambda f, text: bar.progress(min(f, 1.0), text=md(text)))
    except DomainError as exc:
        show_error(exc)
        return
    finally:
        stop.empty()
    bar.empty()
    st.session_state[PROPOSAL] = p
    st.session_state[SELECTED] = set()


def _results(p: planner.Proposal) -> None:
    names = town_names()
    table = planner.compare_grids(p)
    s = planner.summary(p, table)
    cells = [("plan.sum.moved", f"{s.moved:,}"), ("plan.sum.lower_bound", f"{s.lower_bound:,}"),
             ("plan.sum.core_retention", f"{s.core_retention:.2%}"),
             ("plan.sum.grids_after", f"{s.grids_before} → {s.grids_after}"),
             ("plan.sum.in_bounds_after", f"{s.in_bounds_before} → {s.in_bounds_after}"),
             ("plan.sum.compactness_after",
              f"{s.compactness_before:.3f} → {s.compactness_after:.3f}")]
    for row in (cells[:3], cells[3:]):
        for column, (key, value) in zip(st.columns(3), row, strict=True):
            column.metric(ui.t(key), value)
    for town, notes in p.notes.items():
        for note in notes:
            text = ui.t("plan.note_in_town", town=names.get(town, town),
                        text=planner.note_text(note, ui.lang(), p))
            (st.warning if town in p.unbalanced else st.info)(md(text))
    if s.non_contiguous:
        st.error(ui.t("plan.warn.contiguity", n=s.non_contiguous))
    town = st.selectbox(ui.t("plan.compare.town"), p.town_ids, format_func=names.get,
                        key="plan_compare_town")
    _compare_maps(p, table, town)
    only = st.toggle(ui.t("plan.compare.changed_only"), value=True, key="plan_changed_only")
    groups = planner.group_effects(ui.engine(), p, lang=ui.lang())
    table = table.merge(groups[["label", "text"]].rename(columns={"text": "group"}), on="label",
                        how="left")
    shown = table[(table["town_id"] == town) & ((table["status"] != "unchanged") | (not only))]
    cols = ["code", "name", "before", "after", "low", "high", "deviation_before",
            "deviation_after", "in_bounds", "contiguous", "compactness_before",
            "compactness_after", "status", "group"]
    st.dataframe(shown[cols].assign(status=shown["status"].map(lambda v: ui.t(f"plan.status.{v}"))),
                 hide_index=True, width="stretch",
                 column_config={c: ui.t(f"plan.col.{c}") for c in cols})
    st.caption(ui.t("plan.group.rule"))
    with st.expander(ui.t("plan.moves", n=s.moved)):
        mv = planner.moves(p)
        st.dataframe(mv[mv["town_id"] == town].drop(columns=["town_id", "household_id"]),
                     hide_index=True, width="stretch",
                     column_config={"code": ui.t("plan.col.household"),
                                    "from_grid": ui.t("plan.col.from_grid"),
                                    "to_grid": ui.t("plan.col.to_grid")})
    lang = ui.lang()
    st.download_button(ui.t("plan.export"),  # built when clicked, not on every rerun
                       lambda: planner.export_xlsx(p, lang=lang, town_names=names,
                                                   groups=groups),
                       file_name="rebalance.xlsx", key="plan_export",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    edit_section(p, town)
    publish_form(p)


def _compare_maps(p: planner.Proposal, table: pd.DataFrame, town: int) -> None:
    g = p.grids.merge(table[["label", "before", "after", "deviation_before", "deviation_after",
                             "status"]], on="label")
    g = g[g["town_id"] == town]
    h = p.households
    moved = h[(h["town_id"] == town) & (h["before"] != h["after"])]
    moved = moved.assign(tooltip=moved["code"])
    changed = set(g.loc[g["status"] != "unchanged", "label"].tolist())
    left, right = st.columns(2)
    for column, when in ((left, "before"), (right, "after")):
        frame = g.assign(deviation=g[f"deviation_{when}"], tooltip=_tip(g, when))
        with column:
            st.markdown(f"**{ui.t(f'plan.compare.{when}')}**")
            st_folium(plan_map(frame, geom=f"geom_{when}", basemap=basemap(), moved=moved,
                               highlight=changed),
                      key=f"plan_map_{when}", height=MAP_HEIGHT, use_container_width=True,
                      returned_objects=[])
    st.caption(ui.t("plan.compare.legend"))


def edit_section(p: planner.Proposal, town: int) -> None:
    """Move households of one grid to a neighbouring grid, with live counts and contiguity."""
    st.subheader(ui.t("plan.edit.title"))
    g = p.grids[(p.grids["town_id"] == town) & p.grids["label"].isin(set(p.households["after"]))]
    codes = dict(zip(g["label"], g["code"] + " " + g["name"], strict=True))
    a, b, c = st.columns([2, 2, 1])
    source = a.selectbox(ui.t("plan.edit.from"), list(codes), format_func=codes.get,
                         key="plan_edit_from")
    targets = [k for k in planner.neighbours(p, source) if k in codes]
    target = b.selectbox(ui.t("plan.edit.to"), targets, format_func=codes.get,
                         key="plan_edit_to")
    if target is None:
        return
    near = planner.nearest_households(p, source, target)
    ids = near["household_id"].tolist()

    def take_block() -> None:  # the N nearest households become the selection
        st.session_state["plan_edit_pick"] = ids[:int(st.session_state["plan_edit_block"])]

    c.number_input(ui.t("plan.edit.block"), 0, len(near), 0, key="plan_edit_block",
                   on_change=take_block)
    if any(h not in ids for h in st.session_state.get("plan_edit_pick", [])):
        st.session_state["plan_edit_pick"] = []  # another grid was chosen
    h = p.households
    frame = g[g["label"].isin([source, target])].assign(deviation=0, tooltip=lambda d: d["code"])
    src = h[h["after"] == source].assign(tooltip=lambda d: d["code"])
    dst = h[h["after"] == target].assign(tooltip=lambda d: d["code"])
    sel = src[src["household_id"].isin(st.session_state.get("plan_edit_pick", []))]
    left, right = st.columns([3, 2])
    with left:
        state = st_folium(edit_map(frame, geom="geom_after", basemap=basemap(), source=src,
                                   target=dst, selected=sel),
                          key="plan_edit_map", height=MAP_HEIGHT, use_container_width=True,
                          returned_objects=["last_object_clicked"])
        st.caption(ui.t("plan.edit.map_hint"))
    _toggle_clicked(p, source, (state or {}).get("last_object_clicked"))
    with right:
        picked = st.multiselect(ui.t("plan.edit.households"), ids,
                                format_func=dict(zip(ids, near["code"], strict=True)).get,
                                key="plan_edit_pick")
        preview = planner.preview_move(p, picked, target)
        st.dataframe(preview.drop(columns=["label", "name"]), hide_index=True, width="stretch",
                     column_config={c: ui.t(f"plan.edit.col.{c}") for c in preview.columns})
        for row in preview.itertuples():
            if not row.contiguous:
                st.warning(md(ui.t("plan.edit.breaks", code=row.code)))
            elif not row.in_bounds:
                st.warning(md(ui.t("plan.edit.out", code=row.code, n=row.after, low=row.low,
                                   high=row.high)))
        if st.button(ui.t("plan.edit.apply"), disabled=not picked, key="plan_edit_apply"):
            try:
                st.session_state[PROPOSAL] = planner.move_households(p, picked, target)
            except DomainError as exc:
                show_error(exc)
                return
            st.rerun()


def _toggle_clicked(p: planner.Proposal, source: int, click: dict | None) -> None:
    """A click on the map adds (or removes) the source grid's household nearest to it."""
    if not click or click == st.session_state.get("plan_edit_click"):
        return
    st.session_state["plan_edit_click"] = click
    lon, lat = float(click["lng"]), float(click["lat"])
    if basemap().gcj02:  # the map is drawn shifted; undo the shift at this point
        slon, slat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
        lon, lat = 2 * lon - float(slon[0]), 2 * lat - float(slat[0])
    hit = planner.household_at(p, source, lon=lon, lat=lat)
    if hit is None:
        return
    picked = list(st.session_state.get("plan_edit_pick", []))
    picked = [h for h in picked if h != hit] if hit in picked else [*picked, hit]
    st.session_state["plan_edit_pick"] = picked
    st.rerun()


def publish_form(p: planner.Proposal) -> None:
    st.subheader(ui.t("plan.publish.title"))
    with st.form("plan_publish"):
        reason = st.text_area(ui.t("plan.publish.reason"), height=68)
        label = st.text_input(ui.t("plan.publish.label"), max_chars=120)
        go = st.form_submit_button(ui.t("plan.publish.go"), type="primary")
    if not go:
        return
    try:
        result = planner.publish(ui.engine(), p, scope=own_scope(), reason=reason, label=label)
    except DomainError as exc:
        show_error(exc)
        return
    st.session_state.pop(PROPOSAL, None)
    st.cache_data.clear()
    st.success(ui.t("plan.publish.done", number=result.layer.number,
                    moved=result.households_moved))
    _groups_done(result)


def _groups_done(result: layers.PublishResult) -> None:
    """What the service groups did on a publish or restore (minqing.group_sync)."""
    g = result.groups
    st.info(ui.t("plan.publish.groups", dissolved=len(g.get("dissolved", [])),
                 created=len(g.get("created", [])), returned=len(g.get("returned", [])),
                 backbone=g.get("backbone", 0)))


# --- pairings -----------------------------------------------------------------------------------


def pairings_section() -> None:
    b = bounds()
    scope = ui.current_scope()
    loads = pairing_plan.cadre_loads(ui.engine(), scope=scope, bounds=b)
    names = {0: ui.t("app.all_towns"), **town_names()}
    loads = loads.assign(pool=loads["pool_town"].map(names),
                         level=loads["level"].map(lambda v: ui.t(f"plan.level.{v}")))
    off = loads[loads["deviation"] != 0]
    st.markdown(f"**{ui.t('plan.pair.off', n=len(off), total=len(loads))}**")
    cols = ["cadre", "level", "pool", "load", "low", "high", "deviation"]
    st.dataframe(off[cols], hide_index=True, width="stretch",
                 column_config={c: ui.t(f"plan.pair.col.{c}") for c in cols})
    if st.button(ui.t("plan.pair.propose"), key="plan_pair_propose"):
        try:
            st.session_state[PAIRINGS] = pairing_plan.propose_pairings(ui.engine(), scope=scope,
                                                                       bounds=b)
        except DomainError as exc:
            show_error(exc)
            return
    plan: pairing_plan.PairingPlan | None = st.session_state.get(PAIRINGS)
    if plan is None:
        return
    st.metric(ui.t("plan.pair.moves"), f"{len(plan.moves)} / {plan.lower_bound}")
    for note in plan.notes:
        params = {**note.params, "level": ui.t(f"plan.level.{note.params['level']}"),
                  "town": names.get(note.params["town"], note.params["town"])}
        st.warning(md(ui.t(note.key, **params)))
    shown = plan.moves.assign(level=plan.moves["level"].map(lambda v: ui.t(f"plan.level.{v}")))
    cols = ["member", "grid", "level", "from_cadre", "to_cadre"]
    st.dataframe(shown[cols], hide_index=True, width="stretch",
                 column_config={c: ui.t(f"plan.pair.col.{c}") for c in cols})
    if plan.moves.empty:
        return
    with st.form("plan_pair_apply"):
        reason = st.text_area(ui.t("plan.publish.reason"), height=68)
        go = st.form_submit_button(ui.t("plan.pair.apply"), type="primary")
    if go:
        try:
            n = pairing_plan.apply_pairings(ui.engine(), plan, scope=scope, reason=reason)
        except DomainError as exc:
            show_error(exc)
            return
        st.session_state.pop(PAIRINGS, None)
        st.success(ui.t("plan.pair.done", n=n))


# --- versions -----------------------------------------------------------------------------------


def versions_section() -> None:
    engine = ui.engine()
    versions = layers.list_layers(engine)
    frame = pd.DataFrame([{
        "number": v.number, "current": ui.t("plan.yes") if v.is_current else "",
        "source": ui.t(f"plan.source.{v.source}"), "created_at": v.created_at,
        "created_by": v.created_by, "label": v.label, "reason": v.reason, "grids": v.grids,
        "households": v.households} for v in versions])
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={c: ui.t(f"plan.ver.col.{c}") for c in frame.columns})
    by_number = {v.number: v for v in versions}
    number = st.selectbox(ui.t("plan.ver.view"), list(by_number), key="plan_ver_pick")
    chosen = by_number[number]
    names = town_names()
    town = st.selectbox(ui.t("plan.check.town"), list(names), format_func=names.get,
                        key="plan_ver_town", index=0)
    grids = layers.layer_grids(engine, layer_id=chosen.id,
                               scope=own_scope().narrowed_to_town(town))
    if not grids.empty:
        b = bounds()
        grids = grids.rename(columns={"grid_id": "label"})
        grids["low"] = [b.grid(k)[0] for k in grids["kind"]]
        grids["high"] = [b.grid(k)[1] for k in grids["kind"]]
        grids["deviation"] = [sizing.deviation(n, lo, hi) for n, lo, hi in
                              zip(grids["households"], grids["low"], grids["high"], strict=True)]
        st_folium(plan_map(grids.assign(tooltip=_tip(grids, "households")), geom="geom",
                           basemap=basemap()),
                  key="plan_ver_map", height=MAP_HEIGHT, use_container_width=True,
                  returned_objects=[])
    if not chosen.is_current and own_scope().level in ("district", "town"):
        _restore_form(chosen, town, names)
    st.markdown(f"**{ui.t('plan.ver.events')}**")
    events = layers.layer_events(engine)
    events = events.assign(action=events["action"].map(lambda v: ui.t(f"plan.action.{v}")))
    events = events.drop(columns=["data"])
    st.dataframe(events, hide_index=True, width="stretch",
                 column_config={c: ui.t(f"plan.ev.col.{c}") for c in events.columns})


def _restore_form(chosen: layers.LayerInfo, town: int, names: dict[int, str]) -> None:
    """Restore an older version: the whole of it (district planners), or only the chosen town,
    every other town staying as it is (any planner of that town)."""
    scope = own_scope()
    with st.form("plan_restore"):
        st.markdown(ui.t("plan.ver.restore_title", number=chosen.number))
        whole = scope.level == "district" and st.radio(
            ui.t("plan.ver.restore_what"), [True, False], horizontal=True, key="plan_ver_whole",
            format_func=lambda w: ui.t("plan.ver.whole") if w else ui.t(
                "plan.ver.town_only", town=names.get(town, town)))
        reason = st.text_area(ui.t("plan.publish.reason"), height=68)
        go = st.form_submit_button(ui.t("plan.ver.restore"), type="primary")
    if not go:
        return
    try:
        result = planner.restore(ui.engine(), scope=scope, layer_id=chosen.id, reason=reason,
                                 town_id=None if whole else town)
    except DomainError as exc:
        show_error(exc)
        return
    st.cache_data.clear()
    st.success(ui.t("plan.ver.restored", number=chosen.number, moved=result.households_moved))
    _groups_done(result)


# --- bounds -------------------------------------------------------------------------------------


def bounds_section() -> None:
    b = bounds()
    st.caption(ui.t("plan.bounds.caption"))
    with st.form("plan_bounds"):
        values: dict[str, tuple[int, int]] = {}
        for key, (low, high) in b.values.items():
            name, lo_col, hi_col = st.columns([3, 1, 1])
            name.markdown(ui.t(f"sizing.key.{key}"))
            values[key] = (lo_col.number_input(ui.t("plan.col.low"), 1, 100_000, low,
                                               key=f"plan_b_{key}_lo"),
                           hi_col.number_input(ui.t("plan.col.high"), 1, 100_000, high,
                                               key=f"plan_b_{key}_hi"))
        go = st.form_submit_button(ui.t("plan.bounds.save"), type="primary",
                                   disabled=own_scope().level != "district")
    if not go:
        return
    try:
        for key, (low, high) in values.items():
            if (low, high) != b.values[key]:
                sizing.save_bound(ui.engine(), scope=own_scope(), key=key, low=low, high=high)
    except DomainError as exc:
        show_error(exc)
        return
    st.cache_data.clear()
    st.success(ui.t("plan.bounds.saved"))
