"""The one string catalogue of the UI: Chinese by default, English by switch.

Keys are grouped by where they appear. Vocabulary codes (``vocab``) are looked up as
``"<vocab>.<code>"``, e.g. ``t("track.liaison")``. A missing key shows the key itself, so a gap is
visible rather than a crash; ``tests/test_i18n.py`` checks that both languages cover every key.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

# key: (Chinese, English)
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- app shell ---
    "app.title": ("民情 · 网格服务一张图", "Minqing · grid service map"),
    "app.demo_badge": ("示例数据：所有人员与住户均为虚构", "Demo data: all people and households are synthetic"),
    "app.language": ("语言 / Language", "Language / 语言"),
    "app.town": ("镇街", "Town / subdistrict"),
    "app.all_towns": ("全区", "Whole district"),
    "app.no_database": (
        "尚未找到数据库。请在项目目录运行 `make run`（会自动生成示例数据），或运行 `minqing demo`。",
        "No database found. Run `make run` in the project folder (it builds the demo data), or `minqing demo`.",
    ),
    "nav.overview": ("全区概览", "District at a glance"),
    "nav.map": ("一张图", "District map"),
    "nav.grid": ("网格详情", "Grid"),
    "nav.case": ("事项详情", "Case"),
    "nav.household": ("家庭档案", "Household"),
    "nav.section.browse": ("浏览", "Browse"),
    "nav.section.records": ("档案与事项", "Records and cases"),
    # --- district at a glance ---
    "overview.title": ("全区概览", "District at a glance"),
    "overview.caption": (
        "民情日记、诉求办理与矛盾隐患的总体情况，数据截至 {today}。",
        "Service diaries, cases and risks at a glance, as of {today}.",
    ),
    "kpi.grids": ("网格", "Grids"),
    "kpi.households": ("住户", "Households"),
    "kpi.diaries_issued": ("发放民情日记", "Diaries issued"),
    "kpi.diary_entries": ("日记条目", "Diary entries"),
    "kpi.problems_solved": ("解决问题", "Problems solved"),
    "kpi.risks_found": ("排查隐患", "Risks found"),
    "kpi.open_cases": ("在办事项", "Open cases"),
    "kpi.overdue_cases": ("超期事项", "Overdue cases"),
    "kpi.on_time_rate": ("按期办结率", "On-time closure rate"),
    "kpi.closure_rate": ("办结率", "Closure rate"),
    "kpi.silent_grids": ("30天无日记网格", "Grids silent 30 days"),
    "overview.by_town": ("各镇街情况", "By town / subdistrict"),
    "overview.town_link": ("查看", "Open"),
    "col.town": ("镇街", "Town"),
    "col.kind": ("类型", "Kind"),
    "col.grids": ("网格数", "Grids"),
    "col.households": ("住户数", "Households"),
    "col.diary_entries": ("日记条目", "Diary entries"),
    "col.solved": ("已解决", "Solved"),
    "col.risks": ("隐患", "Risks"),
    "col.open": ("在办", "Open"),
    "col.overdue": ("超期", "Overdue"),
    "col.on_time_rate": ("按期办结率", "On-time rate"),
    "col.link": ("链接", "Link"),
    # --- vocabularies ---
    "town_kind.town": ("镇", "Town"),
    "town_kind.subdistrict": ("街道", "Subdistrict"),
    "grid_kind.rural": ("村网格", "Rural grid"),
    "grid_kind.urban": ("社区网格", "Urban grid"),
    "tag.wubao": ("五保户", "Five-guarantee"),
    "tag.dibao": ("低保户", "Minimum-living allowance"),
    "tag.tekun": ("特困", "Extreme hardship"),
    "tag.elderly_alone": ("独居老人", "Elderly living alone"),
    "tag.disabled": ("残疾人家庭", "Disability"),
    "tag.military": ("优抚对象", "Military family"),
    "role.leader": ("联户干部（组长）", "Liaison cadre (leader)"),
    "role.central_household": ("中心户", "Central household"),
    "role.service_worker": ("社区服务员", "Community service worker"),
    "role.police": ("民警", "Police officer"),
    "role.teacher": ("教师", "Teacher"),
    "role.medic": ("医生", "Medic"),
    "role.volunteer": ("党员志愿者", "Party volunteer"),
    "level.district": ("区级", "District"),
    "level.town": ("镇街级", "Town"),
    "level.village": ("村社级", "Village"),
    "kind.development": ("村情发展", "Village development"),
    "kind.organisation": ("组织基础", "Organisation baseline"),
    "kind.demand": ("群众诉求", "Demand"),
    "kind.risk": ("矛盾隐患", "Dispute / risk"),
    "source.reception": ("门诊（坐班接待）", "Reception"),
    "source.house_call": ("出诊（上门走访）", "House call"),
    "source.consultation": ("会诊", "Consultation"),
    "source.follow_up": ("复诊", "Follow-up"),
    "source.notice_board": ("民情公开栏", "Public notice board"),
    "source.mailbox": ("民情信箱", "Opinion mailbox"),
    "source.contact_card": ("联系卡", "Contact card"),
    "source.weekly_visit": ("每周走访", "Weekly visit"),
    "source.monthly_analysis": ("民情分析", "Monthly analysis"),
    "source.service_team": ("镇街服务团队", "Town service team"),
    "source.deputies": ("两代表一委员接待", "Deputies' reception"),
    "track.immediate": ("立即办", "Immediate"),
    "track.promised": ("承诺办", "Promised"),
    "track.liaison": ("联系办", "Liaison"),
    "track.supervised": ("督查办", "Supervised"),
    "status.registered": ("已登记", "Registered"),
    "status.handling": ("办理中", "Handling"),
    "status.consultation": ("会诊中", "In consultation"),
    "status.result": ("已办结待反馈", "Result, awaiting feedback"),
    "status.feedback": ("已反馈", "Feedback given"),
    "status.closed": ("已销号", "Closed"),
}


def t(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The UI string for ``key`` in ``lang``, formatted with ``fmt``."""
    pair = CATALOGUE.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**fmt) if fmt else text
