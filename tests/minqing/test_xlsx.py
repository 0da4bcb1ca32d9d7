"""Excel and CSV exports: content, stated filters, frozen header, and no live formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
from openpyxl import load_workbook

from minqing.xlsx import Sheet, csv_bytes, workbook_bytes

HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x.invalid")']


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["张三", *HOSTILE],
        "score": [98.5, 1, 2, 3, 4, float("nan")],
        "day": [dt.date(2026, 11, 20)] * 6,
    })


def test_workbook_states_filters_freezes_header_and_keeps_formulas_as_text():
    data = workbook_bytes([Sheet("年度排名", _frame(), headers={"name": "姓名", "score": "得分"},
                                 filters=[("镇街", "余新镇"), ("年度", "2026")])])
    ws = load_workbook(io.BytesIO(data))["年度排名"]
    assert ws["A1"].value == "镇街：余新镇；年度：2026"
    assert [c.value for c in ws[2]] == ["姓名", "得分", "day"]
    assert ws.freeze_panes == "A3"
    assert ws["A3"].value == "张三"
    assert ws["B3"].value == 98.5
    assert ws["B8"].value is None  # NaN written as an empty cell
    for row, text in enumerate(HOSTILE, start=4):
        cell = ws.cell(row=row, column=1)
        assert cell.value == text
        assert cell.data_type == "s"
    assert ws.column_dimensions["A"].width >= len('=HYPERLINK("http://x.invalid")')


def test_workbook_sheet_names_are_valid_and_unique():
    frame = pd.DataFrame({"a": [1]})
    data = workbook_bytes([Sheet("a/b:c", frame), Sheet("a/b:c", frame)])
    assert load_workbook(io.BytesIO(data)).sheetnames == ["a b c", "a b c (2)"]


def test_csv_has_bom_and_neutralised_cells():
    data = csv_bytes(_frame(), headers={"name": "姓名"})
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["姓名", "score", "day"]
    names = [row[0] for row in rows[1:]]
    assert names[0] == "张三"
    assert names[1:] == ["'" + text for text in HOSTILE]
