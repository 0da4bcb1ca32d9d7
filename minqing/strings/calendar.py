"""The working-day calendar: import refusals and the banner shown when a year is missing."""

from __future__ import annotations

# key: (Chinese, English)
STRINGS: dict[str, tuple[str, str]] = {
    "calendar.gap": (
        "工作日历未覆盖 {years} 年：这些年份的办理期限暂按周一至周五计算，节假日和调休未计入。"
        "请管理员按国务院办公厅放假通知导入（minqing calendar import 文件.csv）。",
        "The working-day calendar does not cover {years}: deadlines there are counted Monday to "
        "Friday, without holidays or make-up working days. An admin should import the State "
        "Council's notice (minqing calendar import FILE.csv).",
    ),
    "calendar.error.columns": (
        "日历文件缺少“{field}”列：第一行应为 date,kind,name。",
        "The calendar file has no \"{field}\" column: the first row must be date,kind,name.",
    ),
    "calendar.error.date": (
        "第 {row} 行：日期“{value}”无效，应为 YYYY-MM-DD。",
        "Row {row}: \"{value}\" is not a date (YYYY-MM-DD).",
    ),
    "calendar.error.kind": (
        "第 {row} 行：类型“{value}”无效，应为 holiday（放假）或 workday（调休上班）。",
        "Row {row}: kind \"{value}\" must be holiday or workday.",
    ),
    "calendar.error.twice": (
        "第 {row} 行：{value} 已在前面出现过。",
        "Row {row}: {value} is listed twice.",
    ),
    "calendar.error.weekday": (
        "第 {row} 行：{value} 是周一至周五，本来就上班，不是调休上班日。",
        "Row {row}: {value} is a weekday, a working day already, not a make-up working day.",
    ),
    "calendar.error.empty": ("日历文件没有任何日期。", "The calendar file lists no days."),
}
