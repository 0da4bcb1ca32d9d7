"""Meeting-room wall display: the map and the counters, cycling through the towns by itself.

Configured by its address only (``/display?token=&town=&metric=&dwell=&theme=&lang=en``, see
README); the token is a display account's revocable link, made on the accounts page.
The timer runs in the browser: a fragment reruns every ``dwell`` seconds and draws the next view
from the process's last good snapshot, so ticks never query the store.
"""

from __future__ import annotations

import streamlit as st

from ui import display

config = display.parse(st.query_params.to_dict())
token = st.query_params.get("token")
display.style()


@st.fragment(run_every=config.dwell)
def wall() -> None:
    display.tick(config, token)


wall()
