"""Step texts whose numbers follow the reader's locale (jobboard.core.steps): the stored text
stays neutral English for the API, every page writes the numbers in its viewer's locale, and
steps that end or fail keep (or drop) their values honestly."""

from __future__ import annotations

from typing import Any

import pytest

from jobboard.core import steps
from jobboard.core.format import use_locale
from jobboard.core.jobs import failed_progress
from jobboard.state.rows import job_row, live_entry

NBSP = "\xa0"
COMPARING = "Comparing products {done} of {total}"


def _job(progress: dict[str, Any], status: str = "processing") -> dict[str, Any]:
    return {
        "id": "j1",
        "kind": "find_duplicates",
        "title": "duplicates",
        "status": status,
        "progress_data": progress,
        "created_at": "2026-11-26T10:00:00+00:00",
        "updated_at": "2026-11-26T10:00:01+00:00",
        "version": 3,
    }


def test_the_stored_text_is_english_and_pages_write_their_locale() -> None:
    progress = steps.at_step(
        {"percentage": 40.0, "processed": 12664, "total": 300617, "unit": "products"},
        COMPARING,
        {"done": 12664, "total": 300617},
    )
    assert progress["current_step"] == "Comparing products 12,664 of 300,617"
    assert progress["step_template"] == COMPARING
    assert progress["step_values"] == {"done": 12664, "total": 300617}
    with use_locale("cs-CZ"):  # even from a Czech context the stored text stays English
        assert steps.at_step({}, COMPARING, {"done": 1234, "total": 5678})["current_step"] == (
            "Comparing products 1,234 of 5,678"
        )
        row = job_row(_job(progress))
        frame = live_entry(_job(progress))
    assert row.step == frame["step"] == f"Comparing products 12{NBSP}664 of 300{NBSP}617"
    assert row.counts == f"12{NBSP}664 / 300{NBSP}617 products"
    with use_locale("de-DE"):
        assert job_row(_job(progress)).step == "Comparing products 12.664 of 300.617"
    assert job_row(_job(progress)).step == "Comparing products 12,664 of 300,617"


def test_text_values_are_put_in_as_they_are() -> None:
    # A product title is text: a "{total}" in it is not a field, and it is not reformatted.
    values = {"n": 1200, "total": 3000, "title": "Mug {total} 1,5 l"}
    template = "Writing description {n} of {total}: {title}"
    assert (
        steps.english(template, values) == "Writing description 1,200 of 3,000: Mug {total} 1,5 l"
    )
    with use_locale("cs-CZ"):
        assert steps.render(template, values) == (
            f"Writing description 1{NBSP}200 of 3{NBSP}000: Mug {{total}} 1,5 l"
        )
    with use_locale("cs-CZ"):
        assert steps.render("Waiting {delay} s", {"delay": 2.5}) == "Waiting 2,5 s"


@pytest.mark.parametrize(
    "progress",
    [
        {"current_step": "Reading rows"},  # a plain step
        {"current_step": "Reading rows", "step_template": COMPARING, "step_values": {"done": 1}},
        {"current_step": "Reading rows", "step_template": COMPARING, "step_values": None},
        {"current_step": "Reading rows", "step_template": COMPARING, "step_values": "done=1"},
        {"current_step": "Reading rows", "step_template": 42, "step_values": {"done": 1}},
        {
            "current_step": "Reading rows",
            "step_template": COMPARING,
            "step_values": {"done": True, "total": 2},
        },
        {
            "current_step": "Reading rows",
            "step_template": COMPARING,
            "step_values": {"done": {"x": 1}, "total": [2]},
        },
    ],
)
def test_a_template_that_does_not_fill_in_shows_the_stored_text(progress: dict[str, Any]) -> None:
    with use_locale("cs-CZ"):
        assert steps.shown(progress) == "Reading rows"


def test_a_worker_mistake_is_loud() -> None:
    with pytest.raises(ValueError, match="Comparing products"):
        steps.english(COMPARING, {"done": 1})


def test_a_new_plain_step_drops_the_old_values() -> None:
    progress = steps.at_step({"percentage": 50.0}, COMPARING, {"done": 5, "total": 10})
    done = steps.at_step(progress, "Completed")
    assert done == {"percentage": 50.0, "current_step": "Completed"}
    with use_locale("cs-CZ"):
        assert job_row(_job(done, "completed")).step == "Completed"
    # A "template" without fields is plain text.
    assert steps.at_step({}, "Loading", {"n": 1}) == {"current_step": "Loading"}


def test_a_failed_step_keeps_its_numbers_as_values() -> None:
    title = "Linen Shirt — blue"  # a dash like the one that starts a retry note
    running = steps.at_step(
        {"percentage": 12.0},
        "Writing description {n} of {total}: {title} — AI provider {reason}, retrying in "
        "{delay} s (attempt {attempt} of {attempts})",
        {"n": 1203, "total": 2000, "title": title, "reason": "busy (429)", "delay": 5,
         "attempt": 2, "attempts": 4},
    )  # fmt: skip
    failed = failed_progress(running)
    assert failed["current_step"] == f"Failed while writing description 1,203 of 2,000: {title}"
    with use_locale("cs-CZ"):
        assert steps.shown(failed) == (
            f"Failed while writing description 1{NBSP}203 of 2{NBSP}000: {title}"
        )
    # Plain steps as before; a broken template falls back to the stored text's words.
    assert failed_progress({"current_step": "Importing products"}) == {
        "current_step": "Failed while importing products"
    }
    broken = {"current_step": "Comparing products 1 of 2", "step_template": COMPARING,
              "step_values": {"done": 1}}  # fmt: skip
    assert failed_progress(broken) == {"current_step": "Failed while comparing products 1 of 2"}
