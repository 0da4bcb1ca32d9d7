"""The project's own download of a shown table, as Excel or CSV with formula-like cells inert.

Streamlit's built-in "Download as CSV" writes a cell such as ``=HYPERLINK(...)`` as a live
formula, so it is switched off (``client.disableDataExport`` in ``.streamlit/config.toml``) and
tables that people take to meetings get these buttons instead, written by :mod:`minqing.xlsx`.
The file is only built when the button is clicked (deferred ``data``): a page view costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

import ui
from minqing.xlsx import Sheet, csv_bytes, workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_table(frame: pd.DataFrame, *, name: str, key: str,
                   filters: Sequence[tuple[str, str]] = ()) -> None:
    """Two small buttons under a table: Excel (.xlsx) and CSV, both safe to open."""
    left, right, _ = st.columns([1, 1, 6])
    left.download_button(
        ui.t("export.xlsx"), data=lambda: workbook_bytes([Sheet(name, frame, filters=filters)]),
        file_name=f"{name}.xlsx", mime=XLSX, key=f"{key}_xlsx", on_click="ignore",
        icon=":material/download:")
    right.download_button(
        ui.t("export.csv"), data=lambda: csv_bytes(frame, filters=filters),
        file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore",
        icon=":material/download:")
