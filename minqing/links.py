"""Deep links: the one builder of page addresses and the one parser of the ids they carry.

Every page opens from the address a user copies out of the browser (``/grid?grid=120``), so a
supervisor can send a link. Pages, tables (Streamlit's LinkColumn) and the map's popups all build
those addresses here; the pages read the ids back with :func:`parse_id`.

Pure functions: no Streamlit, no database.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

#: The pages that take a record id, and the query parameter naming it.
PAGES = ("overview", "map", "grid", "case", "household")
ID_MAX = 2**63 - 1  # a BIGINT on PostgreSQL; SQLite's INTEGER is the same size


def parse_id(raw: object) -> int | None:
    """The record id in a deep-link value, or None unless it is a plain decimal number in range.

    Only ASCII digits are accepted: Python's ``int()`` would also take ``1_2_0``, ``+120``,
    `` 120 `` and full-width ``１２０``, each of which would open a record the link does not
    name; and anything beyond 64 bits overflows the store's integer column.

    Examples
    --------
    >>> parse_id("120"), parse_id("1_2_0"), parse_id("１２０"), parse_id("99999999999999999999")
    (120, None, None, None)
    """
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        return None
    if len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= ID_MAX else None


def page_url(page: str, *, base: str = "./", fragment: str | None = None,
             **params: object) -> str:
    """The address of ``page`` with ``params`` as its query string.

    Parameters
    ----------
    page : one of :data:`PAGES`.
    base : ``"./"`` (default) for links inside the app's own pages (they resolve against the
        app's URL, wherever it is mounted); :func:`mount_base` for links from a component's
        iframe (the map popups), which would otherwise resolve against the component's own
        address.
    fragment : text after ``#`` (percent-encoded); Streamlit's LinkColumn shows it as the link
        text with ``display_text=r"#(.+)$"``.
    params : query parameters; ``None`` values are left out.

    Examples
    --------
    >>> page_url("case", case=42)
    './case?case=42'
    >>> page_url("map", town=3, lang="en")
    './map?town=3&lang=en'
    """
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}")
    query = urlencode({k: str(v) for k, v in params.items() if v is not None})
    url = f"{base}{page}" + (f"?{query}" if query else "")
    if fragment is not None:
        url += "#" + quote(str(fragment), safe="")
    return url


def mount_base(base_url_path: str | None) -> str:
    """The absolute prefix of the app's pages for links from a component's iframe (the map
    popups): ``"/"``, or ``"/minqing/"`` when the app is served under ``server.baseUrlPath``
    ``minqing`` (behind a reverse proxy that mounts it there).

    Examples
    --------
    >>> mount_base(""), mount_base("minqing"), mount_base("/apps/minqing/")
    ('/', '/minqing/', '/apps/minqing/')
    """
    inner = (base_url_path or "").strip("/")
    return f"/{inner}/" if inner else "/"


def case_url(case_id: int, **kw: object) -> str:
    return page_url("case", case=int(case_id), **kw)


def grid_url(grid_id: int, **kw: object) -> str:
    return page_url("grid", grid=int(grid_id), **kw)


def household_url(household_id: int, **kw: object) -> str:
    return page_url("household", household=int(household_id), **kw)


def town_map_url(town_id: int, **kw: object) -> str:
    return page_url("map", town=int(town_id), **kw)
