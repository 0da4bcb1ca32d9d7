"""The printable liaison letter (联系函) that sends a matter to the responsible department.

Rendered as one self-contained HTML page (inline CSS, no external fonts or scripts) so it prints
from any browser on an intranet. Every value that came from data entry is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html

from minqing.casebook import CaseDetail
from minqing.i18n import t

_CSS = """
body { font-family: "FangSong", "STFangsong", "Noto Serif CJK SC", "SimSun", serif;
       max-width: 720px; margin: 40px auto; line-height: 1.9; font-size: 17px; color: #111; }
h1 { text-align: center; font-size: 26px; letter-spacing: 6px; margin-bottom: 4px; }
.no { text-align: center; margin-bottom: 28px; }
table { border-collapse: collapse; width: 100%; margin: 12px 0; }
td { border: 1px solid #333; padding: 6px 10px; vertical-align: top; }
td.k { width: 26%; white-space: nowrap; }
.sign { text-align: right; margin-top: 48px; }
.reply { height: 140px; }
@media print { body { margin: 0 auto; } }
"""


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def liaison_letter_html(detail: CaseDetail, *, lang: str, issued_on: dt.date) -> str:
    """The letter for a liaison case as a complete HTML document (values escaped)."""
    case = detail.case
    rows = [
        ("letter.to", case.get("department")),
        ("letter.case_code", case.get("code")),
        ("letter.matter", case.get("title")),
        ("letter.place", f"{detail.town} · {detail.area} · {detail.grid}"),
        ("letter.resident", detail.household or "—"),
        ("letter.opened_on", case.get("opened_on")),
        ("letter.reply_by", case.get("deadline")),
        ("letter.contact", case.get("responsible")),
    ]
    cells = "".join(f"<tr><td class='k'>{t(key, lang)}</td><td>{_esc(value)}</td></tr>"
                    for key, value in rows)
    reply = _esc(case.get("letter_reply")) or "&nbsp;"
    return (
        f"<!doctype html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head>"
        f"<meta charset='utf-8'><title>{_esc(case.get('letter_no'))}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{t('letter.title', lang)}</h1>"
        f"<div class='no'>{_esc(case.get('letter_no'))}</div>"
        f"<p>{_esc(case.get('department'))}{t('punct.colon', lang)}</p>"
        f"<p>{t('letter.body', lang)}</p>"
        f"<table>{cells}</table>"
        f"<p>{t('letter.reply_heading', lang)}</p>"
        f"<table><tr><td class='reply'>{reply}</td></tr></table>"
        f"<div class='sign'>{_esc(detail.town)}<br>{issued_on.isoformat()}</div>"
        f"</body></html>"
    )
