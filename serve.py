"""The app as it is served: ``streamlit run serve.py`` (``make run``).

Streamlit's ASGI app for ``app.py`` with :class:`minqing.bundles.BundleCache` in front of it, so
the frontend's hashed chunks are answered from memory. ``streamlit run app.py`` still works
(AppTest runs app.py), only without that cache.
"""

import streamlit as st
from starlette.middleware import Middleware
from starlette.types import ASGIApp
from streamlit import config, file_util

from minqing.bundles import BundleCache


def _bundles(app: ASGIApp) -> BundleCache:
    """Built with the middleware stack, once the configuration (base URL path) is loaded."""
    return BundleCache(app, static_dir=file_util.get_static_dir(),
                       base_url_path=config.get_option("server.baseUrlPath") or "")


app = st.App("app.py", middleware=[Middleware(_bundles)])
