"""The two forms a cadre fills in: a diary entry (optionally turned into a case in the same step)
and an action on a case.

Why the session-state dance: a refused submission must keep everything typed (so widgets are
never cleared on error), while a successful one starts a blank form (so widget keys carry a
generation number that is bumped before ``st.rerun()``). For a case, the version the user *saw*
is remembered between runs and sent with the action, so a save over someone else's newer change
is refused instead of silently overwriting it.
"""

from __future__ import annotations

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
)
from minqing.clock import today
from minqing.diary import MAX_COUNT, MAX_TEXT, RISK_LEVELS, NewEntry, record
from minqing.errors import DomainError
from minqing.vocab import RecordKind, Source, Track
from ui.casework import flash, show_refusal

DIARY_FLASH = "_diary_flash"
_NEW_CASE = "_diary_new_case"
CASE_FLASH = "_case_flash"


def _label(prefix: str):
    return lambda code: ui.t(f"{prefix}.{code}")


def _read_only() -> bool:
    """Roles that do not do casework see the records but no form (the domain refuses too)."""
    if ui.current_scope().writes_casework:
        return False
    st.caption(ui.t("access.error.read_only"))
    return True


# --- diary entry --------------------------------------------------------------------------------


def _entry_fields(gen: int, cadres: list[tuple[int, str]],
                  households: list[tuple[int, str]]) -> dict:
    names, labels = dict(cadres), dict(households)
    c1, c2, c3, c4 = st.columns(4)
    values = {
        "cadre_id": c1.selectbox(ui.t("diary.field.cadre_id"), list(names),
                                 format_func=names.get, key=f"d_cadre_{gen}"),
        "entry_date": c2.date_input(ui.t("diary.field.entry_date"), value=today(),
                                    key=f"d_date_{gen}"),
        "kind": c3.selectbox(ui.t("diary.field.kind"), [k.value for k in RecordKind],
                             index=2, format_func=_label("kind"), key=f"d_kind_{gen}"),
        "source": c4.selectbox(ui.t("diary.field.source"), [s.value for s in Source],
                               index=1, format_func=_label("source"), key=f"d_source_{gen}"),
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
    with st.form(f"diary_{grid_id}_{gen}", clear_on_submit=False, border=True):
        entry = _entry_fields(gen, cadres, households)
        case = _case_fields(gen, dict(cadres)[entry["cadre_id"]])
        submitted = st.form_submit_button(ui.t("diary.submit"), type="primary")
    if not submitted:
        return
    try:  # recorded as the signed-in account (the scope carries it)
        _, case_id = record(ui.engine(), entry=NewEntry(grid_id=grid_id, **entry),
                            case=_new_case(grid_id, entry, case), actor=ui.viewer().label,
                            scope=ui.current_scope())
    except DomainError as exc:
        show_refusal(exc)
        return
    st.session_state[f"_diary_gen_{grid_id}"] = gen + 1
    st.session_state[DIARY_FLASH] = (ui.t("diary.saved_with_case") if case_id
                                     else ui.t("diary.saved"))
    st.session_state[_NEW_CASE] = case_id
    st.rerun()


def diary_saved() -> None:
    """After a save: the confirmation, and a link straight to the case opened from the entry."""
    flash(DIARY_FLASH)
    case_id = st.session_state.pop(_NEW_CASE, None)
    if case_id:
        st.page_link("app_pages/case.py", label=ui.t("diary.open_new_case"),
                     query_params={"case": str(case_id)}, icon=":material/arrow_forward:")


# --- case action --------------------------------------------------------------------------------


def _action_fields(action: str, case: dict, key: str) -> dict:
    """The inputs one action declares (and only those)."""
    return {spec.name: _field(spec, f"{key}_{spec.name}", case=case)
            for spec in ACTIONS[action].fields}


def _comment_label(action: str) -> str:
    required = ACTIONS[action].comment
    return ui.t(f"case.field.{required}") if required else ui.t("case.comment_optional")


def case_action_form(detail: CaseDetail) -> None:
    """Pick an action allowed in the case's status, fill in what it needs, save (as the
    signed-in account)."""
    if _read_only():
        return
    case = detail.case
    version_key = f"_case_version_{case['id']}"
    actions = available_actions(case["status"], case["track"], bool(case["green_channel"]))
    chosen = st.session_state.get(f"action_{case['id']}")
    if (chosen in ACTIONS and chosen not in actions
            and st.session_state.get(version_key, case["version"]) != case["version"]):
        # Someone else's save took away the action this user is filling in (they closed it
        # first): keep the form as it was, so the submission reaches the store and ends in the
        # conflict message with the typed input still there.
        actions = [*actions, chosen]
    action = st.selectbox(ui.t("case.choose_action"), actions, key=f"action_{case['id']}",
                          format_func=lambda a: ui.t(f"case.action.{a}"))
    key = f"cf_{case['id']}_{action}_{st.session_state.get('_case_gen', 0)}"
    with st.form(key, border=True):
        fields = _action_fields(action, case, key)
        comment = st.text_area(_comment_label(action), key=f"{key}_comment", height=80)
        submitted = st.form_submit_button(ui.t(f"case.action.{action}"), type="primary")
    if not submitted:
        st.session_state[version_key] = case["version"]
        return
    _submit_action(case, action, st.session_state.get(version_key, case["version"]),
                   actor=ui.viewer().label, comment=comment, fields=fields)


def _submit_action(case: dict, action: str, version: int, *, actor: str, comment: str,
                   fields: dict) -> None:
    try:
        act(ui.engine(), case_id=case["id"], version=version, action=action, actor=actor,
            comment=comment, scope=ui.current_scope(), **fields)
    except DomainError as exc:
        show_refusal(exc)
        st.session_state[f"_case_version_{case['id']}"] = case["version"]
        return
    st.session_state["_case_gen"] = st.session_state.get("_case_gen", 0) + 1
    st.session_state[CASE_FLASH] = ui.t("case.saved", action=ui.t(f"case.action.{action}"))
    st.rerun()
