"""What the store hands out and takes in: frozen dataclasses, never ORM objects.

Records are plain immutable values, detached from any session: safe to pass from a worker thread
to the GUI thread, to pickle into another process, or to keep after the database is closed.
Nothing is lazy-loaded behind the caller's back; a record holds everything it shows.
Timestamps are timezone-aware UTC. `to_dict()` gives JSON-ready dicts (ISO 8601 timestamps).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


class _Record:
    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipSpec:
    """A shot to store: frames [start_frame, end_frame) of a source."""

    start_frame: int
    end_frame: int
    thumbnail_path: str | None = None


@dataclass(frozen=True)
class PrelabelSpec:
    """A machine suggestion for one axis of a clip (`axis` is framing, angle or movement)."""

    axis: str
    key: str
    confidence: float | None = None
    rank: int = 0
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class ClipFilter:
    """Which clips `clips.list/count/ids` return; every field narrows (AND), None ignores it.

    - stage: one stage or several;
    - annotator: clips labelled by this annotator (`unlabelled_by`: not yet labelled by them);
    - label_key: some human label of the clip uses this class key (framing, angle or a movement);
    - prelabel_key / prelabel_axis / min_confidence / max_confidence: the clip has a pre-label
      matching all of those given (e.g. max_confidence=0.5 for uncertain suggestions);
    - min_annotators: clips with at least that many human labels (agreement, verify queue);
    - prelabels_disagree: clips on which two pre-labellers (origins) put different first choices on
      the same axis (e.g. CameraCLIP's tracking against the motion estimator's static).
    """

    stage: str | tuple[str, ...] | None = None
    source_id: int | None = None
    annotator: str | None = None
    unlabelled_by: str | None = None
    label_key: str | None = None
    prelabel_key: str | None = None
    prelabel_axis: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    min_annotators: int | None = None
    prelabels_disagree: bool | None = None
    ids: tuple[int, ...] | None = None


# -- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRecord(_Record):
    id: int
    path: str
    display_name: str
    content_sha256: str
    size_bytes: int
    fingerprint_kind: str | None
    fingerprint: str | None
    frames: int | None
    fps: float | None
    width: int | None
    height: int | None
    codec: str | None
    duration_s: float | None
    probe: dict[str, Any] | None
    imported_at: datetime


@dataclass(frozen=True)
class LabelRecord(_Record):
    id: int
    clip_id: int
    annotator: str
    framing: str | None
    angle: str | None
    movements: tuple[str, ...]
    caption: str | None
    created_at: datetime
    updated_at: datetime

    def axes(self) -> dict[str, Any]:
        """The label's content: framing, angle, movements (list), caption."""
        return {"framing": self.framing, "angle": self.angle, "movements": list(self.movements),
                "caption": self.caption}


@dataclass(frozen=True)
class PrelabelRecord(_Record):
    id: int
    clip_id: int
    axis: str
    key: str
    confidence: float | None
    origin: str
    model_id: str | None
    rank: int
    details: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class ReviewRecord(_Record):
    id: int
    clip_id: int
    reviewer: str
    decision: str
    reason: str | None
    framing: str | None
    angle: str | None
    movements: tuple[str, ...]
    caption: str | None
    label_id: int | None
    created_at: datetime

    def axes(self) -> dict[str, Any]:
        """The verified label (empty for a rejection)."""
        return {"framing": self.framing, "angle": self.angle, "movements": list(self.movements),
                "caption": self.caption}


@dataclass(frozen=True)
class ClipRecord(_Record):
    id: int
    source_id: int
    start_frame: int
    end_frame: int
    thumbnail_path: str | None
    stage: str
    created_at: datetime
    updated_at: datetime
    labels: tuple[LabelRecord, ...] = ()
    prelabels: tuple[PrelabelRecord, ...] = ()
    review: ReviewRecord | None = None  # the latest review; its label is the verified one
    details_loaded: bool = field(default=False, compare=False)

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame

    def label_by(self, annotator: str) -> LabelRecord | None:
        return next((lab for lab in self.labels if lab.annotator == annotator), None)


@dataclass(frozen=True)
class AuditRecord(_Record):
    id: int
    at: datetime
    actor: str
    entity_type: str
    entity_id: str
    action: str
    before: Any
    after: Any


@dataclass(frozen=True)
class JobRecord(_Record):
    id: int
    kind: str
    state: str
    config: dict[str, Any]
    run_dir: str | None
    device: str
    pid: int | None
    host: str | None
    progress_done: int
    progress_total: int | None
    message: str | None
    error: str | None
    result: dict[str, Any] | None
    checkpoint_step: int | None
    cancel_requested: bool
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    updated_at: datetime

    @property
    def is_finished(self) -> bool:
        return self.state in ("succeeded", "failed", "cancelled")
