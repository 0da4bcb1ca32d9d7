"""Tables out to Excel and CSV for meetings and approvals, safe to open.

Every list the UI shows can be exported with the filters that produced it stated above the table,
so a printed sheet says what it covers. A cell whose text starts with ``= + - @`` (or a tab or
carriage return) would run as a formula in Excel or LibreOffice; it is written as text in .xlsx
and prefixed with an apostrophe in CSV, the usual neutralisation, so exported resident text can
never execute.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60


@dataclass(frozen=True)
class Sheet:
    """One table for one worksheet.

    ``headers`` maps column names to the labels printed in the header row (columns not in it keep
    their names); ``filters`` are (label, value) pairs stated above the table, e.g.
    ``[("镇街", "余新镇"), ("期间", "2026-01-01 至 2026-11-20")]``.
    """

    title: str
    frame: pd.DataFrame
    headers: Mapping[str, str] = field(default_factory=dict)
    filters: Sequence[tuple[str, str]] = ()


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def neutralise(value: object) -> object:
    """``value`` made inert for CSV: formula-like text gets a leading apostrophe."""
    return "'" + value if is_formula_like(value) else value


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell_value(value: object) -> object:
    """Values openpyxl can store: NaN/NaT become empty, timestamps become dates or datetimes."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()  # numpy scalar
    return value


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _write_sheet(ws, sheet: Sheet) -> None:
    row = 1
    if sheet.filters:
        text = "；".join(f"{label}：{value}" for label, value in sheet.filters)
        ws.cell(row=1, column=1, value=text).data_type = "s"
        ws.cell(row=1, column=1).font = Font(italic=True)
        row = 2
    columns = list(sheet.frame.columns)
    labels = [str(sheet.headers.get(col, col)) for col in columns]
    widths = [_display_width(label) for label in labels]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    for j, label in enumerate(labels, start=1):
        cell = ws.cell(row=row, column=j, value=label)
        cell.data_type = "s"
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center")
    header_row = row
    for values in sheet.frame.itertuples(index=False, name=None):
        row += 1
        for j, raw in enumerate(values, start=1):
            value = _cell_value(raw)
            cell = ws.cell(row=row, column=j, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
                widths[j - 1] = max(widths[j - 1], _display_width(value))
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
                widths[j - 1] = max(widths[j - 1], 10)
            elif value is not None:
                widths[j - 1] = max(widths[j - 1], len(str(value)))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(width + 2, _MAX_WIDTH)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An .xlsx file with one worksheet per :class:`Sheet`: filters stated, header frozen.

    Examples
    --------
    >>> data = workbook_bytes([Sheet("排名", pd.DataFrame({"姓名": ["=1+1"]}))])
    >>> data[:2]
    b'PK'
    """
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for sheet in sheets:
        _write_sheet(wb.create_sheet(_sheet_title(sheet.title, used)), sheet)
    if not sheets:
        wb.create_sheet("Sheet")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame, headers: Mapping[str, str] | None = None,
              filters: Sequence[tuple[str, str]] = ()) -> bytes:
    """The table as UTF-8 CSV with a BOM (so Excel reads Chinese), formula-like cells inert."""
    out = frame.rename(columns=dict(headers or {})).map(neutralise)
    out.columns = [neutralise(str(col)) for col in out.columns]
    buffer = io.StringIO()
    for label, value in filters:
        buffer.write(f"# {neutralise(label)}: {neutralise(value)}\n")
    out.to_csv(buffer, index=False)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
