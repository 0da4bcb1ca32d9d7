"""Streamlit glue of the meeting-room wall display: its URL, its style and one screen per tick.

The display is configured by its address alone (``/display?town=&metric=&dwell=&theme=&lang=``):
:func:`parse` reads it and falls back, with a note on the screen, on any value it does not
understand. On every tick of the page's timer :func:`tick` takes the process-wide last good
snapshot (:class:`minqing.aggregates.LastGood`, never a query of its own), picks the next view of
the cycle (district, each town, district ...) and draws it as one HTML block whose type and lines
are sized in viewport units, so the same screen reads at 1920x1080 and 3840x2160.

Everything shown comes from :mod:`minqing.aggregates` (counts, rates, grid geometry, town names)
read with the scope of the display account that ``?token=`` signs in (a revocable link made on
the accounts page; checked again every minute); town names are HTML-escaped before they go into
the markup. Labels and number formats are the KPI definitions' own (:data:`minqing.kpi.KPIS`).
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

import ui
from geo.style import METRICS, classify
from geo.wallmap import svg_map
from minqing import accounts, i18n
from minqing.aggregates import HEADLINE, RANK_BY, TREND, LastGood, Reading, Snapshot
from minqing.kpi import KPIS
from minqing.scope import Scope, Viewer
from minqing.settings import load_settings

PAGE = "app_pages/display.py"
URL_PATH = "display"
THEMES = ("dark", "light")
DEFAULT_METRIC = "open_cases"
DEFAULT_DWELL = 20
MIN_DWELL, MAX_DWELL = 5, 3600
TICK_KEY = "_display_tick"
VIEWER_KEY = "_display_viewer"
TOKEN_RECHECK_S = 60.0
STYLESHEET = Path(__file__).with_name("display.css")


def requested() -> bool:
    """True when the browser asked for ``/display`` (app.py then routes to it alone)."""
    url = st.context.url
    return bool(url) and urlparse(url).path.rstrip("/").endswith(f"/{URL_PATH}")


def route() -> None:
    """Serve the display alone: no sidebar, no navigation, no sign-in widgets.

    ``st.navigation`` serves its default page at ``/`` whatever its ``url_path``, so the display
    cannot be the default page: the overview is (as in the full app), and is never reached here.
    """
    st.navigation([st.Page("app_pages/overview.py", default=True),
                   st.Page(PAGE, url_path=URL_PATH)], position="hidden").run()


# --- the address ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """A display's settings as read from its address; ``notes`` are the values it could not use,
    as ``(catalogue key, format arguments)``."""

    town: int | None = None
    metric: str = DEFAULT_METRIC
    dwell: int = DEFAULT_DWELL
    theme: str = "dark"
    lang: str = i18n.DEFAULT_LANG
    notes: tuple[tuple[str, dict], ...] = field(default=())


def parse(params: Mapping[str, str]) -> Config:
    """The display's settings from its query parameters; a bad value falls back with a note.

    ``town`` is checked against the store later (:meth:`Config.views`); here it only has to be a
    number or ``all``.
    """
    notes: list[tuple[str, dict]] = []
    lang = "en" if params.get("lang") == "en" else i18n.DEFAULT_LANG
    town = None
    raw_town = params.get("town")
    if raw_town not in (None, "", "all"):
        try:
            town = int(raw_town)
        except ValueError:
            notes.append(("display.note.town", {"value": raw_town}))
    metric = params.get("metric") or DEFAULT_METRIC
    if metric not in METRICS:
        notes.append(("display.note.metric", {"value": metric}))
        metric = DEFAULT_METRIC
    dwell = DEFAULT_DWELL
    raw_dwell = params.get("dwell")
    if raw_dwell not in (None, ""):
        try:
            dwell = int(float(raw_dwell))
            if not MIN_DWELL <= dwell <= MAX_DWELL:
                raise ValueError(raw_dwell)
        except ValueError:
            notes.append(("display.note.dwell", {"value": raw_dwell, "default": DEFAULT_DWELL}))
            dwell = DEFAULT_DWELL
    theme = params.get("theme") or "dark"
    if theme not in THEMES:
        notes.append(("display.note.theme", {"value": theme}))
        theme = "dark"
    return Config(town, metric, dwell, theme, lang, tuple(notes))


def views(config: Config, town_ids: list[int], *, district: bool = True
          ) -> tuple[list[int | None], Config]:
    """The cycle this display shows (None is the district) and the config with a note added when
    ``?town=`` names no town. A display account of one town (``district=False``) shows it alone."""
    if not district:
        return town_ids[:1], config
    if config.town is None:
        return [None, *town_ids], config
    if config.town in town_ids:
        return [config.town], config
    note = ("display.note.town", {"value": str(config.town)})
    return [None, *town_ids], Config(None, config.metric, config.dwell, config.theme,
                                     config.lang, (*config.notes, note))


def note_text(config: Config) -> str:
    """The notes as one line, in the display's language (empty when there are none)."""
    def one(key: str, fmt: dict) -> str:
        if key == "display.note.metric":
            fmt = {**fmt, "default": i18n.t(f"map.metric.{DEFAULT_METRIC}", config.lang)}
        return i18n.t(key, config.lang, **fmt)
    sep = i18n.t("display.sep", config.lang)
    return sep.join(one(key, fmt) for key, fmt in config.notes)


