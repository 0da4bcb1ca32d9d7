"""Spatial work for Minqing: layers and metrics as GeoDataFrames, folium map builders, offline
assets and basemaps. Nothing here imports streamlit."""

from geo.assets import install_assets, offline_problems, use_local_assets

__all__ = ["install_assets", "offline_problems", "use_local_assets"]
