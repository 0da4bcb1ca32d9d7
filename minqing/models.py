"""The records, as SQLAlchemy 2 models.

``town_id`` is carried on households, diary entries and cases (not only through their grid) because
almost every query is scoped to a town: one indexed column beats a join on every page load.
Households also keep ``lon``/``lat`` beside their point so that "what is in view" is a plain
indexed range query on both SQLite and PostGIS.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from minqing.geometry import Geometry


class Base(DeclarativeBase):
    pass


class Town(Base):
    """A town (镇, rural) or subdistrict (街道, urban)."""

    __tablename__ = "towns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    geom = mapped_column(Geometry("MULTIPOLYGON"), nullable=False)


class Area(Base):
    """An area (片) of a town, headed by an area head (片长) who reviews diaries weekly."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    head_name: Mapped[str] = mapped_column(String(32))


class Grid(Base):
    """A village (rural) or community (urban) grid; ``version`` counts published reassignments."""

    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    geom = mapped_column(Geometry("POLYGON"), nullable=False)
    # added in 0005 (grid layers): the village (rural) or community (urban) the grid belongs to,
    # and whether the grid is in the current layer version (a grid merged away or not yet
    # published keeps its row, so the history that names it stays attached; see minqing.layers)
    village: Mapped[str] = mapped_column(String(64), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())


class Household(Base):
    """A household (户) and its family-archive header; personal fields are masked by scope."""

    __tablename__ = "households"
    __table_args__ = (Index("ix_households_lon_lat", "lon", "lat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), index=True)
    head_name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str] = mapped_column(String(18))
    address: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    tags: Mapped[str] = mapped_column(String(128), default="")  # comma-separated HouseholdTag
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geom = mapped_column(Geometry("POINT"), nullable=False)

    members: Mapped[list[HouseholdMember]] = relationship(back_populates="household")


class HouseholdMember(Base):
    """A person in a household, for the family archive (家庭档案)."""

    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    relation: Mapped[str] = mapped_column(String(16))  # head, spouse, child, parent, other
    birth_year: Mapped[int] = mapped_column(Integer)

    household: Mapped[Household] = relationship(back_populates="members")


class Cadre(Base):
    """A cadre at district, town or village level; village cadres lead the grid service groups."""

    __tablename__ = "cadres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(16))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    unit: Mapped[str] = mapped_column(String(64))


class ServiceGroup(Base):
    """A grid's service group; ``lon``/``lat`` is where it sits (its service point)."""

    __tablename__ = "service_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), unique=True)
    leader_cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)


class GroupMember(Base):
    """A member of a service group in one role (see ``vocab.MemberRole``)."""

    __tablename__ = "group_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("service_groups.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)


class Pairing(Base):
    """A cadre paired (结对) with a central household or community service worker."""

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("cadre_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("group_members.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))