# --- the data ------------------------------------------------------------------------------------


def viewer(token: str | None) -> Viewer | None:
    """The display account that ``token`` signs in, or None (no token, unknown or revoked).

    Looked up when the page opens and again at most every :data:`TOKEN_RECHECK_S` seconds, so a
    revoked link goes dark within a minute; while the store cannot be read the account last
    seen stays signed in (the screen then says the data is old), rather than going dark.
    """
    if not token:
        return None
    known, checked = st.session_state.get(VIEWER_KEY, (None, None))
    if checked is not None and time.monotonic() - checked < TOKEN_RECHECK_S:
        return known
    try:
        known = accounts.resume(ui.engine(), token, kind=accounts.DISPLAY)
    except SQLAlchemyError:
        if known is None:
            raise
    st.session_state[VIEWER_KEY] = (known, time.monotonic())
    return known


@st.cache_resource(show_spinner=False)
def _keeper(url: str, every_s: float, level: str, place: int | None, _scope: Scope) -> LastGood:
    return LastGood.for_engine(ui.engine(), scope=_scope, every_s=every_s)


def reading(account: Viewer) -> Reading:
    """The last good snapshot of the account's jurisdiction, shared by every display this app
    process serves for that jurisdiction."""
    settings = load_settings()
    scope = account.scope()
    return _keeper(settings.database_url, settings.display_check_s, scope.level, scope.id,
                   scope).get()


# --- drawing -------------------------------------------------------------------------------------


def _counters(figures: dict[str, float], snapshot: Snapshot, lang: str) -> str:
    cells = []
    for key in HEADLINE:
        tone = {"overdue_cases": " warn", "on_time_rate": " good"}.get(key, "")
        cells.append(f"<div class='cell{tone}'><div class='k'>{KPIS[key].label(lang)}</div>"
                     f"<div class='v'>{KPIS[key].show(figures[key])}</div></div>")
    period = i18n.t("display.period", lang, since=snapshot.since, until=snapshot.today)
    return (f"<section class='counters'><div class='h'>{period}</div>"
            f"<div class='cells'>{''.join(cells)}</div></section>")


def _img(svg: str, css_class: str) -> str:
    """An SVG as an ``<img>``: ``st.html`` keeps only the HTML profile and strips inline SVG."""
    data = base64.b64encode(svg.encode()).decode()
    return f"<img class='{css_class}' alt='' src='data:image/svg+xml;base64,{data}'>"


def _spark(values: np.ndarray, theme: str) -> str:
    """A 12-month line in a 120 x 40 box (area under it shaded, last month dotted)."""
    colour = _SVG_COLOURS[theme]["accent"]
    top = max(float(values.max()), 1.0)
    xs = np.linspace(4, 116, len(values))
    ys = 36 - values / top * 30
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    area = f"4,36 {line} 116,36"
    return _img(f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 120 40'>"
                f"<polygon points='{area}' fill='{colour}' fill-opacity='0.2'/>"
                f"<polyline points='{line}' fill='none' stroke='{colour}' stroke-width='2.4' "
                f"stroke-linejoin='round'/><circle cx='{xs[-1]:.1f}' cy='{ys[-1]:.1f}' r='2.6' "
                f"fill='{colour}'/></svg>", "spark")


