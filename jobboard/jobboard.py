"""Assembles the Reflex app: pages and the live event subscription."""

from __future__ import annotations

import reflex as rx

from jobboard.pages import job_detail, products, tasks, upload  # noqa: F401  (registers pages)
from jobboard.state.live import subscribe_events


def index() -> rx.Component:
    return rx.fragment()


app = rx.App()
app.add_page(index, route="/", on_load=rx.redirect("/tasks"), title="Jobboard")
app.register_lifespan_task(subscribe_events)
