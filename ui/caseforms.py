"""The two forms a cadre fills in: a diary entry (optionally turned into a case in the same step)
and an action on a case (every allowed action, or the quick update's field work on a phone).

Why the session-state dance: a refused submission must keep everything typed (so widgets are
never cleared on error), while a successful one starts a blank form (so widget keys carry a
generation number that is bumped before ``st.rerun()``). Each blank form carries an idempotency
key, kept through refusals and repeated taps and replaced once the form is saved, which the store
keeps with what the save wrote: a submission repeated after its reply was lost writes nothing
twice. For a case, the version the user *saw* is remembered between runs and sent with the
action, so a save over someone else's newer change is refused instead of silently overwriting it.
A save leaves a receipt (:mod:`ui.receipts`) that the form shows until its next save.
"""

from __future__ import annotations

import uuid

import streamlit as st

import ui
from minqing.casebook import CaseDetail
from minqing.cases import (
    ACTIONS,
    Action,
    Field,
    NewCase,
    act,
    available_actions,
    quick_actions,
)
from minqing.clock import today
from minqing.diary import MAX_COUNT, MAX_TEXT, RISK_LEVELS, NewEntry, record
from minqing.errors import DomainError, Label
from minqing.mine import last_entry
from minqing.vocab import RecordKind, Source, Track
from ui import receipts
from ui.casework import show_refusal
from ui.safe import md


def _label(prefix: str):
    return lambda code: ui.t(f"{prefix}.{code}")


def _read_only() -> bool:
    """Roles that do not do casework see the records but no form (the domain refuses too)."""
    if ui.current_scope().writes_casework:
        return False
    st.caption(ui.t("access.error.read_only"))
    return True


# --- diary entry --------------------------------------------------------------------------------


def _index(choices: list, wanted: object, default: int) -> int:
    return choices.index(wanted) if wanted in choices else default


def _entry_fields(gen: int, cadres: list[tuple[int, str]],
                  households: list[tuple[int, str]], last: dict | None = None) -> dict:
    """The entry's fields; cadre, kind and source start from the account's last entry here."""
    names, labels = dict(cadres), dict(households)
    last = last or {}
    kinds, sources = [k.value for k in RecordKind], [s.value for s in Source]
    c1, c2, c3, c4 = st.columns(4)
    values = {
        "cadre_id": c1.selectbox(ui.t("diary.field.cadre_id"), list(names),
                                 index=_index(list(names), last.get("cadre_id"), 0),
                                 format_func=names.get, key=f"d_cadre_{gen}"),
        "entry_date": c2.date_input(ui.t("diary.field.entry_date"), value=today(),
                                    key=f"d_date_{gen}"),
        "kind": c3.selectbox(ui.t("diary.field.kind"), kinds,
                             index=_index(kinds, last.get("kind"), 2),
                             format_func=_label("kind"), key=f"d_kind_{gen}"),
        "source": c4.selectbox(ui.t("diary.field.source"), sources,
                               index=_index(sources, last.get("source"), 1),
                               format_func=_label("source"), key=f"d_source_{gen}"),
    }
    values["household_id"] = st.selectbox(
        ui.t("diary.field.household_id"), [None, *labels], key=f"d_household_{gen}",
        format_func=lambda i: ui.t("diary.no_household") if i is None else labels[i],
        help=ui.t("diary.household_help"))
    values["text"] = st.text_area(ui.t("diary.field.text"), key=f"d_text_{gen}", height=110,
                                  max_chars=MAX_TEXT,
                                  placeholder=ui.t("diary.text_placeholder"))
    r1, r2, r3 = st.columns(3)
    values["risk_level"] = r1.selectbox(ui.t("diary.field.risk_level"), list(RISK_LEVELS),
                                        format_func=_label("risk"), key=f"d_risk_{gen}")
    values["people_received"] = r2.number_input(
        ui.t("diary.field.people_received"), min_value=0, max_value=MAX_COUNT, value=None, step=1,
        help=ui.t("diary.deputies_only"), key=f"d_people_{gen}")
    values["opinions_taken"] = r3.number_input(
        ui.t("diary.field.opinions_taken"), min_value=0, max_value=MAX_COUNT, value=None, step=1,
        help=ui.t("diary.deputies_only"), key=f"d_opinions_{gen}")
    return values