def _trends(trend, lang: str, theme: str) -> str:
    cells = []
    for key in TREND:
        values = trend[key].to_numpy(dtype=float)
        cells.append(f"<div class='trend'><div class='k'>{KPIS[key].label(lang)}"
                     f"<b>{int(values[-1]):,}</b></div>{_spark(values, theme)}</div>")
    months = i18n.t("display.months", lang, first=trend.index[0], last=trend.index[-1])
    return (f"<section class='trends'><div class='h'>{i18n.t('display.trends', lang)} · "
            f"{months}</div><div class='row'>{''.join(cells)}</div></section>")


def _ranking(snapshot: Snapshot, view: int | None, lang: str) -> str:
    table = snapshot.ranking(RANK_BY)
    rates = table[RANK_BY].to_numpy(dtype=float)
    rows = []
    for row, rate in zip(table.itertuples(index=False), rates, strict=True):
        width = 100 * rate if np.isfinite(rate) else 0
        mine = " me" if row.town_id == view else ""
        rows.append(f"<div class='r{mine}'><span class='n'>{row.rank}</span>"
                    f"<span class='t'>{html.escape(str(row.name))}</span>"
                    f"<span class='bar'><i style='width:{width:.0f}%'></i></span>"
                    f"<span class='v'>{KPIS[RANK_BY].show(rate)}</span></div>")
    head = i18n.t("display.ranking", lang, kpi=KPIS[RANK_BY].label(lang))
    if view is not None:
        rank = int(table.loc[table["town_id"] == view, "rank"].iloc[0])
        head += (f"<b class='place'>{i18n.t('display.rank_of', lang, rank=rank, count=len(table))}"
                 "</b>")
    return f"<section class='ranking'><div class='h'>{head}</div>{''.join(rows)}</section>"


def _legend(classes, metric: str, lang: str) -> str:
    rows = [f"<div><i style='background:{c}'></i>{html.escape(label)}</div>"
            for c, label in zip(classes.colours, classes.labels, strict=True)]
    if (classes.index < 0).any():
        rows.append(f"<div><i style='background:{classes.missing_colour}'></i>"
                    f"{i18n.t('display.no_value', lang)}</div>")
    title = i18n.t("display.legend", lang, metric=i18n.t(f"map.metric.{metric}", lang))
    return f"<div class='legend'><b>{title}</b>{''.join(rows)}</div>"


def _map(snapshot: Snapshot, view: int | None, metric: str, lang: str, theme: str) -> str:
    """The grids coloured by ``metric`` with classes taken over the whole district, so a colour
    means the same number in every view of the cycle."""
    grids = snapshot.grids
    values = snapshot.grid_values.reindex(grids["grid_id"])[metric].to_numpy(dtype=float)
    classes = classify(values, METRICS[metric])
    fills = np.array([classes.colours[i] if i >= 0 else classes.missing_colour
                      for i in classes.index], dtype=object)
    names = snapshot.towns.set_index("town_id")["name"]
    css = _MAP_CSS.format(**_SVG_COLOURS[theme])
    if view is None:
        towns = snapshot.town_shapes
        svg = svg_map(grids, towns, list(fills), labels=[names[t] for t in towns["town_id"]],
                      tolerance_m=30.0, css=css)
    else:
        mine = (grids["town_id"] == view).to_numpy()
        svg = svg_map(grids[mine], snapshot.town_shapes[snapshot.town_shapes["town_id"] == view],
                      list(fills[mine]), tolerance_m=8.0, css=css)
    return f"<section class='map'>{_img(svg, 'mq-map')}{_legend(classes, metric, lang)}</section>"


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _body(_snapshot: Snapshot, version: str, day, view: int | None, metric: str,
          lang: str, theme: str) -> str:
    """One view's map and side panel; cached per data version, view, metric, language, theme."""
    figures = _snapshot.figures(view)
    side = (_counters(figures, _snapshot, lang) + _trends(_snapshot.trends[view], lang, theme)
            + _ranking(_snapshot, view, lang))
    return f"<main>{_map(_snapshot, view, metric, lang, theme)}<aside>{side}</aside></main>"


