"""Supervision (四查, 会诊, 复诊): the meeting cycle that checks the casework.

:mod:`~minqing.supervision.reviews` (weekly diary review by area heads),
:mod:`~minqing.supervision.meetings` (weekly consultation and monthly follow-up: agendas,
decisions written to the cases, minutes), :mod:`~minqing.supervision.verification` (quarterly
verification of unfinished items) and :mod:`~minqing.supervision.minutes` (the printable minutes).
Every function takes the caller's ``scope``; none imports Streamlit.
"""

from minqing.access import SUPERVISES, AccessDenied
from minqing.scope import Scope


def require_supervision(scope: Scope) -> None:
    """Refuse supervision writes (reviews, meetings, decisions, checks, criteria) to roles that do
    not supervise; system scopes (no viewer: the demo, the CLI) may."""
    if scope.viewer is not None and scope.role not in SUPERVISES:
        raise AccessDenied("access.error.not_supervisor")
