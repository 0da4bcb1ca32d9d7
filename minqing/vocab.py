"""The domain's fixed vocabularies, in the users' own terms.

Stored values are these short English codes; the UI shows them through the string catalogue
(``minqing.i18n``), Chinese by default.
"""

from __future__ import annotations

from enum import StrEnum


class TownKind(StrEnum):
    TOWN = "town"  # 镇 (rural)
    SUBDISTRICT = "subdistrict"  # 街道 (urban)


class GridKind(StrEnum):
    RURAL = "rural"  # 村网格
    URBAN = "urban"  # 社区网格


class HouseholdTag(StrEnum):
    WUBAO = "wubao"  # 五保户
    DIBAO = "dibao"  # 低保户
    TEKUN = "tekun"  # 特困
    ELDERLY_ALONE = "elderly_alone"  # 独居老人
    DISABLED = "disabled"  # 残疾人家庭
    MILITARY = "military"  # 优抚对象


class MemberRole(StrEnum):
    LEADER = "leader"  # 联户干部 (liaison cadre, group leader)
    CENTRAL_HOUSEHOLD = "central_household"  # 中心户 (rural backbone)
    SERVICE_WORKER = "service_worker"  # 社区服务员 (urban backbone)
    POLICE = "police"
    TEACHER = "teacher"
    MEDIC = "medic"
    VOLUNTEER = "volunteer"  # 党员志愿者


class CadreLevel(StrEnum):
    DISTRICT = "district"  # 区机关干部
    TOWN = "town"  # 镇街干部
    VILLAGE = "village"  # 村社干部


class RecordKind(StrEnum):
    """The four records (四记): what a diary entry is about."""

    DEVELOPMENT = "development"  # 村情发展
    ORGANISATION = "organisation"  # 组织基础
    DEMAND = "demand"  # 群众诉求
    RISK = "risk"  # 矛盾隐患


class Source(StrEnum):
    """How an entry arose: the four diagnoses plus the district's other channels."""

    RECEPTION = "reception"  # 门诊 (Wednesday-morning reception)
    HOUSE_CALL = "house_call"  # 出诊
    CONSULTATION = "consultation"  # 会诊 (weekly township consultation)
    FOLLOW_UP = "follow_up"  # 复诊 (monthly follow-up)
    NOTICE_BOARD = "notice_board"  # 民情公开栏
    MAILBOX = "mailbox"  # 民情信箱 (emptied weekly)
    CONTACT_CARD = "contact_card"  # 联系卡
    WEEKLY_VISIT = "weekly_visit"  # 每周走访
    MONTHLY_ANALYSIS = "monthly_analysis"  # 民情分析
    SERVICE_TEAM = "service_team"  # 镇街综合服务团队 (monthly)
    DEPUTIES = "deputies"  # 两代表一委员接待


class Track(StrEnum):
    """The four handlings (四办): the track a case is put on."""

    IMMEDIATE = "immediate"  # 立即办
    PROMISED = "promised"  # 承诺办
    LIAISON = "liaison"  # 联系办
    SUPERVISED = "supervised"  # 督查办


class CaseStatus(StrEnum):
    REGISTERED = "registered"  # 登记
    HANDLING = "handling"  # 办理中
    CONSULTATION = "consultation"  # 提交会诊
    RESULT = "result"  # 已办结待反馈
    FEEDBACK = "feedback"  # 已反馈
    CLOSED = "closed"  # 已销号


OPEN_STATUSES: tuple[CaseStatus, ...] = tuple(s for s in CaseStatus if s is not CaseStatus.CLOSED)
"""Every status but closed (销号): the one list behind :func:`minqing.deadlines.open_clause`."""
