"""What the phone tests share: the screen, the step counter, and the phone's network, which the
test can switch off and on or make lose the server's replies."""

from __future__ import annotations

import re
from collections.abc import Callable

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.browser.conftest import wait_for_app

PHONE = {"width": 390, "height": 844}
MAX_STEPS = 8  # taps and fields for one piece of work (issue #16)
STATE = "document.querySelector('[data-testid=stApp]').dataset.testConnectionState"


class Steps:
    """Counts what the cadre does: each tap and each field typed into is one step."""

    def __init__(self, page):
        self.page, self.n = page, 0

    def tap(self, locator) -> None:
        self.n += 1
        locator.click()

    def type(self, locator, text: str) -> None:
        self.n += 1
        locator.fill(text)

    def keys(self, text: str) -> None:
        self.n += 1
        self.page.keyboard.type(text)


def settle(page) -> None:
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


class Network:
    """The phone's network. ``context.set_offline`` stops HTTP but leaves an open WebSocket alone
    (Playwright #4910), so Streamlit's socket is routed through the test: :meth:`off` drops it
    and refuses new ones until :meth:`on`; :meth:`lose_replies` keeps the socket open but lets
    nothing the server sends reach the page (a reply lost on a weak network), while counting
    the script runs the server finished."""

    def __init__(self, page):
        self.page, self.online, self.sockets = page, True, []
        self.losing, self.runs_finished, self.mute = False, 0, False
        page.route_web_socket(re.compile(r".*/_stcore/stream"), self._route)

    def _route(self, ws) -> None:
        if not self.online:
            ws.close()
            return
        server = ws.connect_to_server()
        server.on_message(lambda message: self._from_server(ws, message))
        ws.on_message(lambda message: None if self.mute else server.send(message))
        self.sockets.append(ws)

    def _from_server(self, ws, message) -> None:
        if not self.losing:
            ws.send(message)
            return
        if isinstance(message, bytes):
            msg = ForwardMsg.FromString(message)
            if (msg.WhichOneof("type") == "script_finished"
                    and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY):
                self.runs_finished += 1

    def lose_replies(self) -> None:
        self.losing, self.runs_finished = True, 0

    def lose_requests(self) -> None:
        """Nothing the page sends reaches the server (a tap into a dead connection)."""
        self.mute = True

    def off(self) -> None:
        self.online = False
        self.page.context.set_offline(True)
        for ws in self.sockets:
            ws.close()
        self.sockets.clear()

    def on(self) -> None:
        self.online, self.losing, self.mute = True, False, False
        self.page.context.set_offline(False)

    def reconnected(self) -> None:
        """Wait until the page is connected again and has drawn what the server sent."""
        self.page.wait_for_function(f"() => {STATE} === 'CONNECTED'", timeout=60_000)
        settle(self.page)


def save_losing_the_reply(page, network: Network, save: Callable[[], None],
                          written: Callable[[], bool]) -> None:
    """Tap save while nothing the server sends reaches the page; once the store holds the write
    and the server has finished the run after it, the socket drops and the phone reconnects."""
    network.lose_replies()
    save()
    for _ in range(240):
        if written() and network.runs_finished:
            break
        page.wait_for_timeout(250)
    else:
        raise AssertionError("the save never reached the store")
    network.off()
    page.wait_for_timeout(1000)
    network.on()
    network.reconnected()
