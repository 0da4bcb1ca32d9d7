"""Supervision (四查, 会诊, 复诊): the meeting cycle that checks the casework.

:mod:`~minqing.supervision.reviews` (weekly diary review by area heads),
:mod:`~minqing.supervision.meetings` (weekly consultation and monthly follow-up: agendas,
decisions written to the cases, minutes), :mod:`~minqing.supervision.verification` (quarterly
verification of unfinished items) and :mod:`~minqing.supervision.minutes` (the printable minutes).
Every function takes the caller's ``scope``; none imports Streamlit.
"""
