"""folium map builders for the district map: a base map that stays put, and light overlays.

The base map holds what changes only with the scope and the data version — basemap tiles, grid
polygons with their tooltips, town outlines and labels — so st_folium mounts it once. What the
user switches (the metric's colours and legend, households, service groups, open cases) goes in
``overlays(...)``: feature groups that st_folium swaps in the live map (``feature_group_to_add``)
without reloading Leaflet or losing the user's pan and zoom.

All data are embedded as JSON whose strings were HTML-escaped by :mod:`geo.layers`; the scripts
only ever concatenate those pre-escaped strings. No branca colormap is used (st_folium would load
d3 from a CDN for it): the legend is plain HTML.
"""

from __future__ import annotations

import json

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geo.basemap import Basemap, add_basemap
from geo.crs import wgs84_to_gcj02
from geo.layers import TRACK_COLOURS, Classes, GridCards, GridGeometry

__all__ = [
    "base_map",
    "hex_rows",
    "legend_html",
    "metric_style",
    "point_layer",
    "shift_rows",
    "to_json",
]

GRID_CLASS = "mq-grid"  # CSS class on every grid polygon's SVG path (tests count them)
TRACK_LEGEND = tuple(TRACK_COLOURS.items())


def to_json(value: object) -> str:
    """Compact JSON that is also safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/")


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


class _Style(_Layer):
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
  box-shadow: 0 1px 6px rgba(0,0,0,.2); font-size: 12px; line-height: 1.6; color: #263238; }
.mq-legend b { display: block; font-size: 13px; margin-bottom: 2px; }
.mq-legend i { display: inline-block; width: 18px; height: 12px; margin-right: 6px;
  vertical-align: -1px; border: 1px solid rgba(0,0,0,.12); }
.mq-legend i.dot { width: 11px; height: 11px; border-radius: 50%; }
.mq-legend .n { color: #8a949e; margin-left: 4px; }
.mq-legend hr { border: 0; border-top: 1px solid #e0e4e8; margin: 5px 0; }
</style>
{% endmacro %}
""")


class _GridLayer(_Layer):
    """Grid polygons (SVG paths with class ``mq-grid``) and their tooltips; neutral until
    :class:`_MetricStyle` colours them."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var cards = {{ this.cards }}, lab = cards.labels;
  function card(i) {
    var r = cards.rows[i], h = "<div class='mq-tip'><b>" + r[0] + "</b><div class='mq-sub'>" +
      r[1] + " · " + r[2] + "</div><div>" + lab.leader + "：" + r[3] + "</div><table>";
    for (var k = 0; k < lab.metrics.length; k++) {
      var v = r[4 + k];
      h += "<tr><td>" + lab.metrics[k] + "</td><td>" + (v === null ? "—" : v) + "</td></tr>";
    }
    return h + "</table><div class='mq-hint'>" + lab.hint + "</div></div>";
  }
  // hover outline in its own pane: re-ordering the grid paths (bringToFront) under the
  // pointer would let a click land on their parent <g> instead of the grid
  var hp = map.createPane("mqHover");
  hp.style.zIndex = 415; hp.style.pointerEvents = "none";
  var outline = L.polygon([], {pane: "mqHover", interactive: false, fill: false,
                               color: "#1f2933", weight: 2.6}).addTo(map);
  var n = 0;
  var layer = L.geoJSON({{ this.geojson }}, {
    style: function () {
      return {color: "#ffffff", weight: 0.7, opacity: 1, fillColor: "#dfe3e8",
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
})();
{% endmacro %}
""")

    def __init__(self, geojson: str, cards: GridCards) -> None:
        super().__init__()
        self._name = "MqGridLayer"
        self.geojson = geojson
        self.cards = to_json({"labels": cards.labels, "rows": cards.rows})
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
    return {color: "#37474f", weight: 2.4, opacity: 0.9, fill: false};
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


def base_map(
    geometry: GridGeometry,
    cards: GridCards,
    town_labels: list[list],
    *,
    basemap: Basemap,
) -> folium.Map:
    """The district (or town) base map: tiles, grids with tooltips, town outlines and names.

    ``geometry`` must already be in the basemap's datum (see ``grid_geometry(..., gcj02=)``).
    """
    minx, miny, maxx, maxy = geometry.bounds
    # keyboard=False: Leaflet focuses the map on mousedown for its keyboard handler, and the
    # focus scrolls the Streamlit page under the pointer, so a click landed on another grid
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=11, tiles=None,
                   control_scale=True, zoom_snap=0.25, zoom_delta=0.5, keyboard=False)
    # this map uses no icon markers: load Leaflet alone (two fewer sequential requests)
    m.default_js = [item for item in m.default_js if item[0] == "leaflet.js"]
    m.default_css = [item for item in m.default_css if item[0] == "leaflet.css"]
    add_basemap(m, basemap)
    m.add_child(_Style())
    m.add_child(_GridLayer(geometry.grids_geojson, cards))
    m.add_child(_TownLayer(geometry.towns_geojson, town_labels))
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(8, 8))
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
                extra: list[tuple[str, str, bool]] = ()) -> str:
    """The legend: metric title, one swatch per class with its grid count, then ``extra`` rows
    ``(colour, label, is_ring)`` for point overlays. ``title``/labels come from the catalogue."""
    rows = [f"<b>{title}</b>"]
    rows += [f"<div><i style='background:{c}'></i>{label}<span class='n'>({n})</span></div>"
             for c, label, n in zip(classes.colours, classes.labels, classes.counts, strict=True)]
    missing = int((classes.index < 0).sum())
    if missing:
        rows.append(f"<div><i style='background:{classes.missing_colour}'></i>{missing_label}"
                    f"<span class='n'>({missing})</span></div>")
    if extra:
        rows.append("<hr>")
        rows += [f"<div><i class='dot' style='{'border:2px solid ' if ring else 'background:'}"
                 f"{colour}'></i>{label}</div>" for colour, label, ring in extra]
    return "".join(rows)


