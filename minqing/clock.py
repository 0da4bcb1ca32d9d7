"""The one notion of "today" used by deadlines, overdue flags and counters.

``MINQING_TODAY`` (YYYY-MM-DD) pins it, so tests and demos built for a given day stay reproducible.
"""

from __future__ import annotations

import datetime as dt
import os


def today() -> dt.date:
    pinned = os.environ.get("MINQING_TODAY")
    return dt.date.fromisoformat(pinned) if pinned else dt.date.today()


def now() -> dt.datetime:
    """Wall-clock time for event stamps (naive local time, second precision)."""
    return dt.datetime.now().replace(microsecond=0)
