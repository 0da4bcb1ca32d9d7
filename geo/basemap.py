"""Basemaps chosen by configuration (``MINQING_BASEMAP``): none by default.

- ``none``: no tiles at all, only administrative boundaries (works on any intranet);
- ``tianditu``: the national map service, needs ``MINQING_TIANDITU_KEY``; CGCS2000, no shift;
- ``gaode``: Gaode/AutoNavi tiles, drawn in GCJ-02: overlays are shifted for display only;
- ``osm``: OpenStreetMap (internet only);
- ``xyz``: an intranet tile server, ``MINQING_BASEMAP_URL`` a ``{z}/{x}/{y}`` template;
- ``mbtiles``: an MBTiles file (``MINQING_BASEMAP_URL`` its path), unpacked once into
  ``static/tiles/`` and served by the app itself.

A misconfigured basemap (no key, missing file) falls back to ``none`` with a reason, rather than
drawing an empty grey map.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import folium

from geo.assets import STATIC_DIR
from minqing.settings import Settings

__all__ = ["Basemap", "add_basemap", "resolve_basemap", "unpack_mbtiles"]

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
_GAODE = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
          "&x={x}&y={y}&z={z}")
_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_URL = "/app/static/tiles"


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """What to draw under the overlays and whether overlays need the GCJ-02 shift."""

    kind: str
    tiles: tuple[Tiles, ...] = ()
    gcj02: bool = False
    problem: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def unpack_mbtiles(path: Path, target: Path | None = None) -> tuple[Path, str]:
    """Write an MBTiles file's tiles as ``{z}/{x}/{y}.<ext>`` files under ``static/tiles``.

    MBTiles stores rows in TMS order (y counted from the south); XYZ URLs count from the north,
    so ``y = 2**z - 1 - row``. Done once per file version (a stamp records the source mtime).

    Returns
    -------
    tuple
        The folder the tiles are in and their file extension.
    """
    target = target or STATIC_DIR / "tiles" / path.stem
    stamp = target / ".source"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
        ext = {"jpeg": "jpg"}.get(meta.get("format", "png"), meta.get("format", "png"))
        signature = f"{path.resolve()}:{path.stat().st_mtime_ns}"
        if stamp.exists() and stamp.read_text() == signature:
            return target, ext
        for z, x, row, data in conn.execute(
            "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
        ):
            out = target / str(z) / str(x) / f"{(1 << z) - 1 - row}.{ext}"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
    stamp.write_text(signature)
    return target, ext


def _mbtiles(settings: Settings) -> Basemap:
    path = Path(settings.basemap_url)
    if not settings.basemap_url or not path.is_file():
        return Basemap("none", problem=f"MBTiles file not found: {settings.basemap_url!r}")
    folder, ext = unpack_mbtiles(path)
    url = f"{TILES_URL}/{folder.name}/{{z}}/{{x}}/{{y}}.{ext}"
    return Basemap("mbtiles", (Tiles(url, f"MBTiles: {path.name}", ""),))


def resolve_basemap(settings: Settings) -> Basemap:
    """The basemap the settings ask for, or ``none`` with the reason it could not be used."""
    kind = settings.basemap
    if kind == "tianditu":
        if not settings.tianditu_key:
            return Basemap("none", problem="MINQING_TIANDITU_KEY is not set")
        sub = "01234567"
        return Basemap("tianditu", tuple(
            Tiles(_TIANDITU.replace("{layer}", layer).replace("{key}", settings.tianditu_key),
                  "© 天地图 Tianditu", sub) for layer in ("vec", "cva")))
    if kind == "gaode":
        return Basemap("gaode", (Tiles(_GAODE, "© 高德地图 AutoNavi", "1234"),), gcj02=True)
    if kind == "osm":
        return Basemap("osm", (Tiles(_OSM, "© OpenStreetMap contributors", ""),))
    if kind == "xyz":
        if "{z}" not in settings.basemap_url:
            return Basemap("none", problem="MINQING_BASEMAP_URL needs a {z}/{x}/{y} template")
        return Basemap("xyz", (Tiles(settings.basemap_url, "intranet tiles", "abc"),))
    if kind == "mbtiles":
        return _mbtiles(settings)
    if kind not in ("none", ""):
        return Basemap("none", problem=f"unknown basemap {kind!r}")
    return Basemap("none")


def add_basemap(m: folium.Map, basemap: Basemap) -> folium.Map:
    """Add the basemap's tile layers to ``m`` (nothing for ``none``)."""
    for tiles in basemap.tiles:
        kwargs = {"subdomains": tiles.subdomains} if tiles.subdomains else {}
        folium.TileLayer(tiles.url, attr=tiles.attribution, max_zoom=tiles.max_zoom,
                         control=False, **kwargs).add_to(m)
    return m