def metric_style(classes: Classes, legend: str) -> folium.FeatureGroup:
    """A feature group whose only job is to colour the grids and show the legend."""
    group = folium.FeatureGroup(name="metric", control=False)
    group.add_child(_MetricStyle(classes, legend))
    return group


class _Points(_Layer):
    """Point overlays in their own pane above the grids.

    Households and hexagons are many: they go on one canvas (no DOM node per point) that takes
    no pointer events, so the grids underneath stay hoverable and clickable. Service groups and
    open cases are few and carry popups: they are SVG circles in a pane whose container ignores
    the pointer while each circle still catches it.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent._parent.get_name() }};
  var group = {{ this._parent.get_name() }};
  var kind = "{{ this.kind }}", rows = {{ this.rows }};
  var paneName = "mqPoints_" + kind;
  if (!map.getPane(paneName)) {
    var pane = map.createPane(paneName);
    pane.style.zIndex = {"hex": 405, "household": 430, "group": 450, "case": 460}[kind];
    pane.style.pointerEvents = "none";
  }
  var many = kind === "hex" || (kind === "household" && !(rows.length && rows[0].length > 3));
  var rend = many ? L.canvas({pane: paneName, padding: 0.3}) : L.svg({pane: paneName});
  rows.forEach(function (r) {
    var o = {renderer: rend, pane: paneName, radius: 3, weight: 0.6, color: "#ffffff",
             fillOpacity: 0.95, interactive: !many};
    if (kind === "household") {
      o.fillColor = r[2] ? "#f9a825" : "#37474f"; o.radius = r[2] ? 2.3 : 1.6;
      o.weight = r[2] ? 0.6 : 0; o.color = "#5d4037"; o.fillOpacity = r[2] ? 0.9 : 0.55;
      if (!many) { o.radius += 1.5; o.weight = 1; }
      var dot = L.circleMarker([r[0], r[1]], o);
      if (!many) { dot.bindTooltip(r[3], {className: "mq-tooltip"}); }
      dot.addTo(group);
    } else if (kind === "group") {
      o.fillColor = "#00796b"; o.radius = 5.5; o.weight = 1.5;
      L.circleMarker([r[0], r[1]], o).bindPopup(r[2], {maxWidth: 320})
        .bindTooltip(r[3], {className: "mq-tooltip", direction: "top"}).addTo(group);
    } else if (kind === "case") {
      o.fillColor = r[2]; o.radius = r[3] ? 5.5 : 4.5; o.weight = r[3] ? 2.5 : 1;
      o.color = r[3] ? "#d50000" : "#ffffff";
      L.circleMarker([r[0], r[1]], o).bindPopup(r[4], {maxWidth: 320}).addTo(group);
    } else if (kind === "hex") {
      var k = r[3], dlat = k / 111320, dlon = k / (111320 * Math.cos(r[0] * Math.PI / 180));
      var pts = [];
      for (var a = 0; a < 6; a++) {
        var ang = Math.PI / 180 * (60 * a + 30);
        pts.push([r[0] + dlat * Math.sin(ang), r[1] + dlon * Math.cos(ang)]);
      }
      L.polygon(pts, {renderer: rend, pane: paneName, stroke: false, fillColor: r[2],
                      fillOpacity: 0.8, interactive: false}).addTo(group);
    }
  });
})();
{% endmacro %}
""")

    def __init__(self, rows: list[list], kind: str) -> None:
        super().__init__()
        self._name = "MqPoints"
        self.rows = to_json(rows)
        self.kind = kind


def _points_group(name: str, rows: list[list], kind: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, control=False)
    group.add_child(_Points(rows, kind))
    return group


HEX_COLOURS = ("#e8eaf6", "#c5cae9", "#9fa8da", "#7986cb", "#5c6bc0", "#3949ab", "#283593")


def hex_rows(cells, *, size_m: float) -> list[list]:
    """``[lat, lon, colour, size_m]`` per hexagon, shaded by the quantile of its count.

    Hexagons are display only (no tooltip): the grid underneath tells the numbers."""
    if len(cells) == 0:
        return []
    counts = cells["households"].to_numpy()
    edges = np.quantile(counts, np.linspace(0, 1, len(HEX_COLOURS) + 1)[1:-1])
    shades = np.searchsorted(edges, counts, side="left")
    return [[float(c.lat), float(c.lon), HEX_COLOURS[int(s)], size_m]
            for c, s in zip(cells.itertuples(index=False), shades, strict=True)]


LAYER_KINDS = ("household", "hex", "group", "case")


def point_layer(kind: str, rows: list[list]) -> folium.FeatureGroup:
    """A feature group drawing ``rows`` on one canvas renderer.

    ``kind`` is ``household`` (individual households, those needing care larger and orange;
    hoverable only when the rows carry tooltips, see :func:`geo.layers.household_rows`),
    ``hex`` (household counts in hexagons), ``group`` (service groups, popup with members) or
    ``case`` (open cases coloured by track, overdue ones larger with a red ring).
    """
    if kind not in LAYER_KINDS:
        raise ValueError(f"unknown point layer {kind!r}")
    group = folium.FeatureGroup(name=kind, control=False)
    group.add_child(_Points(rows, kind))
    return group
