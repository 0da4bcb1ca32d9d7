"""Who may do what, and the one personal-data masking policy.

Roles, what each may see and do, and how personal data is masked live here, once. Query functions
do not look at roles themselves: they receive the caller's :class:`~minqing.scope.Scope` (which
carries the signed-in viewer) and call :func:`protect` / :func:`protect_row` on what they read,
and :meth:`Scope.require_person_level <minqing.scope.Scope.require_person_level>` before reading
person-level records at all. So no page can forget the rule: a page only ever receives data that
is already masked for its viewer.

Masking (for roles that do not see personal data, e.g. the planner, the admin and the display)::

    name       张三 -> 张*     欧阳修远 -> 欧阳**   (compound surnames kept whole)
    phone      13812341234 -> 138****1234     0573-82345678 -> 0573-****5678
    id_number  330402199001011234 -> 3304**********1234
    address    嘉兴市南湖区凤桥镇新民村张家埭12号 -> 嘉兴市南湖区凤桥镇新民村***
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from minqing.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from minqing.scope import Scope


class Role(StrEnum):
    """An account's role; the jurisdiction says where it applies."""

    DISTRICT_SUPERVISOR = "district_supervisor"
    TOWN_SUPERVISOR = "town_supervisor"
    AREA_HEAD = "area_head"
    GRID_CADRE = "grid_cadre"
    PLANNER = "planner"
    DATA_OFFICER = "data_officer"
    ADMIN = "admin"
    DISPLAY = "display"


R = Role

#: Higher manages lower: no role can create, change or reset an account of a higher rank.
RANK: dict[Role, int] = {
    R.ADMIN: 80, R.DISTRICT_SUPERVISOR: 70, R.DATA_OFFICER: 60, R.PLANNER: 50,
    R.TOWN_SUPERVISOR: 40, R.AREA_HEAD: 30, R.GRID_CADRE: 20, R.DISPLAY: 10,
}

#: The jurisdiction levels each role may hold.
LEVELS: dict[Role, tuple[str, ...]] = {
    R.DISTRICT_SUPERVISOR: ("district",), R.TOWN_SUPERVISOR: ("town",), R.AREA_HEAD: ("area",),
    R.GRID_CADRE: ("grid",), R.PLANNER: ("district", "town"),
    R.DATA_OFFICER: ("district", "town"), R.ADMIN: ("district",), R.DISPLAY: ("district", "town"),
}

#: Roles that see names, phones, ID numbers and addresses unmasked inside their jurisdiction.
SEES_PERSONAL_DATA = frozenset({R.DISTRICT_SUPERVISOR, R.TOWN_SUPERVISOR, R.AREA_HEAD,
                                R.GRID_CADRE, R.DATA_OFFICER})
#: Roles that write diary entries and act on cases (inside their jurisdiction only).
WRITES_CASEWORK = frozenset({R.DISTRICT_SUPERVISOR, R.TOWN_SUPERVISOR, R.AREA_HEAD, R.GRID_CADRE})
#: Roles that manage accounts (each only below its own rank and inside its jurisdiction).
MANAGES_ACCOUNTS = frozenset({R.ADMIN, R.DATA_OFFICER})
#: Roles that search the audit trail.
READS_AUDIT = frozenset({R.ADMIN})
#: Roles that never read person-level records (households, members, cases, diary texts).
AGGREGATES_ONLY = frozenset({R.DISPLAY})
#: Roles that run the supervision cycle (reviews, consultations, follow-ups, checks, scoring).
SUPERVISES = frozenset({R.DISTRICT_SUPERVISOR, R.TOWN_SUPERVISOR, R.AREA_HEAD})
#: Roles that plan grid layers (propose, publish, restore).
PLANS_GRIDS = frozenset({R.PLANNER, R.DISTRICT_SUPERVISOR})
#: Roles that import and export data.
MOVES_DATA = frozenset({R.DATA_OFFICER, R.ADMIN})


