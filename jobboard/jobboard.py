"""Assembles the Reflex app: pages and the live event subscription."""

from __future__ import annotations

import reflex as rx

from jobboard.api import create_api
from jobboard.api.security import SecurityHeadersMiddleware
from jobboard.components.connection import backend_error, overlay
from jobboard.core import loopwatch
from jobboard.pages import (  # noqa: F401
    ai,
    history,
    job_detail,
    products,
    settings,
    sign_in,
    sign_up,
    tasks,
    upload,
    webhooks,
)
from jobboard.state import fanout
from jobboard.state.live import purge_old_data_forever, subscribe_events, watchdog_forever
from jobboard.state.locale import LocaleMiddleware
from jobboard.state.monitoring import count_sessions_forever
from jobboard.state.session import AuthMiddleware


def index() -> rx.Component:
    return rx.fragment()


class JobboardApp(rx.App):
    """Reflex's app with the HTTP edge around all of its backend, CORS middleware included,
    and the websockets' own send kept for their frames (jobboard.state.fanout)."""

    def __call__(self):  # the ASGI app factory Reflex's server calls
        return fanout.RawWebsocketSend(SecurityHeadersMiddleware(super().__call__()))

    def _apply_decorated_pages(self) -> None:
        """Add the `@rx.page` pages once. Reflex adds them at every compile, and each
        Granian worker forked from the `reflex run` process, which compiled already,
        compiles again: every page was added twice ("Page … is being redefined")."""
        super()._apply_decorated_pages()
        self._registration_context.decorated_pages.clear()


app = JobboardApp(
    head_components=[rx.el.script(src="/jobboard.js")],
    stylesheets=["/jobboard.css"],  # header menu, stacked tables, focus (any screen)
    # Bottom right, over the room every page keeps free under its content (`.jb-main`).
    toaster=rx.toast.provider(position="bottom-right", offset="1.25rem", visible_toasts=3),
    api_transformer=create_api(),
    backend_exception_handler=backend_error,
)
# Our own "reconnecting…" bar instead of Reflex's default connection toaster, and the notice
# for a job queue (Redis) that does not answer.
# Every event of a Jobboard state needs a signed-in user (see jobboard/state/session.py).
app.add_middleware(AuthMiddleware())
# Numbers in the browser's locale (see jobboard/state/locale.py), for every event.
app.add_middleware(LocaleMiddleware(), index=0)
app.app_wraps[(5, "Overlay")] = lambda stateful: overlay() if stateful else None
app.add_page(index, route="/", on_load=rx.redirect("/tasks"), title="Jobboard")
fanout.install()  # before any socket connects
app.register_lifespan_task(subscribe_events)
app.register_lifespan_task(watchdog_forever)
app.register_lifespan_task(purge_old_data_forever)
app.register_lifespan_task(count_sessions_forever)
app.register_lifespan_task(loopwatch.watch_forever)
