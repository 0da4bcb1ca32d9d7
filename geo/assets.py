"""Offline map assets: every Leaflet/plugin JS and CSS file is served by the app itself.

folium and streamlit-folium load Leaflet, jQuery, Bootstrap and plugins from public CDNs by
default; on a government intranet those requests fail and the map iframe stays empty. This module

1. copies the files the maps need into ``static/vendor/`` next to ``app.py`` (Streamlit serves that
   folder at ``/app/static/`` because ``server.enableStaticServing`` is on), from the
   ``xstatic-leaflet`` / ``xstatic-leaflet-markercluster`` packages and from the few files vendored
   with their licences in ``geo/vendor/``;
2. points ``folium.Map`` and the plugins we use at those local URLs, and drops what the maps do not
   need (jQuery, Bootstrap, glyphicons, Font Awesome): nothing is left that could leave localhost.

Call :func:`use_local_assets` once before building any folium map; it is cheap and idempotent.

Examples
--------
>>> from geo.assets import use_local_assets
>>> use_local_assets()  # doctest: +SKIP
>>> import folium
>>> folium.Map().default_js[0][1]  # doctest: +SKIP
'/app/static/vendor/leaflet/leaflet.js'
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import branca.colormap
import folium
import folium.plugins

from minqing.settings import ROOT

STATIC_DIR = ROOT / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
URL_PREFIX = "/app/static/vendor"
_VENDORED = Path(__file__).resolve().parent / "vendor"

__all__ = [
    "URL_PREFIX",
    "VENDOR_DIR",
    "asset_urls",
    "install_assets",
    "offline_problems",
    "use_local_assets",
]


@dataclass(frozen=True)
class _Bundle:
    """One library: where its files come from and which of them the pages load."""

    name: str
    source: Path
    js: tuple[str, ...] = ()
    css: tuple[str, ...] = ()


def _xstatic_dir(module: str) -> Path:
    mod = __import__(f"xstatic.pkg.{module}", fromlist=["BASE_DIR"])
    return Path(mod.BASE_DIR)


def _bundles() -> list[_Bundle]:
    return [
        _Bundle("leaflet", _xstatic_dir("leaflet"), ("leaflet.js",), ("leaflet.css",)),
        _Bundle(
            "leaflet.markercluster",
            _xstatic_dir("leaflet_markercluster"),
            ("leaflet.markercluster.js",),
            ("MarkerCluster.css", "MarkerCluster.Default.css"),
        ),
        _Bundle(
            "leaflet.awesome-markers",
            _VENDORED / "leaflet.awesome-markers",
            ("leaflet.awesome-markers.min.js",),
            ("leaflet.awesome-markers.css",),
        ),
    ]


def _needs_copy(src: Path, dst: Path) -> bool:
    if not dst.exists():
        return True
    a, b = src.stat(), dst.stat()
    return a.st_size != b.st_size or a.st_mtime > b.st_mtime


def install_assets(target: Path | None = None) -> Path:
    """Copy every bundle's files (JS, CSS, images, licence) under ``target``.

    Files already present and up to date are left alone, so calling this on every page load
    costs a few ``stat`` calls. ``static/vendor/`` is git-ignored: a fresh checkout gets its files
    the first time a map is drawn (or by ``python -m geo.assets``).

    Parameters
    ----------
    target : Path, optional
        Destination folder; defaults to ``static/vendor`` next to ``app.py``.

    Returns
    -------
    Path
        The folder the files were installed into.
    """
    target = target or VENDOR_DIR
    for bundle in _bundles():
        for src in bundle.source.rglob("*"):
            if src.is_dir() or src.suffix in {".py", ".pyc", ".map"} or "__pycache__" in src.parts:
                continue
            dst = target / bundle.name / src.relative_to(bundle.source)
            if _needs_copy(src, dst):
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    return target


def asset_urls(prefix: str = URL_PREFIX) -> dict[str, list[tuple[str, str]]]:
    """The (name, url) lists that folium expects, keyed ``"<bundle>.js"`` / ``"<bundle>.css"``."""
    urls: dict[str, list[tuple[str, str]]] = {}
    for bundle in _bundles():
        urls[f"{bundle.name}.js"] = [(f, f"{prefix}/{bundle.name}/{f}") for f in bundle.js]
        urls[f"{bundle.name}.css"] = [(f, f"{prefix}/{bundle.name}/{f}") for f in bundle.css]
    return urls


def _patch_folium(prefix: str) -> None:
    urls = asset_urls(prefix)
    folium.Map.default_js = urls["leaflet.js"] + urls["leaflet.awesome-markers.js"]
    folium.Map.default_css = urls["leaflet.css"] + urls["leaflet.awesome-markers.css"]
    cluster_js, cluster_css = urls["leaflet.markercluster.js"], urls["leaflet.markercluster.css"]
    for plugin in (folium.plugins.MarkerCluster, folium.plugins.FastMarkerCluster):
        plugin.default_js = cluster_js
        plugin.default_css = cluster_css


def use_local_assets(prefix: str = URL_PREFIX, *, install: bool = True) -> None:
    """Make every folium map in this process load its JS/CSS from the app's own static folder.

    Patches ``folium.Map`` (Leaflet + awesome-markers; jQuery, Bootstrap and icon fonts dropped:
    our maps do not use them) and the marker-cluster plugins. Other folium plugins still point at
    CDNs: :func:`offline_problems` lists them for a test to fail on.

    Parameters
    ----------
    prefix : str
        URL under which ``static/vendor`` is served (``/app/static/vendor`` with Streamlit's
        static serving; change it only behind a proxy with a base path).
    install : bool
        Also copy the files into ``static/vendor`` (see :func:`install_assets`).
    """
    if install:
        install_assets()
    _patch_folium(prefix)


def offline_problems(m: folium.Map) -> list[str]:
    """Every JS/CSS URL a map (and its children) would load from outside the app.

    st_folium collects ``default_js``/``default_css`` of every element it walks, so a test can
    assert that this list is empty for any map a page builds. It also adds d3 from a CDN for any
    branca colormap in the map: draw legends as plain HTML instead (see :mod:`geo.mapview`).
    """
    found: list[str] = []

    def walk(element) -> None:
        if isinstance(element, branca.colormap.ColorMap):
            found.append("branca colormap (st_folium loads d3 from a CDN for it)")
        for _, url in [*getattr(element, "default_js", []), *getattr(element, "default_css", [])]:
            if "://" in url or url.startswith("//"):
                found.append(url)
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return sorted(set(found))


if __name__ == "__main__":  # pragma: no cover - ``python -m geo.assets`` for deploy scripts
    print(install_assets())
