"""folium map builders: a base map that stays put, and light overlays swapped in place.

The base map holds what changes only with the scope and the data version — basemap tiles, grid
polygons with their tooltips, town outlines and labels, the map's own controls (full screen, back
to the whole scope, grid search) — so st_folium mounts it once. What the user switches or pans
to (the metric's colours and legend, households, service groups, open cases) goes in feature
groups that st_folium swaps in the live map (``feature_group_to_add``) without reloading Leaflet
or losing the user's pan and zoom.

Colours come from :mod:`geo.style` only: the base map installs them as ``window.mqPalette`` and
every script below reads them from there. All data are embedded as JSON whose strings were
HTML-escaped by :mod:`geo.layers`; the scripts only ever concatenate those pre-escaped strings
(and set user-typed search text as ``textContent``/``value``, never as HTML). No branca colormap
and no folium plugin is used (st_folium would load d3, and the plugins their files, from a CDN):
the legend is plain HTML and the full-screen control uses the browser's Fullscreen API.
"""

from __future__ import annotations

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geo.basemap import Basemap, add_basemap
from geo.crs import wgs84_to_gcj02
from geo.layers import GridCards, GridGeometry, to_json
from geo.style import Classes, palette_json

__all__ = [
    "GRID_CLASS",
    "LAYER_KINDS",
    "base_map",
    "legend_html",
    "metric_style",
    "new_map",
    "point_layer",
    "shift_rows",
    "to_json",
]

LEGEND_ROOM = 230
"""Pixels kept free on the right when fitting the whole scope: the legend sits there."""
GRID_CLASS = "mq-grid"  # CSS class on every grid polygon's SVG path (tests count them)
LEAFLET_PREFIX = '<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>'
"""Leaflet's attribution prefix without the flag Leaflet 1.9 puts before its name."""


def shift_rows(rows: list[list], gcj02: bool) -> list[list]:
    """Shift ``[lat, lon, ...]`` rows to GCJ-02 when the basemap is Gaode (display only)."""
    if not gcj02 or not rows:
        return rows
    lat = np.array([r[0] for r in rows], dtype=float)
    lon = np.array([r[1] for r in rows], dtype=float)
    lon2, lat2 = wgs84_to_gcj02(lon, lat)
    return [[round(float(a), 5), round(float(b), 5), *r[2:]]
            for a, b, r in zip(lat2, lon2, rows, strict=True)]


class _Rendered(Element):
    """Text that is already rendered, returned as it is."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class _Layer(MacroElement):
    """A MacroElement whose rendered parts are added to the page as they are.

    branca wraps each rendered part in ``Element(text)``, which compiles the text as a Jinja
    template again: for the grid layer (a megabyte of JSON) that was ~80% of a district map's
    render, ~35 ms of server CPU on every script run (cProfile, bench/load.py). It would also
    evaluate any ``{{ ... }}`` in the data (the data escapes braces too: geo.layers.html_text).
    """

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a map layer renders inside a folium Figure")
        macros = self._template.module.__dict__
        for part, target in (("header", figure.header), ("html", figure.html),
                             ("script", figure.script)):
            macro = macros.get(part)
            if macro is not None:
                target.add_child(_Rendered(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class _Chrome(_Layer):
    """Shared look of every map: CSS, the palette for the scripts, a plain attribution prefix.

    The palette is set in the script, not the header: st_folium adds the header with
    ``innerHTML``, which never runs a ``<script>``; this element is the map's first child, so
    the palette is there before any layer's script reads it."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.leaflet-container { background: #e9eef2; font-family: "PingFang SC", "Microsoft YaHei",
  "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; }