def _steps(cycle: list[int | None], position: int) -> str:
    marks = "".join(f"<i class='{'on' if i == position else ''}'></i>" for i in range(len(cycle)))
    return f"<div class='steps'>{marks}</div>" if len(cycle) > 1 else "<div></div>"


def _offline(lang: str) -> str:
    """The "reconnecting" strip, shown by the stylesheet while Streamlit's connection dialog is
    up (the server is away); hidden inline so that it never flashes before the sheet applies."""
    return f"<div class='mq-offline' style='display:none'>{i18n.t('display.offline', lang)}</div>"


def message(config: Config, key: str, view: str) -> str:
    """A screen with one line on it (no data): waiting for the store, or no valid link."""
    return (f"<div class='mq-wall theme-{config.theme}' data-view='{view}'>"
            f"<div class='waiting'>{i18n.t(key, config.lang)}</div>{_offline(config.lang)}</div>")


def screen(read: Reading, config: Config, count: int) -> str:
    """The whole screen for tick number ``count`` of this display."""
    lang = config.lang
    if read.snapshot is None:
        return message(config, "display.waiting", "none")
    snapshot = read.snapshot
    cycle, config = views(config, snapshot.town_ids, district=snapshot.level == "district")
    position = count % len(cycle)
    view = cycle[position]
    name = i18n.t("display.district", lang) if view is None else snapshot.town_name(view)
    stamp = read.confirmed_at.strftime("%H:%M") if read.confirmed_at else "--:--"
    banner = (f"<div class='banner'>{i18n.t('display.stale', lang, time=stamp)}</div>"
              if read.failing_since is not None else "")
    notes = note_text(config)
    key = "district" if view is None else f"town-{view}"
    return (
        f"<div class='mq-wall theme-{config.theme}' data-view='{key}' data-count='{count}'>"
        f"{banner}<header><div class='title'>"
        f"{i18n.t('display.title', lang, view=html.escape(name))}</div>{_steps(cycle, position)}"
        f"<div class='stamp'>{i18n.t('display.updated', lang, time=stamp)}</div></header>"
        f"{_body(snapshot, snapshot.version, snapshot.today, view, config.metric, lang, config.theme)}"
        f"<footer><span>{i18n.t('app.demo_badge', lang) if snapshot.demo else ''}</span>"
        f"<span class='notes'>{html.escape(notes)}</span></footer>{_offline(lang)}</div>"
    )


def tick(config: Config, token: str | None) -> None:
    """Draw the next view: called by the page's timer (a fragment that reruns every dwell)."""
    try:
        account = viewer(token)
    except SQLAlchemyError:  # the store is down and this screen has not signed in yet
        st.html(message(config, "display.waiting", "none"))
        return
    if account is None:
        st.html(message(config, "display.need_link", "locked"))
        return
    count = st.session_state.get(TICK_KEY, -1) + 1
    st.session_state[TICK_KEY] = count
    st.html(screen(reading(account), config, count))


def style() -> None:
    """The display's stylesheet (``ui/display.css``): Streamlit's chrome hidden, the wall over the
    whole viewport."""
    st.html(STYLESHEET)


_SVG_COLOURS = {
    "dark": {"panel": "#151b23", "border": "#151b23", "outline": "#f3f6f9", "fg": "#f3f6f9", "halo": "#0b0f14",
             "accent": "#4fa3ff"},
    "light": {"panel": "#ffffff", "border": "#9aa5b1", "outline": "#1f2933", "fg": "#0e1318", "halo": "#ffffff",
              "accent": "#0b5cad"},
}
_MAP_CSS = (
    ".g{{stroke:{border};stroke-width:0.5}}"
    ".t{{fill:none;stroke:{outline};stroke-width:2.6;stroke-linejoin:round}}"
    ".l{{font:700 24px 'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
    "sans-serif;fill:{fg};text-anchor:middle;dominant-baseline:middle;paint-order:stroke;"
    "stroke:{halo};stroke-width:6px;stroke-linejoin:round}}"
)