def _field(spec: Field, key: str, *, case: dict | None = None, default: object = None,
           where=st) -> object:
    """One declared field as its widget: labels, hints and length limits from the declaration."""
    label = ui.t(f"case.field.{spec.name}")
    hint = ui.t(spec.help) if spec.help else None
    if spec.widget == "text":
        return where.text_input(label, value=default or "", key=key, help=hint,
                                max_chars=spec.max_len)
    if spec.widget == "long_text":
        return where.text_area(label, key=key, help=hint, max_chars=spec.max_len)
    if spec.widget == "date":
        return where.date_input(label, value=None, key=key, help=hint)
    if spec.widget == "flag":
        return where.checkbox(label, key=key, help=hint)
    if spec.widget == "select":
        return where.selectbox(label, spec.choices, key=key, help=hint,
                               format_func=_label(spec.name))
    if spec.widget == "choice":
        return where.radio(label, spec.choices, index=None, horizontal=True, key=key, help=hint,
                           format_func=_label(spec.name))
    others = [t.value for t in Track if t.value != (case or {}).get("track")]  # other_track
    return where.selectbox(label, others, key=key, help=hint, format_func=_label("track"))


def _case_fields(gen: int, responsible: str) -> dict:
    """The opening's declared fields, three then four to a row."""
    st.markdown(f"**{ui.t('diary.case_heading')}**")
    values = {"as_case": st.checkbox(ui.t("diary.turn_into_case"), key=f"d_as_case_{gen}")}
    fields = ACTIONS[Action.OPEN].fields
    rows = (st.columns([3, 1, 1]), st.columns(4))
    places = [*rows[0], *rows[1]]
    for spec, where in zip(fields, places, strict=True):
        default = responsible if spec.name == "responsible" else None
        values[spec.name] = _field(spec, f"d_{spec.name}_{gen}", default=default, where=where)
    return values


def _new_case(grid_id: int, entry: dict, case: dict) -> NewCase | None:
    if not case["as_case"]:
        return None
    first_line = next(iter((entry["text"] or "").strip().splitlines()), "")[:60]
    typed = {spec.name: case[spec.name] for spec in ACTIONS[Action.OPEN].fields}
    return NewCase(grid_id=grid_id, **(typed | {"title": typed["title"].strip() or first_line}))


def diary_form(*, grid_id: int, cadres: list[tuple[int, str]],
               households: list[tuple[int, str]]) -> None:
    """The week's work in one form: an entry, and optionally a case opened from it."""
    if _read_only():
        return
    if not cadres:
        st.info(ui.t("diary.no_cadre"))
        return
    gen = st.session_state.setdefault(f"_diary_gen_{grid_id}", 0)
    # the idempotency key of this blank form: kept through refusals and repeated taps (a reply
    # lost on a weak network), replaced only once the entry is saved
    key = st.session_state.setdefault(f"_diary_key_{grid_id}_{gen}", uuid.uuid4().hex)
    last = last_entry(ui.engine(), scope=ui.current_scope(), grid_id=grid_id)
    with st.form(f"diary_{grid_id}_{gen}", clear_on_submit=False, border=True):
        entry = _entry_fields(gen, cadres, households, last)
        case = _case_fields(gen, dict(cadres)[entry["cadre_id"]])
        submitted = st.form_submit_button(ui.t("diary.submit"), type="primary")
    if not submitted:
        return
    try:  # recorded as the signed-in account (the scope carries it)
        _, case_id = record(ui.engine(), entry=NewEntry(grid_id=grid_id, key=key, **entry),
                            case=_new_case(grid_id, entry, case), actor=ui.viewer().label,
                            scope=ui.current_scope())
    except DomainError as exc:
        show_refusal(exc)
        return
    st.session_state[f"_diary_gen_{grid_id}"] = gen + 1
    st.session_state.pop(f"_diary_key_{grid_id}_{gen}", None)
    link = ("diary.open_new_case", "app_pages/case.py", {"case": str(case_id)}) if case_id else None
    receipts.keep(f"diary_{grid_id}", first="diary.saved_with_case" if case_id else "diary.saved",
                  later="receipt.diary", link=link)
    st.rerun()


