"""The district map's readers for the page, cached per data version (Streamlit glue).

:class:`CachedSource` is :class:`geo.district.MapSource` with each reader behind
``st.cache_resource``: the builder (:func:`geo.district.district_map`) is the same one the
benchmark and the tests call with the plain source.

``cache_resource``, not ``cache_data``: every session shares one copy of the frames and layers
instead of unpickling its own on every run (the grid geometry's WKB alone was ~7% of the
server's CPU per map view, bench/load.py). Nothing downstream changes them in place.
"""

from __future__ import annotations

import streamlit as st

from geo import district

__all__ = ["CachedSource"]


@st.cache_resource(ttl=900, show_spinner=False, max_entries=16)
def _frames(_engine, version: str, scope, day):
    return district.MapSource(_engine, scope=scope, today=day, lang="").frames()


@st.cache_resource(ttl=900, show_spinner=False, max_entries=16)
def _base(_engine, version: str, scope, day, lang: str, gcj02: bool):
    return district.base_layers(*_frames(_engine, version, scope, day), lang, gcj02=gcj02)


@st.cache_resource(ttl=900, show_spinner=False, max_entries=32)
def _overlay(_engine, version: str, scope, day, lang: str, gcj02: bool, link_base: str,
             kind: str):
    source = CachedSource(_engine, version, scope, day, lang, gcj02, link_base)
    return district.MapSource.overlay(source, kind)


@st.cache_resource(ttl=300, show_spinner=False, max_entries=64)
def _in_box(_engine, version: str, scope, box, limit: int):
    return district.MapSource.households_in_box(CachedSource(_engine, version, scope, None, "", False),
                                                box, limit)


class CachedSource(district.MapSource):
    """The map's readers, cached per data version (a write shows at the next run).

    ``_in_box`` is keyed by the snapped box (:func:`geo.viewport.load_box`), so panning back
    and forth over the same streets reads the store once."""

    def __init__(self, engine, version, scope, day, lang, gcj02, link_base="/") -> None:
        super().__init__(engine, scope=scope, today=day, lang=lang, gcj02=gcj02,
                         link_base=link_base)
        self.version = version

    def frames(self):
        return _frames(self.engine, self.version, self.scope, self.today)

    def base(self):
        return _base(self.engine, self.version, self.scope, self.today, self.lang, self.gcj02)

    def overlay(self, kind):
        return _overlay(self.engine, self.version, self.scope, self.today, self.lang, self.gcj02,
                        self.link_base, kind)

    def households_in_box(self, box, limit):
        return _in_box(self.engine, self.version, self.scope, box, limit)