class AccessDenied(DomainError):
    """The viewer's role or jurisdiction does not allow this read or write."""


def can_manage(actor: Role | str, target: Role | str) -> bool:
    """May an account of role ``actor`` create or change an account of role ``target``?"""
    actor, target = Role(actor), Role(target)
    return actor in MANAGES_ACCOUNTS and RANK[target] <= RANK[actor]


# --- masking ------------------------------------------------------------------------------------

COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "澹台", "轩辕", "呼延", "百里",
    "东郭", "万俟", "闻人", "钟离", "申屠", "太史", "公冶", "赫连", "濮阳", "单于", "第五",
})
_DIGIT = re.compile(r"\d")
_LANDLINE = re.compile(r"^(0\d{2,3})([-\s]?)(\d{7,8})$")
_PLACE_END = re.compile(r"^(.*?(?:社区|村|居委会))")
_TOWN_END = re.compile(r"^(.*?(?:街道|镇|乡))")


def mask_name(name: str | None) -> str:
    """The family name kept, each other character a star (``张三`` -> ``张*``).

    Compound surnames (``欧阳``, ``司马``...) are kept whole when the name is longer than the
    surname; a lone surname still gets one star (``李`` -> ``李*``), so a masked name always
    looks masked.
    """
    if not name:
        return ""
    name = str(name).strip()
    keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:keep] + "*" * max(1, len(name) - keep)


def mask_phone(phone: str | None) -> str:
    """Mobiles keep the first 3 and last 4 digits; landlines keep the area code and last 4."""
    if not phone:
        return ""
    text = str(phone).strip()
    digits = _DIGIT.findall(text)
    if len(digits) == 11 and text.isdigit() and text.startswith("1"):
        return f"{text[:3]}****{text[-4:]}"
    landline = _LANDLINE.match(text)
    if landline:
        area, sep, local = landline.groups()
        return f"{area}{sep}{'*' * (len(local) - 4)}{local[-4:]}"
    keep_from = len(digits) - min(4, len(digits) // 2)  # whatever else: hide all but the tail
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            out.append(ch if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_id_number(id_number: str | None) -> str:
    """Resident ID numbers keep the first 4 and last 4 characters (``3301**********123X``)."""
    if not id_number:
        return ""
    text = str(id_number).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_address(address: str | None) -> str:
    """Only up to the village or community (``...新民村***``), else up to the town."""
    if not address:
        return ""
    text = str(address).strip()
    for pattern in (_PLACE_END, _TOWN_END):
        match = pattern.match(text)
        if match and len(match.group(1)) < len(text):
            return match.group(1) + "***"
    return "***"


RULES: dict[str, Callable[[str | None], str]] = {
    "name": mask_name, "phone": mask_phone, "id_number": mask_id_number, "address": mask_address,
}


def protect(frame: pd.DataFrame, scope: Scope, columns: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with each column in ``columns`` (column -> rule name) masked for ``scope``.

    Returns the frame untouched when the scope's viewer sees personal data; absent columns are
    skipped, missing values stay missing.
    """
    if scope.reveals_personal_data or frame.empty:
        return frame
    for column, rule in columns.items():
        if column in frame:
            mask = RULES[rule]
            # plain objects first: iterating an Arrow-backed string column costs more than masking
            values = frame[column].to_numpy(dtype=object, na_value=None)
            frame[column] = [None if v is None else mask(v) for v in values]
    return frame


def protect_row(row: Mapping[str, object], scope: Scope,
                columns: Mapping[str, str]) -> dict[str, object]:
    """One record (a mapping) masked for ``scope`` like :func:`protect`."""
    out = dict(row)
    if scope.reveals_personal_data:
        return out
    for column, rule in columns.items():
        if out.get(column) is not None:
            out[column] = RULES[rule](out[column])
    return out


def protect_value(value: str | None, scope: Scope, rule: str) -> str | None:
    """One value masked for ``scope`` by ``rule``."""
    if value is None or scope.reveals_personal_data:
        return value
    return RULES[rule](value)
