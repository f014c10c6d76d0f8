"""Settings → Webhooks: the list, the create form, one webhook's settings and delivery log."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import link_button
from jobboard.components.time import local_time
from jobboard.core.webhooks import ALL_EVENTS, EVENT_TYPES
from jobboard.state.webhooks import DeliveryRow, WebhookRow, WebhooksState

EVENT_LABELS = {
    ALL_EVENTS: "All events",
    "progress": "Progress",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def _event_boxes(prefix: str, checked: rx.Var | None = None) -> rx.Component:
    boxes = []
    for name in (ALL_EVENTS, *EVENT_TYPES):
        default = checked.contains(name) if checked is not None else name == ALL_EVENTS
        boxes.append(
            rx.text(
                rx.flex(
                    rx.checkbox(
                        name=f"event_{name}",
                        default_checked=default,
                        id=f"{prefix}-event-{name}",
                        # Radix's checkbox is a <button>: the wrapping label does not name it.
                        aria_label=EVENT_LABELS[name],
                    ),
                    EVENT_LABELS[name],
                    spacing="2",
                ),
                as_="label",
                size="2",
            )
        )
    return rx.hstack(*boxes, spacing="4", wrap="wrap")


def _status_badge(row: rx.Var[WebhookRow]) -> rx.Component:
    return rx.badge(
        row.status,
        color_scheme=rx.match(row.status, ("active", "green"), ("paused", "gray"), "red"),
        class_name="webhook-status",
    )


def _webhook_row(row: rx.Var[WebhookRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.code(row.url, size="1"),
                rx.cond(row.description != "", rx.text(row.description, size="1")),
                spacing="1",
            )
        ),
        rx.table.cell(row.events),
        rx.table.cell(_status_badge(row)),
        rx.table.cell(
            rx.button(
                "Manage",
                size="1",
                variant=rx.cond(WebhooksState.selected == row.id, "solid", "soft"),
                on_click=WebhooksState.select(row.id),
                class_name="manage-webhook",
            )
        ),
        custom_attrs={"data-url": row.url, "data-id": row.id},
        class_name="webhook-row",
    )


def _new_secret() -> rx.Component:
    return rx.cond(
        WebhooksState.new_secret != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.vstack(
                rx.text(
                    "Signing secret for ",
                    rx.code(WebhooksState.new_secret_for),
                    ". Copy it now: it is shown only this once.",
                    weight="medium",
                    size="2",
                ),
                rx.hstack(
                    rx.code(WebhooksState.new_secret, id="new-secret", size="3"),
                    rx.button(
                        rx.icon("copy", size=14),
                        "Copy",
                        size="1",
                        variant="soft",
                        on_click=rx.set_clipboard(WebhooksState.new_secret),
                        id="copy-secret",
                    ),
                    rx.button(
                        "Done",
                        size="1",
                        variant="ghost",
                        on_click=WebhooksState.dismiss_secret,
                        id="dismiss-secret",
                    ),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    "Verify each request's webhook-signature header with it (any Standard "
                    "Webhooks library does).",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
            ),
            color_scheme="green",
            id="new-secret-box",
        ),
    )


def _notices() -> rx.Component:
    return rx.fragment(
        rx.cond(
            WebhooksState.error != "",
            rx.callout(
                WebhooksState.error,
                icon="triangle_alert",
                color_scheme="red",
                size="1",
                id="webhook-error",
            ),
        ),
        rx.cond(
            WebhooksState.message != "",
            rx.callout(WebhooksState.message, icon="check", size="1", id="webhook-message"),
        ),
    )


def turned_off_notice() -> rx.Component:
    """Webhooks Jobboard turned off (410, or failing for 3 days), with the reason."""
    return rx.foreach(
        WebhooksState.turned_off,
        lambda row: rx.callout(
            rx.text(rx.code(row.url), " was turned off: ", row.disabled_reason),
            icon="triangle_alert",
            color_scheme="red",
            size="1",
            class_name="webhook-turned-off",
        ),
    )


def create_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.input(
                    name="url",
                    placeholder="https://example.com/hooks/jobboard",
                    required=True,
                    max_length=2048,
                    id="webhook-url",
                    width="28em",
                ),
                rx.input(
                    name="description",
                    placeholder="Description (optional)",
                    max_length=300,
                    id="webhook-description",
                    width="18em",
                ),
                align="center",
                wrap="wrap",
            ),
            _event_boxes("new"),
            rx.button("Add webhook", type="submit", id="create-webhook"),
            spacing="3",
        ),
        on_submit=WebhooksState.create,
        reset_on_submit=False,  # refused input stays for correcting
    )


def _delivery_row(row: rx.Var[DeliveryRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(local_time(row.when, mode="absolute", fallback="—")),
        rx.table.cell(row.event_type, rx.cond(row.trigger == "resend", " (resend)", "")),
        rx.table.cell(row.attempt),
        rx.table.cell(
            rx.badge(
                row.result,
                color_scheme=rx.cond(row.ok, "green", "red"),
                class_name="delivery-result",
            )
        ),
        rx.table.cell(row.latency, class_name="delivery-latency"),
        rx.table.cell(
            rx.code(row.excerpt, size="1", class_name="delivery-excerpt", white_space="pre-wrap"),
            max_width="22em",
        ),
        rx.table.cell(
            rx.vstack(
                rx.button(
                    "Resend",
                    size="1",
                    variant="soft",
                    on_click=WebhooksState.resend(row.id),
                    class_name="resend-delivery",
                ),
                rx.cond(
                    row.next_attempt != "",
                    rx.text(
                        "next try ", local_time(row.next_attempt), size="1", color_scheme="gray"
                    ),
                ),
                spacing="1",
            )
        ),
        custom_attrs={"data-id": row.id, "data-event": row.event_type, "data-trigger": row.trigger},
        class_name="delivery-row",
    )


def _details() -> rx.Component:
    current = WebhooksState.current
    return rx.cond(
        WebhooksState.selected != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(rx.code(current.url), as_="h2", size="3"),
                    _status_badge(current),
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(
                    current.disabled_reason != "",
                    rx.callout(
                        current.disabled_reason,
                        icon="triangle_alert",
                        color_scheme="red",
                        size="1",
                        id="webhook-disabled-reason",
                    ),
                ),
                rx.cond(
                    current.failing_since != "",
                    rx.text(
                        "Failing since ",
                        local_time(current.failing_since, mode="absolute"),
                        size="2",
                        color_scheme="red",
                    ),
                ),
                rx.cond(
                    current.rotating_until != "",
                    rx.text(
                        "Signed with the old secret too until ",
                        local_time(current.rotating_until, mode="absolute"),
                        size="2",
                        color_scheme="gray",
                    ),
                ),
                rx.form(
                    rx.vstack(
                        rx.input(
                            name="description",
                            default_value=current.description,
                            placeholder="Description",
                            max_length=300,
                            id="edit-description",
                            width="28em",
                        ),
                        _event_boxes("edit", current.events.split(", ")),
                        rx.text(
                            rx.flex(
                                rx.checkbox(
                                    name="active", default_checked=current.active, id="edit-active"
                                ),
                                "Active (send events)",
                                spacing="2",
                            ),
                            as_="label",
                            size="2",
                        ),
                        rx.hstack(
                            rx.button("Save", type="submit", size="2", id="save-webhook"),
                            rx.button(
                                "Send test event",
                                type="button",
                                size="2",
                                variant="soft",
                                on_click=WebhooksState.send_test,
                                id="send-test",
                            ),
                            rx.button(
                                "Rotate secret",
                                type="button",
                                size="2",
                                variant="soft",
                                on_click=WebhooksState.rotate,
                                id="rotate-secret",
                            ),
                            rx.button(
                                "Delete",
                                type="button",
                                size="2",
                                variant="soft",
                                color_scheme="red",
                                on_click=WebhooksState.delete,
                                id="delete-webhook",
                            ),
                            wrap="wrap",
                        ),
                        spacing="3",
                    ),
                    on_submit=WebhooksState.save,
                    key=WebhooksState.selected + current.events + current.active.to_string(),
                ),
                rx.hstack(
                    rx.heading("Delivery log", as_="h3", size="3"),
                    rx.button(
                        rx.icon("refresh-cw", size=14),
                        "Refresh",
                        size="1",
                        variant="ghost",
                        on_click=WebhooksState.refresh,
                        id="refresh-log",
                    ),
                    rx.cond(WebhooksState.watching, rx.spinner(size="1")),
                    align="center",
                ),
                rx.text(
                    "Every attempt of the last 30 days, newest first.",
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    WebhooksState.deliveries.length() > 0,
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *(
                                    rx.table.column_header_cell(h)
                                    for h in (
                                        "Time",
                                        "Event",
                                        "Attempt",
                                        "Result",
                                        "Latency",
                                        "Response",
                                        "",
                                    )
                                )
                            )
                        ),
                        rx.table.body(rx.foreach(WebhooksState.deliveries, _delivery_row)),
                        variant="surface",
                        size="1",
                        width="100%",
                        id="delivery-list",
                    ),
                    rx.text(
                        "No deliveries yet. Send a test event.",
                        size="2",
                        color_scheme="gray",
                        id="delivery-list-empty",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="webhook-details",
        ),
    )


def webhooks_panel() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.vstack(
                rx.text(
                    "Jobboard POSTs your jobs' events to these URLs, signed per Standard "
                    "Webhooks. Progress is sent at most every 5 s per job (and at each new "
                    "step); failed deliveries are retried 8 times over about a day and a half.",
                    size="2",
                ),
                create_form(),
                _new_secret(),
                _notices(),
                turned_off_notice(),
                rx.cond(
                    WebhooksState.webhooks.length() > 0,
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *(
                                    rx.table.column_header_cell(h)
                                    for h in ("URL", "Events", "Status", "")
                                )
                            )
                        ),
                        rx.table.body(rx.foreach(WebhooksState.webhooks, _webhook_row)),
                        variant="surface",
                        size="1",
                        width="100%",
                        id="webhook-list",
                    ),
                    rx.text(
                        "No webhooks yet.", size="2", color_scheme="gray", id="webhook-list-empty"
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="webhooks",
        ),
        _details(),
        spacing="4",
        width="100%",
    )


def webhooks_summary() -> rx.Component:
    """The Settings page's card: how many webhooks, what Jobboard turned off, the way in."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Webhooks", as_="h2", size="4"),
                link_button(
                    "Manage webhooks",
                    href="/settings/webhooks",
                    size="1",
                    variant="soft",
                    id="open-webhooks",
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.text(
                WebhooksState.webhooks.length().to_string(),
                " webhook(s). Other services can get your jobs' events as signed HTTP requests.",
                size="2",
            ),
            turned_off_notice(),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="webhooks-summary",
    )
