"""KPI labels and their one-line definitions (``kpi.<key>``, ``kpi.<key>.help``), shown as help
next to every number; the definitions themselves are in :mod:`minqing.kpi`."""

from __future__ import annotations

# key: (Chinese, English)
STRINGS: dict[str, tuple[str, str]] = {
    "kpi.households": ("住户", "Households"),
    "kpi.households.help": ("住户档案中的户数（当前）。", "Households in the family archive, now."),
    "kpi.grids": ("网格", "Grids"),
    "kpi.grids.help": ("网格数（当前）。", "Grids, now."),
    "kpi.diaries_issued": ("发放民情日记", "Diaries issued"),
    "kpi.diaries_issued.help": (
        "期间内记过民情日记的干部人数，每人一本。",
        "Cadres who wrote at least one diary entry in the period: one diary each.",
    ),
    "kpi.diary_entries": ("日记条目", "Diary entries"),
    "kpi.diary_entries.help": ("期间内记下的民情日记条目数。", "Diary entries written in the period."),
    "kpi.people_received": ("接待群众", "People received"),
    "kpi.people_received.help": (
        "期间内两代表一委员接待群众的人次。",
        "People received by deputies in the period.",
    ),
    "kpi.opinions_taken": ("收集意见", "Opinions taken"),
    "kpi.opinions_taken.help": (
        "期间内两代表一委员接待时收集的意见条数。",
        "Opinions collected at deputies' receptions in the period.",
    ),
    "kpi.risks_found": ("排查隐患", "Risks found"),
    "kpi.risks_found.help": (
        "期间内记为矛盾隐患的日记条目数。",
        "Diary entries recorded as disputes or hidden risks in the period.",
    ),
    "kpi.risks_resolved": ("化解隐患", "Risks resolved"),
    "kpi.risks_resolved.help": (
        "期间内销号的矛盾隐患事项数。",
        "Cases about disputes or hidden risks closed in the period.",
    ),
    "kpi.cases_opened": ("新登记事项", "Cases opened"),
    "kpi.cases_opened.help": ("期间内登记的事项数。", "Cases registered in the period."),
    "kpi.problems_solved": ("解决问题", "Problems solved"),
    "kpi.problems_solved.help": ("期间内销号（办结）的事项数。", "Cases closed in the period."),
    "kpi.open_cases": ("在办事项", "Open cases"),
    "kpi.open_cases.help": (
        "目前尚未销号的事项数，不论何时登记。",
        "Cases not closed yet, now, whenever they were registered.",
    ),
    "kpi.overdue_cases": ("超期事项", "Overdue cases"),
    "kpi.overdue_cases.help": (
        "目前尚未销号且已过办理期限的事项数；期限当天不算超期。",
        "Open cases past their deadline, now; a case due today is not yet overdue.",
    ),
    "kpi.cases_due": ("应结案事项", "Cases due"),
    "kpi.cases_due.help": (
        "期限在期间内且已过期限，或在期间内提前销号的事项数。",
        "Cases whose deadline fell in the period and has passed, or that were closed early in it.",
    ),
    "kpi.closure_rate": ("办结率", "Closure rate"),
    "kpi.closure_rate.help": (
        "应结案事项中已销号的比例。",
        "Of the cases due in the period, the share closed.",
    ),
    "kpi.on_time_rate": ("按期办结率", "On-time closure rate"),
    "kpi.on_time_rate.help": (
        "应结案事项中在期限当天或之前销号的比例。",
        "Of the cases due in the period, the share closed on or before the deadline.",
    ),
    "kpi.extension_rate": ("延期率", "Extension rate"),
    "kpi.extension_rate.help": (
        "应结案事项中经会诊等决定另定过期限的比例。",
        "Of the cases due in the period, the share given a new deadline (e.g. by a consultation).",
    ),
    "kpi.rework_rate": ("返工率", "Rework rate"),
    "kpi.rework_rate.help": (
        "应结案事项中办结后又退回重办过的比例。",
        "Of the cases due in the period, the share reopened after a result.",
    ),
    "kpi.satisfaction_rate": ("满意率", "Satisfaction rate"),
    "kpi.satisfaction_rate.help": (
        "应结案且已回访的事项中，群众满意或基本满意的比例。",
        "Of the cases due in the period with feedback, the share satisfied or basically satisfied.",
    ),
    "kpi.visit_coverage": ("走访覆盖率", "Visit coverage"),
    "kpi.visit_coverage.help": (
        "期间内民情日记记到的住户占全部住户的比例。",
        "Households named in a diary entry in the period, over all households.",
    ),
    "kpi.silent_grids": ("30天无日记网格", "Grids silent 30 days"),
    "kpi.silent_grids.help": (
        "截至期末（或今天）连续30天没有民情日记的网格数。",
        "Grids with no diary entry in the 30 days up to the end of the period (or today).",
    ),
    "kpi.period": ("统计期间", "Period"),
    "kpi.period.help": (
        "计数和比率按此期间统计；在办、超期、住户和网格为当前数。",
        "Counts and rates cover this period; open, overdue, households and grids are as of now.",
    ),
}
