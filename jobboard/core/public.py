"""A job's public shape: one typed model for the UI, REST, SSE and webhooks.

`to_public(job)` in `jobboard.core.jobs` validates a `Job` row through `JobPublic` and returns
its JSON form (`model_dump(mode="json")`), the plain dict every channel passes around.
The job's `version` (its place in the event stream) is internal: it is not part of the schema,
and the channels that need it add it next to the public fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from jobboard.core.models import JobStatus
from jobboard.core.outcome import outcome_of


class ProgressData(BaseModel):
    """How far a job is. Kinds add their own fields (`queue_position`, `elapsed`, `tokens`…);
    a step with numbers adds `step_template` and `step_values` (`jobboard.core.steps`)."""

    model_config = ConfigDict(extra="allow")

    percentage: float = 0.0
    current_step: str = ""
    processed: int | None = None
    total: int | None = None
    estimated_time_remaining: float | None = None  # seconds
    speed: float | None = None  # units of the kind (rows, products) per second


class ErrorData(BaseModel):
    """Why a job failed or stopped. `message` is for users; `details` (a traceback with
    relative paths, see `jobboard.core.errors`) is for administrators and is left out of the
    public dict unless asked for."""

    model_config = ConfigDict(extra="allow")

    message: str = ""
    details: str | None = None
    # Whether running the job again could end differently: False for causes in the input
    # itself (a file that can never import, bad parameters); None when not recorded.
    retryable: bool | None = None


class Outcome(BaseModel):
    """How the job ended, in one honest line, and which retry (if any) can help.

    See `jobboard.core.outcome`: e.g. `completed` with `result_data.skipped == 9` is labelled
    "completed · 9 skipped" with tone "warning".
    """

    label: str = ""
    tone: str = "neutral"  # neutral | active | success | warning | error | stopped
    skipped: int = 0
    failed_items: int = 0
    retryable_items: int = 0
    can_retry: bool = False
    can_retry_failed: bool = False


class JobPublic(BaseModel):
    id: str
    kind: str
    title: str
    status: JobStatus
    progress_data: ProgressData
    result_data: dict[str, Any] | None = Field(
        None,
        description=(
            "what the job produced, by kind; an upload's: imported, updated, unchanged "
            "(already in the catalog as in the file, not rewritten), skipped, errors, …"
        ),
    )
    error_data: ErrorData | None = None
    created_at: datetime
    started_at: datetime | None = None
    updated_at: datetime
    completed_at: datetime | None = None
    retry_of: str | None = Field(None, description="the job this one reruns")
    retried_by: str | None = Field(None, description="the job that reran this one")
    outcome: Outcome = Field(default_factory=Outcome, description="derived; read-only")

    @model_validator(mode="after")
    def _outcome(self) -> JobPublic:
        error = self.error_data.model_dump() if self.error_data else None
        self.outcome = Outcome(
            **outcome_of(self.status, self.result_data, error, self.retried_by).as_dict()
        )
        return self

    @field_serializer("created_at", "started_at", "updated_at", "completed_at")
    def _iso(self, value: datetime | None) -> str | None:
        # `datetime.isoformat()`, as before the model: "+00:00", not pydantic's "Z".
        return value.isoformat() if value else None