.mq-tooltip { border-radius: 6px; box-shadow: 0 2px 8px rgba(0,0,0,.18); padding: 6px 9px; }
.mq-tip { font-size: 13px; line-height: 1.45; min-width: 150px; }
.mq-tip b { font-size: 14px; }
.mq-tip table { border-collapse: collapse; margin-top: 3px; }
.mq-tip td { padding: 0 8px 0 0; } .mq-tip td + td { text-align: right; font-weight: 600; }
.mq-sub { color: #5f6b76; font-size: 12px; }
.mq-hint { color: #8a949e; font-size: 11px; margin-top: 3px; }
.mq-late { color: #c62828; font-weight: 600; }
.mq-town-label { background: none; border: none; }
.mq-town-label span { display: inline-block; transform: translate(-50%, -50%);
  white-space: nowrap; font-size: 14px; font-weight: 700; color: #263238; letter-spacing: 1px;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 6px #fff; }
.mq-legend { background: rgba(255,255,255,.94); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 6px rgba(0,0,0,.2); font-size: 12px; line-height: 1.6; color: #263238;
  max-width: 260px; }
.mq-legend b { display: block; font-size: 13px; margin-bottom: 2px; }
.mq-legend i { display: inline-block; width: 18px; height: 12px; margin-right: 6px;
  vertical-align: -1px; border: 1px solid rgba(0,0,0,.12); box-sizing: border-box; }
.mq-legend i.dot { width: 11px; height: 11px; border-radius: 50%; }
.mq-legend .n { color: #8a949e; margin-left: 4px; }
.mq-legend hr { border: 0; border-top: 1px solid #e0e4e8; margin: 5px 0; }
.mq-legend .row { display: flex; flex-wrap: wrap; column-gap: 10px; }
.mq-legend .sub { color: #5f6b76; font-size: 11px; }
.mq-bar a, .mq-bar button { display: block; width: 30px; height: 30px; line-height: 30px;
  text-align: center; font-size: 17px; color: #263238; background: #fff; border: 0;
  cursor: pointer; padding: 0; }
.mq-bar button + button { border-top: 1px solid #ccc; }
.mq-bar button:hover { background: #f4f4f4; }
.mq-search { background: #fff; padding: 4px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.25); }
.mq-search input { width: 210px; font-size: 13px; padding: 4px 6px; border: 1px solid #cfd4da;
  border-radius: 3px; }
.mq-search .miss { color: #c62828; font-size: 12px; padding: 2px 4px 0; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
window.mqPalette = {{ this.palette }};
{{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix }});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "MqChrome"
        self.palette = palette_json()
        self.prefix = to_json(LEAFLET_PREFIX)


def new_map(*, location: list[float], zoom: float, basemap: Basemap) -> folium.Map:
    """An empty map with the app's look, offline assets and basemap (both maps start here).

    keyboard=False: Leaflet focuses the map on mousedown for its keyboard handler, and the focus
    scrolls the Streamlit page under the pointer, so a click landed on another grid.
    """
    m = folium.Map(location=location, zoom_start=zoom, tiles=None, control_scale=True,
                   zoom_snap=0.25, zoom_delta=0.5, keyboard=False)
    # these maps use no icon markers: load Leaflet alone (two fewer sequential requests)
    m.default_js = [item for item in m.default_js if item[0] == "leaflet.js"]
    m.default_css = [item for item in m.default_css if item[0] == "leaflet.css"]
    add_basemap(m, basemap)
    m.add_child(_Chrome())
    return m


class _GridLayer(_Layer):
    """Grid polygons (SVG paths with class ``mq-grid``) and their tooltips; neutral until
    :class:`_MetricStyle` colours them."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, P = window.mqPalette;
  var cards = {{ this.cards }}, lab = cards.labels;
  function card(i) {
    var r = cards.rows[i], h = "<div class='mq-tip'><b>" + r[0] + "</b><div class='mq-sub'>" +
      r[1] + " · " + r[2] + " · " + r[3] + "</div><div>" + lab.leader + "：" + r[4] +
      "</div><table>";
    for (var k = 0; k < lab.metrics.length; k++) {
      var v = r[5 + k];
      h += "<tr><td>" + lab.metrics[k] + "</td><td>" + (v === null ? "—" : v) + "</td></tr>";
    }
    return h + "</table><div class='mq-hint'>" + lab.hint + "</div></div>";
  }
  // hover outline in its own pane: re-ordering the grid paths (bringToFront) under the
  // pointer would let a click land on their parent <g> instead of the grid
  var hp = map.createPane("mqHover");
  hp.style.zIndex = 415; hp.style.pointerEvents = "none";
  var outline = L.polygon([], {pane: "mqHover", interactive: false, fill: false,
                               color: P.hover_line, weight: 2.6}).addTo(map);
  var n = 0;
  var layer = L.geoJSON({{ this.geojson }}, {
    style: function () {
      return {color: P.grid_line, weight: 0.7, opacity: 1, fillColor: P.grid_fill,
              fillOpacity: 0.82, className: "{{ this.css_class }}"};
    },
    onEachFeature: function (feature, lyr) {
      feature.properties.i = n;
      var i = n;
      lyr.bindTooltip(function () { return card(i); },
                      {sticky: true, direction: "top", className: "mq-tooltip"});
      lyr.on("mouseover", function () { outline.setLatLngs(lyr.getLatLngs()); });
      lyr.on("mouseout", function () { outline.setLatLngs([]); });
      n += 1;
    }
  }).addTo(map);
  window.mqGridLayer = layer;
  window.mqGridCards = cards;
})();
{% endmacro %}
""")

    def __init__(self, geojson: str, cards: GridCards) -> None:
        super().__init__()
        self._name = "MqGridLayer"
        self.geojson = geojson
        self.cards = cards.json
        self.css_class = GRID_CLASS


class _TownLayer(_Layer):
    """Town outlines above the grids (not clickable: clicks reach the grid) and their names."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var pane = map.createPane("mqTowns");
  pane.style.zIndex = 420; pane.style.pointerEvents = "none";
  L.geoJSON({{ this.geojson }}, {pane: "mqTowns", interactive: false, style: function () {
    return {color: window.mqPalette.town_line, weight: 2.4, opacity: 0.9, fill: false};
  }}).addTo(map);
  var labels = {{ this.labels }};
  var lp = map.createPane("mqLabels");
  lp.style.zIndex = 640; lp.style.pointerEvents = "none";
  labels.forEach(function (r) {
    L.marker([r[0], r[1]], {pane: "mqLabels", interactive: false, keyboard: false,
      icon: L.divIcon({className: "mq-town-label", html: "<span>" + r[2] + "</span>",
                       iconSize: null})}).addTo(map);
  });
})();
{% endmacro %}
""")

    def __init__(self, geojson: str, labels: list[list]) -> None:
        super().__init__()
        self._name = "MqTownLayer"
        self.geojson = geojson
        self.labels = to_json(labels)


class _Controls(MacroElement):
    """Full screen (the browser's Fullscreen API), back to the whole scope, and a search box
    that finds a grid by name or code (from the grid tooltips' data: nothing more is sent),
    zooms to it and outlines it. All in the map, so they work in full screen too, and none of
    them reruns the app."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, lab = {{ this.labels }};
  var home = {{ this.home }}, LEGEND_ROOM = {{ this.legend_room }};
  var svg = "<svg viewBox='0 0 24 24' width='18' height='18' fill='none' stroke='#263238' " +
    "stroke-width='2.2' stroke-linecap='round' stroke-linejoin='round' style='vertical-align:-4px'>";
  var ICONS = {  // drawn here: no icon font or image file to load
    home: svg + "<path d='M3 11l9-7 9 7'/><path d='M5 10v10h14V10'/></svg>",
    fullscreen: svg + "<path d='M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5'/></svg>"
  };
  var Bar = L.Control.extend({options: {position: "topleft"}, onAdd: function () {
    var bar = L.DomUtil.create("div", "leaflet-bar mq-bar");
    L.DomEvent.disableClickPropagation(bar);
    function button(cls, icon, title, act) {
      var b = L.DomUtil.create("button", cls, bar);
      b.type = "button"; b.innerHTML = icon; b.title = title;
      b.setAttribute("aria-label", title);
      L.DomEvent.on(b, "click", function (e) { L.DomEvent.stop(e); act(b); });
      return b;
    }
    button("mq-home", ICONS.home, lab.home, function () {
      map.fitBounds(home, {paddingTopLeft: [8, 8], paddingBottomRight: [LEGEND_ROOM, 8]});
    });
    var container = map.getContainer();
    if (container.requestFullscreen) {
      var fs = button("mq-fullscreen", ICONS.fullscreen, lab.fullscreen, function () {
        if (document.fullscreenElement) { document.exitFullscreen(); }
        else { container.requestFullscreen(); }
      });
      document.addEventListener("fullscreenchange", function () {
        var on = document.fullscreenElement === container;
        fs.title = on ? lab.exit_fullscreen : lab.fullscreen;
        fs.setAttribute("aria-label", fs.title);
        container.classList.toggle("mq-is-fullscreen", on);
        setTimeout(function () { map.invalidateSize(); }, 50);
      });
    }
    return bar;
  }});
  new Bar().addTo(map);

  var grids = [];
  if (window.mqGridLayer) {
    window.mqGridLayer.eachLayer(function (l) { grids[l.feature.properties.i] = l; });
  }
  var Search = L.Control.extend({options: {position: "topright"}, onAdd: function () {
    var box = L.DomUtil.create("div", "mq-search");
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
    var input = L.DomUtil.create("input", "", box), list = L.DomUtil.create("datalist", "", box);
    var miss = L.DomUtil.create("div", "miss", box);
    list.id = "mq-grid-names"; input.setAttribute("list", list.id);
    input.type = "search"; input.placeholder = lab.search; input.setAttribute("aria-label", lab.search);
    // the grid cards carry names and codes HTML-escaped; a <textarea> turns the entities back
    // into the characters typed (its content is only ever text, never markup)
    var plain = document.createElement("textarea");
    function text(s) { plain.innerHTML = s; return plain.value; }
    var rows = ((window.mqGridCards || {}).rows || []).map(function (r) {
      var code = text(r[1]);
      return [text(r[0]) + " · " + code, code];
    });
    rows.forEach(function (r) {
      var o = document.createElement("option"); o.value = r[0]; list.appendChild(o);
    });
    var focus = L.polygon([], {pane: "mqHover", interactive: false, fill: false,
                               color: window.mqPalette.focus_line, weight: 3.5}).addTo(map);
    function find(text) {
      text = (text || "").trim().toLowerCase();
      if (!text) { return -1; }
      for (var i = 0; i < rows.length; i++) {
        if (rows[i][0].toLowerCase() === text) { return i; }
      }
      for (var j = 0; j < rows.length; j++) {
        if (rows[j][1].toLowerCase() === text || rows[j][0].toLowerCase().indexOf(text) >= 0) {
          return j;
        }
      }
      return -1;
    }
    function go() {
      var i = find(input.value);
      miss.textContent = i < 0 && input.value.trim() ? lab.not_found : "";
      if (i < 0 || !grids[i]) { return; }
      focus.setLatLngs(grids[i].getLatLngs());
      map.fitBounds(grids[i].getBounds(), {padding: [30, 30], maxZoom: 16});
      window.mqFocusedGrid = grids[i].feature.properties.g;
    }
    L.DomEvent.on(input, "change", go);
    L.DomEvent.on(input, "keydown", function (e) { if (e.key === "Enter") { go(); } });
    return box;
  }});
  new Search().addTo(map);
})();
{% endmacro %}
""")

    def __init__(self, labels: dict[str, str], home: list[list[float]]) -> None:
        super().__init__()
        self._name = "MqControls"
        self.labels = to_json(labels)
        self.home = to_json(home)
        self.legend_room = LEGEND_ROOM


class _FitScope(_Layer):
    """Open on the whole scope, at once: folium's ``fit_bounds`` animates the zoom, so the view
    st_folium first reports (and :class:`_QuietOpening` compares with) would be a mid-way one."""

    _template = Template("""
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.fitBounds({{ this.bounds }},
  {paddingTopLeft: [8, 8], paddingBottomRight: [{{ this.legend_room }}, 8], animate: false});
{% endmacro %}
""")

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "MqFitScope"
        self.bounds = to_json(bounds)
        self.legend_room = LEGEND_ROOM


class _QuietOpening(_Layer):
    """Keeps st_folium from reporting the view the map opened at.

    st_folium reports the map's view once its script has run, before anyone has touched the
    map, and again whenever the frame is resized. When the server drew the map for exactly that
    opening view (the whole scope, nothing depending on the view yet), each such report only
    costs another run of the page (as much server CPU as a bare Streamlit page view,
    bench/load.py). So while the centre and zoom are still the opening ones and no household
    cells are drawn (with them the view decides whether households are shown one by one), a
    report that carries nothing but the view is dropped (st_folium still records it as sent);
    a click, or any pan or zoom, goes out as usual, and from then on everything does. Household
    cells drawn later without a view ask for one (``window.mqViewUnsent``, see ``_Points``).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var init = window.initComponent, S = window.Streamlit, VIEW = ["bounds", "zoom", "center"];
  if (!init || !S) { return; }
  window.initComponent = function (m, hover) {
    var send = S.setComponentValue, c0 = m.getCenter(), z0 = m.getZoom();
    window.mqQuiet = true;
    S.setComponentValue = function (value) {
      var c = m.getCenter(), onlyView = Object.keys(value || {}).every(function (k) {
        return VIEW.indexOf(k) >= 0 || value[k] === null || value[k] === undefined;
      });
      var cells = window.mqHouseholds && window.mqHouseholds.mode === "cell";
      if (window.mqQuiet && onlyView && !cells && m.getZoom() === z0 &&
          Math.abs(c.lat - c0.lat) < 1e-7 && Math.abs(c.lng - c0.lng) < 1e-7) {
        window.mqViewUnsent = true;
        return;
      }
      window.mqQuiet = false;
      window.mqViewUnsent = false;
      return send.apply(S, arguments);
    };
    window.initComponent = init;
    init(m, hover);
  };
})();
{% endmacro %}
""")


def base_map(
    geometry: GridGeometry,
    cards: GridCards,
    town_labels: list[list],
    *,
    basemap: Basemap,
    controls: dict[str, str] | None = None,
    view: tuple[float, float, float] | None = None,
    quiet_opening: bool = False,
) -> folium.Map:
    """The district (or town) base map: tiles, grids with tooltips, town outlines and names.

    Parameters
    ----------
    geometry : in the basemap's datum already (see ``grid_geometry(..., gcj02=)``).
    cards : tooltip rows, in the geometry's order (``[name, code, town, kind, leader, ...]``).
    town_labels : ``[lat, lon, name]`` rows.
    basemap : from :func:`geo.basemap.resolve_basemap`.
    controls : catalogue labels ``home``, ``fullscreen``, ``exit_fullscreen``, ``search``,
        ``not_found``; without them the map has no controls of its own.
    view : ``(lat, lon, zoom)`` to open at (a shared link); the whole scope when None.
    quiet_opening : the server has drawn everything the opening view needs: do not report it
        (see :class:`_QuietOpening`).
    """
    minx, miny, maxx, maxy = geometry.bounds
    centre = [(miny + maxy) / 2, (minx + maxx) / 2] if view is None else [view[0], view[1]]
    m = new_map(location=centre, zoom=11 if view is None else view[2], basemap=basemap)
    m.add_child(_GridLayer(geometry.grids_geojson, cards))
    m.add_child(_TownLayer(geometry.towns_geojson, town_labels))
    home = [[miny, minx], [maxy, maxx]]
    if controls is not None:
        m.add_child(_Controls(controls, home))
    if view is None:
        m.add_child(_FitScope(home))
    if quiet_opening:
        m.add_child(_QuietOpening())
    return m


# --- overlays (feature groups) ---------------------------------------------------------------


class _MetricStyle(_Layer):
    """Colours the grid layer by class and replaces the legend control."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent._parent.get_name() }};
  var cls = {{ this.classes }}, col = {{ this.colours }}, miss = "{{ this.missing }}";
  if (window.mqGridLayer) {
    window.mqGridLayer.eachLayer(function (l) {
      var c = cls[l.feature.properties.i];
      l.setStyle({fillColor: (c === undefined || c < 0) ? miss : col[c]});
    });
  }
  if (window.mqLegend) { window.mqLegend.remove(); }
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "mq-legend");
    div.innerHTML = {{ this.legend }};
    return div;
  };
  legend.addTo(map);
  window.mqLegend = legend;
})();
{% endmacro %}
""")

    def __init__(self, classes: Classes, legend: str) -> None:
        super().__init__()
        self._name = "MqMetricStyle"
        self.classes = to_json([int(c) for c in classes.index])
        self.colours = to_json(list(classes.colours))
        self.missing = classes.missing_colour
        self.legend = to_json(legend)


def legend_html(title: str, classes: Classes, missing_label: str,
                extra: list[str] = ()) -> str:
    """The legend: metric title, one swatch per class with its grid count, then ``extra``
    sections (HTML from :func:`legend_section`). ``title``/labels come from the catalogue."""
    rows = [f"<b>{title}</b>"]
    rows += [f"<div><i style='background:{c}'></i>{label}<span class='n'>({n})</span></div>"
             for c, label, n in zip(classes.colours, classes.labels, classes.counts, strict=True)]
    missing = int((classes.index < 0).sum())
    if missing:
        rows.append(f"<div><i style='background:{classes.missing_colour}'></i>{missing_label}"
                    f"<span class='n'>({missing})</span></div>")
    for section in extra:
        rows.append("<hr>" + section)
    return "".join(rows)


def legend_section(title: str, entries: list[tuple[str, str]], note: str = "") -> str:
    """One overlay's part of the legend: a title, ``(swatch_style, label)`` dots side by side
    (a swatch style is CSS for a round mark), and an optional note under them."""
    dots = "".join(f"<span><i class='dot' style='{style}'></i>{label}</span>"
                   for style, label in entries)
    tail = f"<div class='sub'>{note}</div>" if note else ""
    return f"<div><b>{title}</b><div class='row'>{dots}</div>{tail}</div>"


def metric_style(classes: Classes, legend: str) -> folium.FeatureGroup:
    """A feature group whose only job is to colour the grids and show the legend."""
    group = folium.FeatureGroup(name="metric", control=False)
    group.add_child(_MetricStyle(classes, legend))
    return group


class _Points(_Layer):
    """Point overlays in their own panes above the grids.

    Households and household cells are many: they go on one canvas (no DOM node per point)
    that takes no pointer events, so the grids underneath stay hoverable and clickable. Service
    groups, open cases and a single grid's households (rows with a tooltip) are few: SVG
    circles in a pane whose container ignores the pointer while each circle still catches it.
    After drawing households the script records what it drew in ``window.mqHouseholds``
    (``mode``, ``n``, ``box``, ``seq``), which the browser tests and the benchmark wait on.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent._parent.get_name() }};
  var group = {{ this._parent.get_name() }}, P = window.mqPalette;
  var kind = "{{ this.kind }}", rows = {{ this.rows }};
  var paneName = "mqPoints_" + kind;
  if (!map.getPane(paneName)) {
    var pane = map.createPane(paneName);
    pane.style.zIndex = {"cell": 430, "household": 430, "group": 450, "case": 460}[kind];
    pane.style.pointerEvents = "none";
  }
  var many = kind === "cell" || (kind === "household" && !(rows.length && rows[0].length > 3));
  var rend = many ? L.canvas({pane: paneName, padding: 0.3}) : L.svg({pane: paneName});
  rows.forEach(function (r) {
    var o = {renderer: rend, pane: paneName, radius: 3, weight: 0.6, color: P.case_line,
             fillOpacity: 0.95, interactive: !many};
    if (kind === "household") {
      var care = r[2] > 0;
      o.fillColor = P.care[r[2]] || P.household; o.color = P.household_line;
      o.radius = care ? 4 : 2.8; o.weight = care ? 1 : 0.7; o.fillOpacity = care ? 0.95 : 0.85;
      if (!many) { o.radius += 1.5; }
      var dot = L.circleMarker([r[0], r[1]], o);
      if (!many) { dot.bindTooltip(r[3], {className: "mq-tooltip"}); }
      dot.addTo(group);
    } else if (kind === "cell") {
      var rad = P.cell_radii[r[2]] || P.cell_radii[0];
      L.circleMarker([r[0], r[1]], {renderer: rend, pane: paneName, radius: rad,
        fillColor: P.cell, fillOpacity: 0.5, color: P.household_line, weight: 0.8,
        interactive: false}).addTo(group);
      if (r[3] > 0) {
        L.circleMarker([r[0], r[1]], {renderer: rend, pane: paneName,
          radius: Math.max(1.2, rad * Math.sqrt(r[3])), fillColor: P.cell_care,
          fillOpacity: 0.95, stroke: false, interactive: false}).addTo(group);
      }
    } else if (kind === "group") {
      o.fillColor = P.group; o.radius = 4.5; o.weight = 1.2;
      L.circleMarker([r[0], r[1]], o).bindPopup(r[2], {maxWidth: 320})
        .bindTooltip(r[3], {className: "mq-tooltip", direction: "top"}).addTo(group);
    } else if (kind === "case") {
      o.fillColor = P.tracks[r[2]] || P.no_data; o.radius = r[3] ? 5.5 : 4.5;
      o.weight = r[3] ? 2.5 : 1; o.color = r[3] ? P.overdue_ring : P.case_line;
      L.circleMarker([r[0], r[1]], o).bindPopup(r[4], {maxWidth: 320}).addTo(group);
    }
  });
  if (kind === "cell" && window.mqViewUnsent && window.__GLOBAL_DATA__) {
    // households were switched on before the map was moved: the server needs the view to
    // send the households in it (see _QuietOpening)
    window.mqQuiet = false;
    window.mqViewUnsent = false;
    window.__GLOBAL_DATA__.previous_data = null;
    setTimeout(function () { map.fire("moveend"); }, 0);
  }
  if (kind === "household" || kind === "cell") {
    var seq = ((window.mqHouseholds || {}).seq || 0) + 1;
    window.mqHouseholds = {mode: kind, n: rows.length, box: {{ this.box }}, seq: seq};
  }
})();
{% endmacro %}
""")

    def __init__(self, rows: list[list], kind: str, box: list[float] | None) -> None:
        super().__init__()
        self._name = "MqPoints"
        self.rows = to_json(rows)
        self.kind = kind
        self.box = to_json(box)


LAYER_KINDS = ("household", "cell", "group", "case")


def point_layer(kind: str, rows: list[list], *, box: list[float] | None = None
                ) -> folium.FeatureGroup:
    """A feature group drawing ``rows``.

    ``kind`` is ``household`` (``[lat, lon, care]`` rows, coloured by special-household
    category; hoverable only when the rows carry tooltips, see :func:`geo.layers.household_rows`),
    ``cell`` (``[lat, lon, size_class, care_share]``: the household aggregate),
    ``group`` (service groups, popup with members) or ``case`` (``[lat, lon, track, overdue,
    popup]``: open cases coloured by track, overdue ones larger with a red ring). ``box``
    (``[south, west, north, east]``) is the area households were sent for.
    """
    if kind not in LAYER_KINDS:
        raise ValueError(f"unknown point layer {kind!r}")
    group = folium.FeatureGroup(name=kind, control=False)
    group.add_child(_Points(rows, kind, box))
    return group