def diary_saved(grid_id: int) -> None:
    """The last save's receipt: the confirmation (with a link straight to the case opened from
    the entry), or after it the reminder that it was recorded."""
    receipts.show(f"diary_{grid_id}")


# --- case action --------------------------------------------------------------------------------


def _action_fields(action: str, case: dict, key: str) -> dict:
    """The inputs one action declares (and only those)."""
    return {spec.name: _field(spec, f"{key}_{spec.name}", case=case)
            for spec in ACTIONS[action].fields}


def _comment_label(action: str) -> str:
    required = ACTIONS[action].comment
    return ui.t(f"case.field.{required}") if required else ui.t("case.comment_optional")


def _offered(case: dict, names: list[str], chosen: object) -> list[str]:
    """The actions to offer. When someone else's save took away the action this user is filling
    in (they closed it first), it stays, so the submission reaches the store and ends in the
    conflict message with the typed input still there."""
    seen = st.session_state.get(f"_case_version_{case['id']}", case["version"])
    if chosen in ACTIONS and chosen not in names and seen != case["version"]:
        return [*names, chosen]
    return names


def _action_label(action: str) -> str:
    return ui.t(f"case.action.{action}")


def _pick_action(case: dict, *, quick: bool, gen: int) -> str:
    """Every allowed action in a drop-down, or the quick update's as buttons (one tap with a
    thumb), the next move preselected; a save starts the next form with the next move."""
    state = (case["status"], case["track"], bool(case["green_channel"]))
    if not quick:
        key = f"action_{case['id']}"
        actions = _offered(case, available_actions(*state), st.session_state.get(key))
        return st.selectbox(ui.t("case.choose_action"), actions, key=key,
                            format_func=_action_label)
    key = f"quick_action_{case['id']}_{gen}"
    actions = _offered(case, quick_actions(*state), st.session_state.get(key))
    return st.pills(ui.t("case.choose_action"), actions, default=actions[0], required=True,
                    key=key, format_func=_action_label)


def case_action_form(detail: CaseDetail, *, quick: bool = False) -> None:
    """Pick an action allowed in the case's status, fill in what it needs, save (as the
    signed-in account, today). ``quick``: the phone's quick update, field work only, with the
    presets said above it and a full-width save button."""
    if _read_only():
        return
    case = detail.case
    receipts.show(f"case_{case['id']}")
    if quick:
        st.caption(ui.t("case.quick_presets", actor=md(ui.viewer().label), day=today()))
    gen = st.session_state.get("_case_gen", 0)
    action = _pick_action(case, quick=quick, gen=gen)
    key = f"cf_{case['id']}_{action}_{gen}"
    with st.form(key, border=True):
        fields = _action_fields(action, case, key)
        comment = st.text_area(_comment_label(action), key=f"{key}_comment", height=80)
        submitted = st.form_submit_button(_action_label(action), type="primary",
                                          width="stretch" if quick else "content")
    version_key = f"_case_version_{case['id']}"
    if not submitted:
        st.session_state[version_key] = case["version"]
        return
    _submit_action(case, action, st.session_state.get(version_key, case["version"]), gen=gen,
                   comment=comment, fields=fields)


def _submit_action(case: dict, action: str, version: int, *, gen: int, comment: str,
                   fields: dict) -> None:
    # the idempotency key of this blank form (see the module docstring)
    submission = st.session_state.setdefault(f"_case_key_{case['id']}_{gen}", uuid.uuid4().hex)
    try:
        act(ui.engine(), case_id=case["id"], version=version, action=action,
            actor=ui.viewer().label, comment=comment, scope=ui.current_scope(), key=submission,
            **fields)
    except DomainError as exc:
        show_refusal(exc)
        st.session_state[f"_case_version_{case['id']}"] = case["version"]
        return
    st.session_state["_case_gen"] = gen + 1
    st.session_state.pop(f"_case_key_{case['id']}_{gen}", None)
    receipts.keep(f"case_{case['id']}", first="case.saved", later="receipt.case",
                  action=Label(f"case.action.{action}"))
    st.rerun()
