"""Assembles the Reflex app: pages and the live event subscription."""

from __future__ import annotations

import reflex as rx

from jobboard.api import create_api
from jobboard.pages import ai, job_detail, products, settings, tasks, upload  # noqa: F401
from jobboard.state.live import (
    purge_old_data_forever,
    reap_stuck_jobs_forever,
    subscribe_events,
)


def index() -> rx.Component:
    return rx.fragment()


app = rx.App(
    head_components=[rx.el.script(src="/jobboard.js")],
    api_transformer=create_api(),
)
app.add_page(index, route="/", on_load=rx.redirect("/tasks"), title="Jobboard")
app.register_lifespan_task(subscribe_events)
app.register_lifespan_task(reap_stuck_jobs_forever)
app.register_lifespan_task(purge_old_data_forever)