class DiaryEntry(Base):
    """One entry of a cadre's service diary (民情日记)."""

    __tablename__ = "diary_entries"
    __table_args__ = (
        Index("ix_diary_grid_date", "grid_id", "entry_date"),
        Index("ix_diary_town_date", "town_id", "entry_date"),
        Index("ux_diary_entries_entry_key", "entry_key", unique=True),
        # covers the KPI queries (minqing.kpi): period, grid, cadre, kind, household
        Index("ix_diary_date_kpi", "entry_date", "grid_id", "cadre_id", "kind", "household_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    entry_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    risk_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 none .. 3 high
    people_received: Mapped[int | None] = mapped_column(Integer)
    opinions_taken: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # added in 0006: the signed-in account that wrote the entry (None for imported history)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # added in 0005: the grid the entry was recorded in, once a published layer moved it to
    # another grid (NULL: recorded in ``grid_id``, which is always the current grid)
    recorded_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    # added in 0007: the idempotency key of the form submission that wrote the entry (a repeated
    # submission finds it and writes nothing; NULL for imported history), unique when present
    entry_key: Mapped[str | None] = mapped_column(String(64))


class Case(Base):
    """A demand on one of the four tracks; ``version`` guards against concurrent edits."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_town_status", "town_id", "status"),
        Index("ix_cases_grid_status", "grid_id", "status"),
        Index("ix_cases_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    diary_entry_id: Mapped[int | None] = mapped_column(ForeignKey("diary_entries.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    responsible: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64))  # liaison track
    letter_no: Mapped[str | None] = mapped_column(String(32))  # liaison letter number
    leader: Mapped[str | None] = mapped_column(String(64))  # 包案 leader set by consultation
    green_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    is_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    result: Mapped[str | None] = mapped_column(Text)
    # added in 0002: the liaison department's reply, what the resident was told when the matter
    # cannot be done yet, and the feedback given to the resident with their satisfaction
    letter_reply: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    # added in 0004: the rectification deadline a monthly follow-up (复诊) set; the deadline itself
    # is not moved, so a late case stays late in the closure rates
    rectify_by: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # added in 0005: as on DiaryEntry, the grid the case was recorded in (NULL: ``grid_id``)
    recorded_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseEvent(Base):
    """One appended change to a case (who, when, from -> to, comment). Never updated."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_at", "case_id", "at"),
        # added in 0004: "cases whose history holds action X" (extension and rework rates, the
        # consultation agenda) without reading every event
        Index("ix_case_events_action_case", "action", "case_id"),
        Index("ux_case_events_event_key", "event_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text, default="")  # JSON of changed fields
    # added in 0006: the signed-in account that acted (None for imported history)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # added in 0009: the idempotency key of the form submission that appended the event (a
    # repeated submission finds it and applies nothing; NULL for imported and older history)
    event_key: Mapped[str | None] = mapped_column(String(64))


class HouseholdService(Base):
    """A practical thing done for a household (服务代理), for the family archive."""

    __tablename__ = "household_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    done_on: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200))


class DatasetInfo(Base):
    """Key/value facts about the loaded dataset (demo flag, seed, scale, data version)."""

    __tablename__ = "dataset_info"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


# --- accounts, sign-in tokens and the audit trail (minqing.accounts, minqing.audit) --------------


class Account(Base):
    """Someone who signs in: a role, a jurisdiction (district, or one town/area/grid) and a
    password hash (argon2id) or a single sign-on identity."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(24))
    level: Mapped[str] = mapped_column(String(16))  # district | town | area | grid
    jurisdiction_id: Mapped[int | None] = mapped_column(Integer)  # town/area/grid id
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    email: Mapped[str | None] = mapped_column(String(128), unique=True)  # single sign-on mapping
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuthToken(Base):
    """A sign-in session (kept in a signed cookie) or a wall display's URL token: only the
    SHA-256 of the token is stored; revoking sets ``revoked_at``."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # session | display
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """One audited act (sign-in failure, unmasked view, export, account change). Append-only:
    triggers on both backends refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"), Index("ix_audit_action_at", "action", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class AppSecret(Base):
    """Secrets the app generates once per store (the cookie signing key)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


#: Tables that belong to the deployment, not to the district's records: rebuilding the demo
#: (``minqing demo --replace``) keeps them (accounts, the audit trail, the working-day calendar).
DEPLOYMENT_TABLES = frozenset({"accounts", "auth_tokens", "audit_log", "app_secrets",
                               "calendar_years", "calendar_days"})


# --- Grid layer versions (0005, the planner): see minqing.layers -------------------------------


class GridLayer(Base):
    """A version of the grid layer: a set of grids and an assignment of every household to one.

    Exactly one version is current once any exists; the ``grids`` and ``households.grid_id`` rows
    always mirror it. ``source`` says what made it ("initial", "import", "plan").
    """

    __tablename__ = "grid_layers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # 1, 2, 3 ... as users see it
    label: Mapped[str] = mapped_column(String(120), default="")
    source: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid_layers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    grids: Mapped[int] = mapped_column(Integer, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)


class LayerGrid(Base):
    """One grid as it is in one layer version (its geometry and attributes at that version)."""

    __tablename__ = "layer_grids"
    __table_args__ = (UniqueConstraint("layer_id", "grid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layers.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    kind: Mapped[str] = mapped_column(String(16))
    village: Mapped[str] = mapped_column(String(64), default="")
    households: Mapped[int] = mapped_column(Integer, default=0)
    geom = mapped_column(Geometry("POLYGON"), nullable=False)


class LayerHousehold(Base):
    """A household's grid in one layer version."""

    __tablename__ = "layer_households"

    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layers.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))


class LayerEvent(Base):
    """An audited act on a layer version (create, publish, restore): who, when, why. Appended."""

    __tablename__ = "layer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layers.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text, default="")  # JSON: counts, previous current version


class PlannerBound(Base):
    """A size bound the planner may change: households per grid, backbone ratio, pairings.

    ``key`` names what is bounded (see :mod:`minqing.sizing`); ``low``/``high`` are inclusive.
    """

    __tablename__ = "planner_bounds"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    low: Mapped[int] = mapped_column(Integer)
    high: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


# --- Supervision (四查, 会诊, 复诊): reviews, meetings, verifications, scores (issue 9) -----------


class DiaryReview(Base):
    """An area head's weekly review (周查) of one diary entry: passed, or sent back with a request.

    An entry may be reviewed more than once (sent back, then passed); the latest review counts.
    """

    __tablename__ = "diary_reviews"
    __table_args__ = (Index("ix_diary_reviews_entry_at", "entry_id", "reviewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id"))
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # passed | returned
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Meeting(Base):
    """A weekly township consultation (会诊) or a monthly area follow-up (复诊)."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_town_kind_held", "town_id", "kind", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # consultation | follow_up
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    chair: Mapped[str] = mapped_column(String(64))
    attendees: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class MeetingItem(Base):
    """One case on a meeting's agenda, why it is there, and what the meeting decided.

    ``event_id``..``last_event_id`` are the case events that recorded the decision (None while
    undecided; a consultation may write two: its decision and a new deadline).
    ``rectify_by`` is a follow-up's rectification deadline, tracked until met or missed.
    """

    __tablename__ = "meeting_items"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reasons: Mapped[str] = mapped_column(String(128))  # comma-separated reason codes
    decision: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    rectify_by: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(64))


class Verification(Base):
    """Quarterly verification (季度核查) of one item unfinished at quarter end."""

    __tablename__ = "verifications"
    __table_args__ = (UniqueConstraint("case_id", "quarter"),
                      Index("ix_verifications_town_quarter", "town_id", "quarter"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    quarter: Mapped[str] = mapped_column(String(7))  # 2026Q3
    verified: Mapped[bool] = mapped_column(Boolean)
    verifier: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class ScoringRule(Base):
    """A year's scoring criteria (weights per item, JSON) and how many service stars to award."""

    __tablename__ = "scoring_rules"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    weights: Mapped[str] = mapped_column(Text)
    stars: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Score(Base):
    """A published year-end score of one cadre's diary, with the items that make it up (JSON)."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("year", "cadre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    star: Mapped[bool] = mapped_column(Boolean, default=False)
    items: Mapped[str] = mapped_column(Text)


# --- The working-day calendar (0003_calendar): see minqing.workcalendar ------------------------


class CalendarYear(Base):
    """A year the working-day calendar covers, and where its days came from."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(64))  # "chinesecalendar 1.11.0", a file name, ...
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CalendarDay(Base):
    """A public holiday, or a weekend day worked in exchange for one (调休上班), in a covered year.

    Days not listed follow the week: Monday to Friday are working days.
    """

    __tablename__ = "calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "holiday" | "workday"
    name: Mapped[str] = mapped_column(String(64), default="")  # e.g. 春节
