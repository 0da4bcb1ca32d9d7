"""Offline assets: the files are installed and no map element points outside the app."""

from __future__ import annotations

import folium
import folium.plugins
import pandas as pd

from geo.assets import URL_PREFIX, install_assets, offline_problems, use_local_assets
from geo.basemap import resolve_basemap
from geo.mapview import base_map, legend_html, metric_style, point_layer, to_json
from geo.style import METRICS, classify
from minqing.settings import Settings


def test_install_copies_leaflet_cluster_and_awesome_markers(tmp_path):
    target = install_assets(tmp_path)
    for rel in ("leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/images/marker-icon.png",
                "leaflet.markercluster/leaflet.markercluster.js",
                "leaflet.awesome-markers/leaflet.awesome-markers.min.js",
                "leaflet.awesome-markers/LICENSE"):
        assert (target / rel).is_file(), rel


def test_patched_folium_loads_nothing_from_outside():
    use_local_assets()
    m = folium.Map(tiles=None)
    folium.Marker([30, 120], icon=folium.Icon(color="red")).add_to(m)
    folium.plugins.MarkerCluster().add_to(m)
    assert offline_problems(m) == []
    assert all(url.startswith(URL_PREFIX) for _, url in folium.Map.default_js)


def test_offline_problems_flags_cdn_plugins_and_colormaps():
    use_local_assets()
    import branca.colormap

    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    m.add_child(branca.colormap.LinearColormap(["white", "red"]))
    problems = offline_problems(m)
    assert any("fullscreen" in p.lower() for p in problems)
    assert any("colormap" in p for p in problems)


def test_district_map_has_no_outside_asset(tmp_path):
    use_local_assets()
    from geo.layers import GridCards, GridGeometry

    empty = '{"type":"FeatureCollection","features":[]}'
    geo = GridGeometry((), empty, empty, (120.0, 30.0, 120.1, 30.1))
    m = base_map(geo, GridCards({}, []), [], basemap=resolve_basemap(Settings()))
    classes = classify([], METRICS["households"])
    m.add_child(metric_style(classes, legend_html("t", classes, "none")))
    m.add_child(point_layer("case", []))
    assert offline_problems(m) == []
    html = m.get_root().render()
    assert "cdn." not in html
    assert "unpkg" not in html
    assert "code.jquery" not in html


def test_json_in_scripts_cannot_close_the_script_element():
    assert "</script>" not in to_json(["</script><b>"])


def test_basemap_none_by_default_and_misconfiguration_falls_back():
    assert resolve_basemap(Settings()).kind == "none"
    assert resolve_basemap(Settings()).tiles == ()
    no_key = resolve_basemap(Settings(basemap="tianditu"))
    assert no_key.kind == "none"
    assert "KEY" in no_key.problem
    gaode = resolve_basemap(Settings(basemap="gaode"))
    assert gaode.gcj02
    assert gaode.tiles
    tdt = resolve_basemap(Settings(basemap="tianditu", tianditu_key="k"))
    assert len(tdt.tiles) == 2
    assert "tk=k" in tdt.tiles[0].url
    assert not tdt.gcj02
    xyz = resolve_basemap(Settings(basemap="xyz", basemap_url="http://tiles.intra/{z}/{x}/{y}.png"))
    assert xyz.tiles[0].url.startswith("http://tiles.intra")


def test_mbtiles_are_unpacked_and_served_by_the_app(tmp_path, monkeypatch):
    import sqlite3

    import geo.basemap as basemap

    path = tmp_path / "district.mbtiles"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE metadata (name text, value text)")
        conn.execute("CREATE TABLE tiles (zoom_level int, tile_column int, tile_row int, "
                     "tile_data blob)")
        conn.execute("INSERT INTO metadata VALUES ('format', 'png')")
        conn.execute("INSERT INTO tiles VALUES (1, 0, 0, x'89504e47')")
    monkeypatch.setattr(basemap, "STATIC_DIR", tmp_path / "static")
    resolved = resolve_basemap(Settings(basemap="mbtiles", basemap_url=str(path)))
    assert resolved.kind == "mbtiles"
    assert resolved.tiles[0].url == "/app/static/tiles/district/{z}/{x}/{y}.png"
    # TMS row 0 at zoom 1 is the southern row: XYZ y = 1
    assert (tmp_path / "static/tiles/district/1/0/1.png").read_bytes() == b"\x89PNG"
    assert pd.notna(resolved.tiles[0].attribution)
