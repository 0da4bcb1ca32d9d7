"""The supervision pages' Excel exports, read back with openpyxl: the table as shown with Chinese
headers, the on-screen filters stated in a header row, a frozen header, case links exported as
their case numbers, and text that looks like a formula kept as text."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from openpyxl import load_workbook

from minqing.xlsx import workbook_bytes
from ui.supervision import export_sheet


def _read(sheet):
    wb = load_workbook(io.BytesIO(workbook_bytes([sheet])))
    return wb[wb.sheetnames[0]]


def test_agenda_export_reads_back():
    shown = pd.DataFrame({
        "打开": ["./case?case=7#MQ261120-00000A", "./case?case=9#MQ261121-00000B"],
        "上会原因": ["绿色通道", "超期未办结"],
        "事项": ["=1+1", "@SUM(A1:A2) 村道修缮"],
        "办理期限": [dt.date(2026, 11, 25), dt.date(2026, 11, 1)],
        "剩余天数（负数为超期）": [5, -19],
    })
    ws = _read(export_sheet(shown, title="议程（2 件）",
                            filters=[("镇街", "新兴街道"), ("日期", "2026-11-20")]))
    assert ws["A1"].value == "镇街：新兴街道；日期：2026-11-20"
    assert [c.value for c in ws[2]] == list(shown.columns)
    assert ws.freeze_panes == "A3"
    assert [ws.cell(row=r, column=1).value for r in (3, 4)] == ["MQ261120-00000A",
                                                                 "MQ261121-00000B"]
    formula = ws.cell(row=3, column=3)
    assert (formula.value, formula.data_type) == ("=1+1", "s")
    assert ws.cell(row=4, column=3).data_type == "s"
    assert ws.cell(row=4, column=5).value == -19
    assert ws.column_dimensions["C"].width > 8


def test_only_link_columns_are_shortened():
    shown = pd.DataFrame({"说明": ["见#3号文件", "./不是链接"], "n": [1, 2]})
    ws = _read(export_sheet(shown, title="说明"))
    assert [ws.cell(row=r, column=1).value for r in (2, 3)] == ["见#3号文件", "./不是链接"]


def test_an_export_is_recorded_in_the_audit_trail(sqlite_demo_url, monkeypatch):
    from sqlalchemy import select

    from minqing import models
    from minqing.store import get_engine
    from tests.auth import viewer_for
    from ui.supervision import _exported

    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    get_engine.cache_clear()
    viewer = viewer_for("town_supervisor", sqlite_demo_url)
    sheet = export_sheet(pd.DataFrame({"事项": ["a", "b"]}), title="议程")
    assert _exported(sheet, "agenda-consultation", viewer.scope())[:2] == b"PK"
    with get_engine(sqlite_demo_url).connect() as conn:
        rows = conn.execute(select(models.AuditEvent.username, models.AuditEvent.target)
                            .where(models.AuditEvent.action == "export")).all()
    assert [tuple(r) for r in rows] == [(viewer.username, "agenda-consultation.xlsx")]
