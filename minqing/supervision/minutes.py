"""Printable minutes of a consultation or follow-up (会议纪要): one self-contained HTML page with
print CSS (A4, no screen chrome), every stored value HTML-escaped, no external fonts or scripts.
"""

from __future__ import annotations

import html

from minqing.i18n import t

_CSS = """
body { font-family: "Noto Serif CJK SC", "SimSun", "FangSong", serif; max-width: 800px;
       margin: 24px auto; line-height: 1.7; font-size: 15px; color: #111; }
h1 { text-align: center; font-size: 24px; letter-spacing: 4px; margin: 0 0 4px; }
.meta { text-align: center; margin-bottom: 16px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #333; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #eee; }
td.n { width: 2em; text-align: center; }
.sign { text-align: right; margin-top: 36px; }
.noprint { margin: 8px 0 16px; }
@page { size: A4; margin: 18mm 15mm; }
@media print { .noprint { display: none; } body { margin: 0; max-width: none; }
               tr { page-break-inside: avoid; } th { background: none; } }
"""


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _label(key: str, code: str, lang: str) -> str:
    text = t(key, lang)
    return code if text == key else text


def decision_text(item: dict, lang: str) -> str:
    """What was decided on one item, as plain text: the changed fields, then the opinion."""
    parts = []
    for name, change in (item.get("changes") or {}).items():
        new = change[1] if isinstance(change, list) and len(change) == 2 else change
        if name == "track" and new:
            new = _label(f"track.{new}", str(new), lang)
        parts.append(f"{_label(f'case.field.{name}', name, lang)}{t('minutes.colon', lang)}{new}")
    if item.get("decision"):
        parts.append(str(item["decision"]))
    return t("minutes.sep", lang).join(parts) if parts else t("minutes.no_decision", lang)


def minutes_html(minutes: dict, *, lang: str, print_button: bool = False) -> str:
    """The minutes of one meeting (as read by :func:`meetings.meeting_minutes`) as an HTML page."""
    m = minutes["meeting"]
    title = t(f"minutes.title.{m['kind']}", lang)
    place = m["town"] + (f" · {m['area']}" if m.get("area") else "")
    rows = []
    for n, item in enumerate(minutes["items"].to_dict("records"), start=1):
        reasons = t("minutes.sep", lang).join(_label(f"agenda.reason.{r}", r, lang)
                                              for r in item["reasons"])
        rows.append(
            f"<tr><td class='n'>{n}</td><td>{_esc(item['code'])}<br>{_esc(item['title'])}"
            f"<br><small>{_esc(item['grid'])}</small></td><td>{_esc(reasons)}</td>"
            f"<td>{_esc(decision_text(item, lang))}</td></tr>")
    head = "".join(f"<th>{t(k, lang)}</th>" for k in
                   ("minutes.no", "minutes.case", "minutes.reasons", "minutes.decision"))
    button = (f"<div class='noprint'><button onclick='window.print()'>"
              f"{t('minutes.print', lang)}</button></div>") if print_button else ""
    return (
        f"<!doctype html><html lang='{'en' if lang == 'en' else 'zh-CN'}'><head>"
        f"<meta charset='utf-8'><title>{_esc(title)} {m['held_on']}</title>"
        f"<style>{_CSS}</style></head><body>{button}"
        f"<h1>{_esc(place)} {_esc(title)}</h1>"
        f"<div class='meta'>{t('minutes.date', lang)}{t('minutes.colon', lang)}{m['held_on']}"
        f" · {t('minutes.chair', lang)}{t('minutes.colon', lang)}{_esc(m['chair'])}</div>"
        f"<p>{t('minutes.attendees', lang)}{t('minutes.colon', lang)}{_esc(m['attendees'])}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<div class='sign'>{t('minutes.recorder', lang)}{t('minutes.colon', lang)}"
        f"{_esc(m['created_by'])}</div></body></html>"
    )
